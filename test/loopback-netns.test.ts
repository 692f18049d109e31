/**
 * A machine whose only network is loopback (docs/networking.md): run inside a fresh network
 * namespace with nothing but `lo` up (scripts/loopback-check.ts does the work; this test makes
 * and removes the namespace). Needs root and iproute2 — CI runs as root here; elsewhere each
 * test is skipped with the reason.
 *
 * - the session core + engine with a wrtc camera: ICE over 127.0.0.1, frames flow;
 * - the page in Chromium with --allow-loopback-in-peer-connection (what the desktop app sets):
 *   the mirror goes live;
 * - the page in Chromium as it is: it finds no ICE candidate at all, and says so ("no-network")
 *   instead of a black mirror.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { buildRenderer, ROOT } from './helpers/build-renderer.js';

const run = promisify(execFile);
const NS = `mm-lo-test-${process.pid}`;
let skip: string | false = false;

before(async () => {
  if (process.getuid?.() !== 0) {
    skip = 'needs root (ip netns)';
    return;
  }
  try {
    await run('ip', ['netns', 'add', NS]);
    await run('ip', ['netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up']);
  } catch (err) {
    skip = `cannot make a network namespace: ${(err as Error).message.split('\n')[0]}`;
    return;
  }
  await buildRenderer();
});

after(async () => {
  if (!skip) await run('ip', ['netns', 'delete', NS]).catch(() => undefined);
});

async function check(mode: string, seconds: number): Promise<Record<string, unknown>> {
  const { stdout } = await run('ip', ['netns', 'exec', NS, process.execPath, '--import', 'tsx', 'scripts/loopback-check.ts', mode, String(seconds)], {
    cwd: ROOT,
    env: { ...process.env, MM_SKIP_BUILD: '1' },
    timeout: 90_000,
  });
  const line = stdout.trim().split('\n').at(-1)!;
  return JSON.parse(line) as Record<string, unknown>;
}

test('loopback only: engine + session core + wrtc camera connect over 127.0.0.1 and frames flow', async (t) => {
  if (skip) return t.skip(skip);
  const r = await check('node', 30);
  t.diagnostic(JSON.stringify(r));
  assert.deepEqual(r.interfaces, ['lo:127.0.0.1,::1'], 'nothing but loopback in the namespace');
  assert.equal(r.iceConnected, true);
  assert.ok((r.framesReceived as number) >= 30);
  assert.ok((r.pageCandidates as string[]).includes('127.0.0.1 udp host'));
});

test('loopback only: the page in Chromium with --allow-loopback-in-peer-connection goes live', async (t) => {
  if (skip) return t.skip(skip);
  const r = await check('chromium-loopback', 30);
  t.diagnostic(JSON.stringify(r));
  assert.equal(r.live, true, JSON.stringify(r));
  assert.ok((r.pageCandidates as string[]).includes('127.0.0.1 udp host'));
});

test('loopback only: Chromium without it gathers nothing, and the page says so (no-network)', async (t) => {
  if (skip) return t.skip(skip);
  const r = await check('chromium', 20);
  t.diagnostic(JSON.stringify(r));
  assert.equal(r.live, false);
  assert.deepEqual(r.pageCandidates, []);
  assert.equal(r.problem, 'no-network');
  assert.equal(r.problemShown, true);
});
