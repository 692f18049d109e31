/**
 * `npm run bench -- --failover N`: a pool of three engine processes (main/kms/server-pool.ts)
 * with kiosk pages (wrtc cameras, test/helpers/recovering-page.ts) through the session core,
 * as web mode runs them. N times: the engine holding the most pipelines is SIGKILLed; for each
 * of its mirrors, the time from the kill to frames flowing again on another server; then the
 * engine is started again on its port and the pool must see it up before the next kill.
 * A mirror not flowing again within LOST_AFTER_MS counts as lost.
 */
import { parseClientMessage } from '../common/mirror-protocol.js';
import { startEngine, type EngineProcess } from '../engine/start.js';
import { HatServer } from '../main/hats/hat-server.js';
import { KmsRegistry } from '../main/kms/kms-registry.js';
import { MediaServerPool } from '../main/kms/server-pool.js';
import { MirrorSession } from '../main/mirror/session.js';
import { engineCounts } from '../test/helpers/engine-counts.js';
import { makeHatDir } from '../test/helpers/hat-fixture.js';
import { RecoveringPage } from '../test/helpers/recovering-page.js';
import { waitFor } from '../test/helpers/wait.js';
import { percentile, round } from './stats.js';
import { freePort } from '../test/helpers/free-port.js';

export interface FailoverKill {
  server: string;
  /** Mirrors it held, and how long each took to show frames again on another server (ms). */
  moved: number;
  timesMs: number[];
  lost: number;
}

export interface FailoverResult {
  servers: number;
  mirrors: number;
  kills: FailoverKill[];
  timesMs: { p50: number | null; p95: number | null; max: number | null; n: number };
  lost: number;
}

const LOST_AFTER_MS = 20_000;
const SERVERS = 3;
const MIRRORS = 6;
const quiet = () => {};

export async function measureFailover(o: { kills: number; log?: (line: string) => void }): Promise<FailoverResult> {
  const log = o.log ?? quiet;
  const ports = await Promise.all(Array.from({ length: SERVERS }, freePort));
  const engines: EngineProcess[] = await Promise.all(ports.map((port) => startEngine({ port, secret: false, log: quiet })) /* restarted at the same address, like a KMS */);
  const hatDir = await makeHatDir();
  const hats = await HatServer.start({ dir: hatDir.dir });
  const hatUri = await hats.uriFor(undefined, engines[0]!.uri);
  const registry = new KmsRegistry({ log: quiet, timeouts: { callMs: 2000 } });
  // Room for every mirror on two servers.
  const pool = new MediaServerPool(engines.map((e) => e.uri), registry, { cap: MIRRORS, log: (line) => log(`pool: ${line}`) });
  const pages: { page: RecoveringPage; session: MirrorSession }[] = [];
  const kills: FailoverKill[] = [];
  try {
    for (let i = 0; i < MIRRORS; i++) {
      let page!: RecoveringPage;
      const session = new MirrorSession({ connect: () => pool.place(), failover: (kms) => pool.canTakeOver(kms), hatUri, send: (m) => page.receive(m) });
      page = new RecoveringPage((m) => void session.handle(parseClientMessage(JSON.stringify(m))!));
      pages.push({ page, session });
      page.begin();
    }
    await Promise.all(pages.map(({ page }) => page.waitLive(1, 90_000)));
    for (let k = 0; k < o.kills; k++) {
      const counts = await Promise.all(engines.map(async (e) => (await engineCounts(e.uri)).pipelines));
      const victim = counts.indexOf(Math.max(...counts));
      const killedAt = performance.now();
      process.kill(engines[victim]!.pid, 'SIGKILL');
      await waitFor(() => pages.filter(({ page }) => failedOverSince(page, killedAt)).length >= counts[victim]!, 10_000, `the ${counts[victim]} mirrors of the killed server told to fail over`).catch(() => undefined);
      const moved = pages.filter(({ page }) => failedOverSince(page, killedAt));
      const times = await Promise.all(
        moved.map(({ page }) => page.waitLive(page.attempt, LOST_AFTER_MS).then((t) => Math.round(t - killedAt), () => null)),
      );
      const kill: FailoverKill = { server: engines[victim]!.uri, moved: counts[victim]!, timesMs: times.filter((t): t is number => t !== null), lost: counts[victim]! - times.filter((t) => t !== null).length };
      kills.push(kill);
      log(`failover ${k + 1}/${o.kills}: ${kill.server} (${kill.moved} mirrors) → frames again after ${kill.timesMs.join(', ')} ms${kill.lost ? `, ${kill.lost} LOST` : ''}`);
      engines[victim] = await startEngine({ port: ports[victim], secret: false, log: quiet });
      await waitFor(() => pool.view()[victim]!.state === 'up', 15_000, 'the restarted server up again');
    }
  } finally {
    await Promise.all(pages.map(async ({ page, session }) => {
      await page.close();
      await session.close();
    }));
    await pool.close();
    await registry.close();
    await Promise.all(engines.map((e) => e.close()));
    await hats.close();
    await hatDir.remove();
  }
  const all = kills.flatMap((k) => k.timesMs);
  return {
    servers: SERVERS,
    mirrors: MIRRORS,
    kills,
    timesMs: { p50: round(percentile(all, 50)), p95: round(percentile(all, 95)), max: all.length ? Math.max(...all) : null, n: all.length },
    lost: kills.reduce((s, k) => s + k.lost, 0),
  };
}

function failedOverSince(page: RecoveringPage, t: number): boolean {
  return page.log.some((e) => e.t >= t && e.what.startsWith('failover'));
}
