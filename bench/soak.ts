/**
 * `npm run soak -- [--cycles 500] [--fuzz 10] [--seed N] [--kms ws://… [--kms-pid PID]]
 *   [--warmup 25] [--width 320 --height 240] [--grace-ms 300] [--pipeline mirror|loopback]
 *   [--engine-arg <node flag>]… [--engine-log] [--json out.json] [--quiet]`
 *
 * N start/stop cycles of the real mirror pipeline (WebRtcEndpoint → FaceOverlayFilter with the
 * hat → endpoint, media both ways): most stopped by the app (pipeline.release()), every fifth
 * abandoned (client socket dropped, left to the server's grace period) — plus, every cycle, a
 * batch of mutated JSON-RPC messages (test/helpers/rpc-fuzz.ts) on a connection of its own,
 * whose answers are checked (one per request id). Then, once the server has settled: leaked
 * pipelines / objects / peer connections (ServerManager), file descriptors and UDP sockets
 * (/proc, against a baseline taken after one warm-up cycle), RSS before/after, errors, and
 * whether a normal session (hat + fps) still works.
 *
 * --pipeline loopback (endpoint.connect(endpoint), no filter) and --engine-arg (e.g.
 * --engine-arg=--expose-gc, --engine-arg=--heapsnapshot-signal=SIGUSR2) help bisect a leak.
 *
 * RSS: the baseline is taken after --warmup cycles (default 25; allocator pools and V8 heaps
 * grow to their working size first); the report also gives the least-squares trend of RSS
 * over the counted cycles (a leak shows as a slope) and the growth since the first cycle. RSS
 * swings ±10 MB between cycles (frame buffers in flight), so the target is judged on the median
 * of the last tenth of the cycles minus the median of the first tenth; before → after is printed too.
 *
 * Exit code: 0 all good; 1 something leaked; 2 no leak but cycles failed or the session
 * afterwards did not work. The embedded engine runs with a 300 ms grace period (--grace-ms) so
 * abandoned sessions go within a cycle or two; with --kms the server's own setting applies.
 */
import { writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { FakeCameraPeer } from '../test/helpers/fake-camera-peer.js';
import { kurentoClient } from '../test/helpers/kurento.js';
import { newFdKinds, processResources, steadyResources } from '../test/helpers/engine-counts.js';
import { fuzzBatch, prng } from '../test/helpers/rpc-fuzz.js';
import { waitFor } from '../test/helpers/wait.js';
import { measureStarts, runSessions } from './measure.js';
import { cpuSeconds, rssMb } from './proc.js';
import { machineInfo, openServer, type ServerUnderTest } from './server.js';
import { openSession, type PipelineKind } from './session.js';
import { percentile, round } from './stats.js';
import { renderTable } from './table.js';

export const RSS_GROWTH_TARGET_MB = 20;

interface Snapshot {
  pipelines: number;
  objects: number | null;
  peerConnections: number | null;
  sessions: number | null;
  fds: number | null;
  udpSockets: number | null;
  threads: number | null;
  rssMb: number | null;
  fdKinds: string[];
}

export interface SoakResult {
  tool: 'magic-mirror-soak';
  version: 1;
  date: string;
  machine: ReturnType<typeof machineInfo>;
  server: { kind: 'embedded' | 'external'; uri: string; pid: number | null };
  options: { cycles: number; warmupCycles: number; fuzzPerCycle: number; seed: number; width: number; height: number; graceMs: number; pipeline: PipelineKind; engineArgs: string[] };
  cycles: { done: number; released: number; abandoned: number; failed: number; seconds: number; perSecond: number };
  fuzz: { messages: number; requests: number; replyMismatches: number; malformedErrors: number; parseErrors: number };
  errors: Array<{ message: string; count: number }>;
  before: Snapshot;
  after: Snapshot;
  leaks: { pipelines: number; objects: number; peerConnections: number; fds: number; udpSockets: number; total: number; newFds: string[] };
  rss: {
    /** After the first (warm-up) cycle. */
    firstCycleMb: number | null;
    /** After all warm-up cycles: the baseline. */
    beforeMb: number | null;
    afterMb: number | null;
    /** after − before: two single readings, each within RSS's swing between cycles (±10 MB). */
    growthMb: number | null;
    /**
     * Median RSS over the last tenth of the counted cycles minus the median over the first
     * tenth (at least 3 samples each): growth with the swing averaged out. The target is judged on it.
     */
    growthMediansMb: number | null;
    /** How many cycles each median covers. */
    medianCycles: number | null;
    /** after − firstCycle (includes the warm-up to the working size). */
    growthSinceFirstCycleMb: number | null;
    /** Least-squares slope of RSS sampled after every counted cycle: a leak shows here. */
    slopeMbPer100Cycles: number | null;
    targetMb: number;
    met: boolean | null;
  };
  engineCpuSeconds: number | null;
  afterwards: { works: boolean; hatMs: number | null; fps: number | null; latencyP50Ms: number | null; error?: string };
  exitCode: number;
}

function parse() {
  const { values } = parseArgs({
    options: {
      cycles: { type: 'string', default: '500' },
      fuzz: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '25' },
      seed: { type: 'string' },
      kms: { type: 'string' },
      'kms-pid': { type: 'string' },
      'hat-url': { type: 'string' },
      width: { type: 'string', default: '320' },
      height: { type: 'string', default: '240' },
      'grace-ms': { type: 'string', default: '300' },
      pipeline: { type: 'string', default: 'mirror' },
      'engine-arg': { type: 'string', multiple: true, default: [] },
      json: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      'engine-log': { type: 'boolean', default: false },
    },
  });
  const n = (v: string, name: string) => {
    const x = Number(v);
    if (!Number.isFinite(x) || x < 0) throw new Error(`--${name} must be a number ≥ 0, got "${v}"`);
    return Math.round(x);
  };
  if (values.pipeline !== 'mirror' && values.pipeline !== 'loopback') throw new Error(`--pipeline must be mirror or loopback, got "${values.pipeline}"`);
  return {
    pipeline: values.pipeline as PipelineKind,
    engineArgs: values['engine-arg'],
    cycles: n(values.cycles, 'cycles'),
    fuzz: n(values.fuzz, 'fuzz'),
    warmup: n(values.warmup, 'warmup'),
    seed: values.seed !== undefined ? n(values.seed, 'seed') : Date.now() % 1_000_000,
    kms: values.kms,
    kmsPid: values['kms-pid'] ? n(values['kms-pid'], 'kms-pid') : undefined,
    hatUrl: values['hat-url'],
    width: n(values.width, 'width'),
    height: n(values.height, 'height'),
    graceMs: n(values['grace-ms'], 'grace-ms'),
    json: values.json,
    quiet: values.quiet,
    engineLog: values['engine-log'],
  };
}

async function snapshot(server: ServerUnderTest): Promise<Snapshot> {
  const counts = await server.counts();
  // After the count queries: their own connections close asynchronously on the server side.
  const res = server.pid ? await steadyResources(server.pid).catch(() => undefined) : undefined;
  return {
    pipelines: (await server.pipelines()).length,
    objects: counts?.objects ?? null,
    peerConnections: counts?.peerConnections ?? null,
    sessions: counts?.sessions ?? null,
    fds: res?.fds ?? null,
    udpSockets: res?.udpSockets ?? null,
    threads: res?.threads ?? null,
    rssMb: server.pid ? round(rssMb(server.pid), 1) : null,
    fdKinds: res?.fdKinds ?? [],
  };
}

/** Least-squares slope of y over x. */
function slope(points: Array<[number, number]>): number {
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) (num += (x - mx) * (y - my)), (den += (x - mx) ** 2);
  return den ? num / den : 0;
}

function safeResources(pid: number) {
  try {
    return processResources(pid);
  } catch {
    return undefined;
  }
}

/** Waits for the server to be back to baseline (sockets and threads of closed peers go asynchronously). */
async function settle(server: ServerUnderTest, baseline?: Snapshot): Promise<void> {
  const quiet = (p: Promise<void>) => p.catch(() => undefined);
  await quiet(waitFor(async () => (await server.pipelines()).length === 0, 15_000, 'pipelines released'));
  await quiet(waitFor(async () => ((await server.counts())?.objects ?? 0) === 0, 15_000, 'objects released'));
  await quiet(waitFor(async () => ((await server.counts())?.peerConnections ?? 0) === 0, 15_000, 'peer connections closed'));
  if (baseline && server.pid) {
    await quiet(waitFor(() => (safeResources(server.pid!)?.udpSockets ?? 0) <= (baseline.udpSockets ?? Infinity), 10_000, 'UDP sockets closed'));
    await quiet(waitFor(() => (safeResources(server.pid!)?.fds ?? 0) <= (baseline.fds ?? Infinity), 10_000, 'fds closed'));
  }
}

/** One start/stop cycle: media both ways (a few counters back), then release or abandon. */
async function cycle(server: ServerUnderTest, kind: PipelineKind, abandon: boolean, cam: { width: number; height: number }, graceMs: number): Promise<void> {
  const client = await kurentoClient(server.uri);
  const peer = new FakeCameraPeer({ background: 'face', width: cam.width, height: cam.height, fps: 30, keepFrames: 1 });
  try {
    await peer.start();
    const session = await openSession(client, peer, kind, server.hatUrl);
    try {
      await peer.received.waitForCounters(5, 15_000);
    } catch (err) {
      await session.release().catch(() => undefined);
      throw err;
    }
    if (abandon) {
      // The engine's grace period plus margin; a real KMS may keep abandoned pipelines far longer.
      if (!(await session.abandon(client, () => server.pipelines(), graceMs + 5000))) {
        throw new Error('abandoned pipeline not released after the grace period');
      }
    } else {
      await session.release();
    }
  } finally {
    peer.close();
    client.close();
  }
}

async function main(): Promise<number> {
  let o: ReturnType<typeof parse>;
  try {
    o = parse();
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  const log = o.quiet ? () => undefined : (line: string) => console.error(`[soak] ${line}`);
  const machine = machineInfo();
  const server = await openServer({
    kms: o.kms,
    kmsPid: o.kmsPid,
    hatUrl: o.hatUrl,
    graceMs: o.graceMs,
    nodeArgs: o.engineArgs,
    log: o.engineLog ? (line) => console.error(line) : undefined,
  });
  const cam = { width: o.width, height: o.height };
  const errors = new Map<string, number>();
  const addError = (m: string) => errors.set(m, (errors.get(m) ?? 0) + 1);
  const fuzzTotals = { messages: 0, requests: 0, replyMismatches: 0, malformedErrors: 0, parseErrors: 0 };
  const counts = { done: 0, released: 0, abandoned: 0, failed: 0 };
  let before: Snapshot;
  let after: Snapshot;
  let seconds = 0;
  let engineCpu: number | null = null;
  let afterwards: SoakResult['afterwards'] = { works: false, hatMs: null, fps: null, latencyP50Ms: null };
  let firstRss: number | null = null;
  const rssSamples: Array<[number, number]> = [];
  try {
    log(`server ${server.uri}${server.pid ? ` (pid ${server.pid})` : ''}; ${o.cycles} cycles, ${o.fuzz} fuzz messages each, seed ${o.seed}`);
    const rand = prng(o.seed);
    const oneCycle = async (i: number): Promise<void> => {
      const abandon = i % 5 === 0;
      try {
        await cycle(server, o.pipeline, abandon, cam, o.graceMs);
        if (i > 0) abandon ? counts.abandoned++ : counts.released++;
      } catch (err) {
        if (i > 0) counts.failed++;
        addError(`cycle${i > 0 ? '' : ' (warm-up)'}: ${(err as Error).message}`);
      }
      if (o.fuzz > 0) {
        try {
          const r = await fuzzBatch(server.uri, rand, o.fuzz, { settleMs: 50, timeoutMs: 15_000 });
          if (i > 0) {
            // Totals count the measured cycles only (errors count everywhere).
            fuzzTotals.messages += o.fuzz;
            fuzzTotals.requests += r.expected.size;
            fuzzTotals.replyMismatches += r.mismatches.length;
            fuzzTotals.malformedErrors += r.malformedErrors.length;
            fuzzTotals.parseErrors += r.parseErrors;
          }
          for (const m of r.mismatches) addError(`fuzz: request id ${String(m.id)} got ${m.replies} replies, expected ${m.expected}`);
          for (const e of r.malformedErrors) addError(`fuzz: malformed error reply ${JSON.stringify(e).slice(0, 200)}`);
        } catch (err) {
          addError(`fuzz: ${(err as Error).message}`);
        }
      }
    };

    // Warm-up (not counted): the first peer connection starts libwebrtc's threads and sockets
    // for good and the first filter loads the face detector; over the next cycles the
    // allocator's pools and V8's heaps grow to their working size. The baseline comes after.
    await oneCycle(0);
    await settle(server);
    firstRss = server.pid ? round(rssMb(server.pid), 1) : null;
    for (let w = 1; w < o.warmup; w++) await oneCycle(0);
    await settle(server);
    await new Promise((r) => setTimeout(r, 1000));
    before = await snapshot(server);
    log(`baseline after ${Math.max(1, o.warmup)} warm-up cycle(s): ${JSON.stringify(before)} (RSS after the first: ${firstRss} MB)`);

    const cpu0 = server.pid ? cpuSeconds(server.pid) : NaN;
    const t0 = performance.now();
    for (let i = 1; i <= o.cycles; i++) {
      await oneCycle(i);
      counts.done = i;
      if (server.pid) rssSamples.push([i, rssMb(server.pid)]);
      if (i % 50 === 0 || i === o.cycles) {
        const s = server.pid ? safeResources(server.pid) : undefined;
        log(`cycle ${i}/${o.cycles}: ${((performance.now() - t0) / 1000).toFixed(0)} s, ${counts.failed} failed` +
          (server.pid ? `, RSS ${rssMb(server.pid).toFixed(0)} MB, fds ${s?.fds}, UDP ${s?.udpSockets}, threads ${s?.threads}` : ''));
      }
    }
    seconds = (performance.now() - t0) / 1000;
    engineCpu = server.pid ? round(cpuSeconds(server.pid) - cpu0, 1) : null;
    await settle(server, before);
    await new Promise((r) => setTimeout(r, 1000));
    after = await snapshot(server);
    log(`after ${JSON.stringify(after)}`);

    // A normal session still works: the hat comes back, and frames flow at the camera's rate.
    try {
      const camera = { width: 640, height: 480, fps: 30 };
      const st = await measureStarts(server, 1, camera, { cold: false, timeoutMs: 15_000 });
      const run = await runSessions(server, 'mirror', 1, camera, { seconds: 3, warmupSeconds: 1 });
      afterwards = {
        works: st.starts === 1 && !run.error && (run.fps.min ?? 0) >= 20,
        hatMs: st.hatMs.n ? st.hatMs.p50 : null,
        fps: run.fps.min,
        latencyP50Ms: run.latencyMs.p50,
        ...(st.failures.length || run.error ? { error: [...st.failures, run.error].filter(Boolean).join('; ') } : {}),
      };
    } catch (err) {
      afterwards = { works: false, hatMs: null, fps: null, latencyP50Ms: null, error: (err as Error).message };
    }
  } finally {
    await server.close();
  }

  const d = (a: number | null, b: number | null) => (a === null || b === null ? 0 : Math.max(0, a - b));
  const leaks = {
    pipelines: after!.pipelines,
    objects: after!.objects ?? 0,
    peerConnections: after!.peerConnections ?? 0,
    fds: d(after!.fds, before!.fds),
    udpSockets: d(after!.udpSockets, before!.udpSockets),
    total: 0,
    newFds: newFdKinds(before!.fdKinds, after!.fdKinds),
  };
  leaks.total = leaks.pipelines + leaks.objects + leaks.peerConnections + leaks.fds + leaks.udpSockets;
  const growth = before!.rssMb !== null && after!.rssMb !== null ? round(after!.rssMb - before!.rssMb, 1) : null;
  const k = Math.max(3, Math.floor(rssSamples.length / 10));
  const medianOf = (xs: Array<[number, number]>) => percentile(xs.map(([, y]) => y), 50);
  const growthMedians = rssSamples.length >= 2 * k ? round(medianOf(rssSamples.slice(-k)) - medianOf(rssSamples.slice(0, k)), 1) : null;
  const judged = growthMedians ?? growth;
  const failedOtherwise = errors.size > 0 || !afterwards.works;
  const result: SoakResult = {
    tool: 'magic-mirror-soak',
    version: 1,
    date: new Date().toISOString(),
    machine,
    server: { kind: server.kind, uri: server.uri, pid: server.pid ?? null },
    options: { cycles: o.cycles, warmupCycles: Math.max(1, o.warmup), fuzzPerCycle: o.fuzz, seed: o.seed, width: o.width, height: o.height, graceMs: o.graceMs, pipeline: o.pipeline, engineArgs: o.engineArgs },
    cycles: { ...counts, seconds: round(seconds, 1)!, perSecond: round(counts.done / seconds, 2) ?? 0 },
    fuzz: fuzzTotals,
    errors: [...errors].map(([message, count]) => ({ message, count })),
    before: before!,
    after: after!,
    leaks,
    rss: {
      firstCycleMb: firstRss,
      beforeMb: before!.rssMb,
      afterMb: after!.rssMb,
      growthMb: growth,
      growthMediansMb: growthMedians,
      medianCycles: growthMedians === null ? null : k,
      growthSinceFirstCycleMb: firstRss !== null && after!.rssMb !== null ? round(after!.rssMb - firstRss, 1) : null,
      slopeMbPer100Cycles: rssSamples.length >= 10 ? round(slope(rssSamples) * 100, 1) : null,
      targetMb: RSS_GROWTH_TARGET_MB,
      met: judged === null ? null : judged < RSS_GROWTH_TARGET_MB,
    },
    engineCpuSeconds: engineCpu,
    afterwards,
    exitCode: leaks.total > 0 ? 1 : failedOtherwise ? 2 : 0,
  };
  report(renderSoak(result));
  if (o.json) {
    await writeFile(o.json, `${JSON.stringify(result, null, 2)}\n`);
    log(`wrote ${o.json}`);
  }
  return result.exitCode;
}

/** "3× /dev/null, 1× tcp" */
function countKinds(kinds: readonly string[]): string {
  const n = new Map<string, number>();
  for (const k of kinds) n.set(k, (n.get(k) ?? 0) + 1);
  return [...n].map(([k, c]) => `${c}× ${k}`).join(', ');
}

export function renderSoak(r: SoakResult, markdown = false): string {
  const md = { markdown };
  const v = (x: number | null) => (x === null ? '–' : String(x));
  const lines = [
    `Magic Mirror soak — ${r.server.kind === 'embedded' ? 'embedded engine' : `external server ${r.server.uri}`} — ` +
      `${r.machine.cpuModel}, ${r.machine.cores} cores — ${r.options.cycles} ${r.options.pipeline} cycles (${r.options.width}×${r.options.height}), ` +
      `${r.options.fuzzPerCycle} fuzz messages per cycle, seed ${r.options.seed} — ${r.date}`,
    '',
    renderTable(
      ['cycles', 'released', 'abandoned', 'failed', 'seconds', 'cycles/s', 'fuzz messages', 'fuzz requests', 'reply mismatches', 'engine CPU s'],
      [[r.cycles.done, r.cycles.released, r.cycles.abandoned, r.cycles.failed, r.cycles.seconds, r.cycles.perSecond, r.fuzz.messages, r.fuzz.requests, r.fuzz.replyMismatches, r.engineCpuSeconds]],
      md,
    ),
    '',
    renderTable(
      ['', 'pipelines', 'objects', 'peer connections', 'fds', 'UDP sockets', 'threads', 'RSS MB'],
      [
        ['before (after warm-up)', r.before.pipelines, r.before.objects, r.before.peerConnections, r.before.fds, r.before.udpSockets, r.before.threads, r.before.rssMb],
        ['after (settled)', r.after.pipelines, r.after.objects, r.after.peerConnections, r.after.fds, r.after.udpSockets, r.after.threads, r.after.rssMb],
        ['leaked', r.leaks.pipelines, r.leaks.objects, r.leaks.peerConnections, r.leaks.fds, r.leaks.udpSockets, null, r.rss.growthMb],
      ],
      md,
    ),
    '',
    `Leaks: ${r.leaks.total === 0 ? '0 (none)' : `${r.leaks.total} — LEAK`}.` +
      (r.leaks.newFds.length ? ` Open now, not before: ${countKinds(r.leaks.newFds)}.` : ''),
    `RSS: ${v(r.rss.firstCycleMb)} MB after the first cycle, ${v(r.rss.beforeMb)} MB after ${r.options.warmupCycles} warm-up cycles (baseline), ` +
      `${v(r.rss.afterMb)} MB after ${r.cycles.done} cycles: growth ${v(r.rss.growthMb)} MB; ` +
      (r.rss.growthMediansMb === null ? '' : `median of the last ${r.rss.medianCycles} cycles vs the first ${r.rss.medianCycles}: ${r.rss.growthMediansMb} MB; `) +
      `target < ${r.rss.targetMb} MB ${r.rss.growthMediansMb === null ? '(before → after)' : '(medians)'}: ` +
      `${r.rss.met === null ? 'n/a' : r.rss.met ? 'MET' : 'MISSED'}; trend ${v(r.rss.slopeMbPer100Cycles)} MB per 100 cycles; ` +
      `${v(r.rss.growthSinceFirstCycleMb)} MB since the first cycle.`,
    `Errors: ${r.errors.length === 0 ? 'none' : r.errors.map((e) => `${e.count}× ${e.message}`).join('; ')}`,
    `Normal session afterwards: ${r.afterwards.works ? 'works' : 'FAILED'} (hat after ${v(r.afterwards.hatMs)} ms, ${v(r.afterwards.fps)} fps, latency p50 ${v(r.afterwards.latencyP50Ms)} ms)${r.afterwards.error ? ` — ${r.afterwards.error}` : ''}`,
    `Exit code ${r.exitCode}`,
  ];
  return lines.join('\n');
}

// stdout carries only the report: kurento-client logs with console.log ("Server did not respond
// to ping message …" when a machine is overloaded), so console.log goes to stderr.
const report = (text: string) => process.stdout.write(`${text}\n`);
console.log = (...args: unknown[]) => console.error(...args);

// Explicit exit: a process that created a wrtc RTCVideoSource segfaults when it exits by itself.
main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`[soak] failed: ${err.stack ?? err.message}`);
    process.exit(3);
  },
);
