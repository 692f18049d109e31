/**
 * A pool's failover as a person sees it (issue 13): web mode with two engine processes in its
 * --ws_uri list, the real page in headless Chromium with a face as its camera. The engine the
 * mirror runs on is SIGKILLed: the page says "Reconnecting…", then shows the hatted mirror
 * again from the other engine — by itself, without a reload.
 */
import assert from 'node:assert/strict';
import { withoutEngineSecret } from '../common/kms-uri.js';
import { after, before, test } from 'node:test';
import { startEngine, type EngineProcess } from '../engine/start.js';
import { startWebMode, type WebMode } from '../main/web/web-mode.js';
import { buildRenderer } from './helpers/build-renderer.js';
import { launchChromium, type ChromiumHandle } from './helpers/chromium.js';
import { engineCounts } from './helpers/engine-counts.js';
import { waitForHatWhere } from './helpers/hat-region.js';
import { makeY4m } from './helpers/video-fixtures.js';
import { waitFor } from './helpers/wait.js';

let chromium: ChromiumHandle;
let engines: EngineProcess[] = [];
let web: WebMode | undefined;

before(async () => {
  await buildRenderer();
  chromium = await launchChromium({ fakeVideo: await makeY4m({ background: 'face' }) });
  engines = await Promise.all([0, 1].map(() => startEngine({ log: () => undefined })));
});
after(async () => {
  await chromium?.close();
  await web?.close();
  await Promise.all(engines.map((e) => e.close()));
});

test('the engine under a running mirror is SIGKILLed: "Reconnecting…", then the mirror again from the other, no reload', { timeout: 120_000 }, async (t) => {
  const lines: string[] = [];
  web = await startWebMode({ asUri: 'http://127.0.0.1:0', wsUri: engines.map((e) => e.uri), log: (l) => lines.push(l), engineLog: () => undefined });
  const page = await chromium.page(web.url);
  // Every status text the page shows, in order, and a mark a reload would wipe.
  await page.evaluate(() => {
    const w = window as unknown as { __statuses: string[]; __loaded: number };
    w.__loaded = Math.random();
    w.__statuses = [];
    const text = document.querySelector('#status-text')!;
    new MutationObserver(() => w.__statuses.push(text.textContent ?? '')).observe(text, { childList: true, characterData: true, subtree: true });
  });
  const mark = await page.evaluate(() => (window as unknown as { __loaded: number }).__loaded);
  await page.locator('#start-stop').click();
  // The face background: KMS's hat spans about x 203–365, y 0–97 (mirror-e2e.test.ts).
  const hatOnFace = (b: { x0: number; x1: number }) => Math.abs((b.x0 + b.x1) / 2 - 284) <= 40;
  await waitForHatWhere(page, hatOnFace, 'the hat on the face', 40_000);

  const counts = await Promise.all(engines.map(async (e) => (await engineCounts(e.uri)).pipelines));
  const victim = counts.indexOf(1);
  assert.ok(victim >= 0, `one engine holds the mirror (${counts.join('/')})`);
  const killedAt = performance.now();
  process.kill(engines[victim]!.pid, 'SIGKILL');
  await page.waitForFunction(() => (window as unknown as { __statuses: string[] }).__statuses.includes('Reconnecting…'), undefined, { timeout: 15_000 });
  await page.waitForFunction(
    () => {
      const s = (window as unknown as { __statuses: string[] }).__statuses;
      return s.lastIndexOf('Mirror is live') > s.indexOf('Reconnecting…');
    },
    undefined,
    { timeout: 20_000 },
  );
  const liveMs = Math.round(performance.now() - killedAt);
  await waitForHatWhere(page, hatOnFace, 'the hat on the face again', 20_000);
  const survivor = engines[1 - victim]!;
  assert.equal((await engineCounts(survivor.uri)).pipelines, 1, 'the mirror now runs on the other engine');
  assert.equal(await page.evaluate(() => (window as unknown as { __loaded: number }).__loaded), mark, 'the page was not reloaded');
  const shown = await page.evaluate(() => (window as unknown as { __statuses: string[] }).__statuses);
  t.diagnostic(`SIGKILL → "Mirror is live" again: ${liveMs} ms; statuses after Start: ${[...new Set(shown)].join(' → ')}`);
  assert.ok(lines.some((l) => l.includes('is down')), 'the failure is logged');
  assert.ok(!shown.includes('Mirror stopped'), 'no dead end on the way');

  // The stats overlay names the server the mirror runs on, and each server's state.
  await page.locator('#stats-toggle').click();
  // Each named by host and port: the engines' per-launch secrets are not shown to the page.
  const host = (uri: string) => withoutEngineSecret(uri).replace(/^ws:\/\//, '').replace(/\/kurento$/, '');
  await page.waitForFunction((h) => document.querySelector('#stats')?.textContent?.includes(h), host(survivor.uri), { timeout: 5000 });
  const overlay = (await page.locator('#stats').textContent()) ?? '';
  t.diagnostic(`stats overlay: ${overlay}`);
  for (const e of engines) assert.ok(!overlay.includes(e.uri.split('/').pop()!), 'no secret in the overlay');
  assert.match(overlay, new RegExp(`${host(survivor.uri)} up, 1 mirror`));
  assert.match(overlay, new RegExp(`${host(engines[victim]!.uri)} down`));
  await page.waitForTimeout(2500); // two samples: the overlay's rates and fps are filled in
  await page.screenshot({ path: new URL('../docs/pool-stats.png', import.meta.url).pathname });

  await page.locator('#start-stop').click();
  await waitFor(async () => (await engineCounts(survivor.uri)).pipelines === 0, 5000, 'pipeline released after Stop');
  await page.context().close();
});
