/**
 * Auto-recovery against the real engine: a kiosk page (RecoveringPage: a wrtc camera driven by
 * common/recovery.ts, as renderer/kiosk.ts drives the real page) through the session core.
 *
 * - The built-in engine's process is SIGKILLed mid-session: the session core reports kms-lost,
 *   the page starts again after its backoff, that start brings up a new engine, frames flow.
 * - A media server goes away and comes back on the same port: the page keeps retrying (kms-lost,
 *   then kms-unreachable) until it is back, then frames flow; the new server holds exactly the
 *   one pipeline of the running mirror (none leaked by the failed attempts), none after Stop.
 *
 * The measured recovery times are printed (t.diagnostic) and bounded generously.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseClientMessage } from '../common/mirror-protocol.js';
import { startEngine, type EngineProcess } from '../engine/start.js';
import { HatServer } from '../main/hats/hat-server.js';
import { KmsRegistry } from '../main/kms/kms-registry.js';
import { MirrorSession } from '../main/mirror/session.js';
import { engineCounts } from './helpers/engine-counts.js';
import { makeHatDir } from './helpers/hat-fixture.js';
import { exitAfterTests } from './helpers/process-exit.js';
import { RecoveringPage } from './helpers/recovering-page.js';
import { waitFor } from './helpers/wait.js';
import { freePort } from './helpers/free-port.js';

exitAfterTests();

const quiet = () => {};
/** Generous: the measured times are ~3–10 s on this project's 2-core machines. */
const RECOVERY_BOUND_MS = 45_000;

async function kioskMirror(connect: ConstructorParameters<typeof MirrorSession>[0]['connect'], hatUri: string) {
  let page!: RecoveringPage;
  const session = new MirrorSession({ connect, hatUri, send: (m) => page.receive(m) });
  page = new RecoveringPage((m) => void session.handle(parseClientMessage(JSON.stringify(m))!));
  return {
    page,
    session,
    async close() {
      await page.close();
      await session.close();
    },
  };
}

test('engine process SIGKILLed mid-session: a new engine starts and the mirror runs again', async (t) => {
  const hatDir = await makeHatDir();
  const hats = await HatServer.start({ dir: hatDir.dir });
  const registry = new KmsRegistry({ log: quiet, engineLog: quiet });
  const m = await kioskMirror(() => registry.get('builtin'), await hats.uriFor(undefined, 'builtin'));
  try {
    m.page.begin();
    await m.page.waitLive(1, 60_000);
    const first = await registry.engine.start();
    assert.equal((await engineCounts(first.uri)).pipelines, 1);

    const killedAt = performance.now();
    process.kill(first.pid, 'SIGKILL');
    const liveAt = await m.page.waitLive(2, RECOVERY_BOUND_MS);
    const second = await registry.engine.start();
    const recoveryMs = Math.round(liveAt - killedAt);
    t.diagnostic(`engine SIGKILL → frames flowing again: ${recoveryMs} ms (attempts: ${m.page.attempt - 1}; ${describeLog(m.page, killedAt)})`);
    assert.notEqual(second.pid, first.pid, 'a new engine process');
    assert.ok(recoveryMs < RECOVERY_BOUND_MS);
    assert.equal((await engineCounts(second.uri)).pipelines, 1, 'exactly the running mirror');
    await m.close();
    await waitFor(async () => (await engineCounts(second.uri)).pipelines === 0, 5000, 'pipeline released after stop');
  } finally {
    await m.close();
    await registry.close();
    await hats.close();
    await hatDir.remove();
  }
});

test('media server goes away and comes back on the same port: retried with backoff, mirror resumes, nothing leaked', async (t) => {
  const port = await freePort();
  // secret: false — a KMS that restarts keeps its address; an engine with a secret would not.
  let kms: EngineProcess = await startEngine({ port, secret: false, log: quiet });
  const hatDir = await makeHatDir();
  const hats = await HatServer.start({ dir: hatDir.dir });
  // Default timeouts but a short call timeout: kurento-jsonrpc keeps a timer per request sent to
  // the dead server for that long, which would outlive the test (see mirror-session.test.ts).
  const registry = new KmsRegistry({ log: quiet, timeouts: { callMs: 2000 } });
  const m = await kioskMirror(() => registry.get(kms.uri), await hats.uriFor(undefined, kms.uri));
  try {
    m.page.begin();
    await m.page.waitLive(1, 60_000);

    const goneAt = performance.now();
    await kms.close();
    const attemptsBefore = m.page.attempt;
    // Down long enough for the page to retry against a dead server at least once.
    await waitFor(() => m.page.log.some((e) => e.t > goneAt && e.what.startsWith('start #')), 40_000, 'a retry while the media server is down');
    const downMs = Math.round(performance.now() - goneAt);
    kms = await startEngine({ port, secret: false, log: quiet });
    const backAt = performance.now();
    const liveAt = await m.page.waitLive(attemptsBefore + 1, RECOVERY_BOUND_MS);
    const afterBackMs = Math.round(liveAt - backAt);
    t.diagnostic(
      `media server down ${downMs} ms; back → frames flowing again: ${afterBackMs} ms (gone → flowing ${Math.round(liveAt - goneAt)} ms; ` +
        `retries: ${m.page.attempt - attemptsBefore}; ${describeLog(m.page, goneAt)})`,
    );
    assert.ok(afterBackMs < RECOVERY_BOUND_MS);
    // The page said so at once (its "Reconnecting…" card), not only when the session ended.
    const told = m.page.log.find((e) => e.t > goneAt && e.what === 'problem kms-lost');
    assert.ok(told && told.t - goneAt < 3000, `kms-lost reported ${told ? Math.round(told.t - goneAt) : '(never)'} ms after the media server went`);
    const counts = await engineCounts(kms.uri);
    assert.equal(counts.pipelines, 1, 'the new media server holds only the running mirror');
    assert.equal(counts.objects, 3, 'pipeline, endpoint, filter: nothing from the failed attempts');
    await m.close();
    await waitFor(async () => (await engineCounts(kms.uri)).pipelines === 0, 5000, 'pipeline released after stop');
    assert.equal((await engineCounts(kms.uri)).peerConnections, 0);
  } finally {
    await m.close();
    await registry.close();
    await kms.close();
    await hats.close();
    await hatDir.remove();
  }
});

function describeLog(page: RecoveringPage, since: number): string {
  return page.log
    .filter((e) => e.t >= since)
    .map((e) => `+${Math.round(e.t - since)} ms ${e.what}`)
    .join(', ');
}
