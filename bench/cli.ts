/**
 * `npm run bench -- [--client wrtc|chromium|all] [--kms ws://host:8888/kurento [--kms-pid PID]]
 *   [--seconds 10] [--warmup 2] [--sessions 1,2,4,8] [--starts 20] [--width 640 --height 480 --fps 30] [--no-loopback]
 *   [--hat-url http://…/hat.png] [--json out.json] [--markdown] [--cpu-prof DIR] [--engine-arg FLAG]…
 *   [--quiet]`
 *
 * Measures the magic mirror (WebRtcEndpoint → FaceOverlayFilter → same endpoint) on the
 * embedded engine, or on another Kurento server with --kms: fps, latency (and the same with a
 * plain endpoint loopback, so the filter's cost is a ratio), Start → first hat frame, server
 * CPU/RSS from /proc, detections from ServerManager.getMetadata, and the harness's own CPU —
 * it shares the machine with the server. Prints tables; --json writes everything.
 *
 * --motion: only the motion clips (bench/motion.ts: does the hat follow a moving face?), at
 * --sessions (default 1,4) wrtc cameras, then as a person sees them in one Chromium page
 * (bench/motion-browser.ts; --client wrtc|chromium picks one), --seconds scored per clip,
 * --clips still,pan,… picks clips (default: today's six; `fast` = the eight fast clips of issue 25,
 * `all` = both), --fps 30,15,10 runs them from cameras at each rate, --repeat N runs each N times
 * (default 1 with --motion).
 *
 * --stress hogs[:N][,sessions:K]: the motion runs on a busy machine (bench/stress.ts): N
 * CPU-bound processes at the engine's priority (plain --stress: two per core) and/or K more
 * mirror sessions on the same engine.
 *
 * --failover N: only the media server pool (bench/failover.ts): N SIGKILLs of one of three
 * engines, the time until each of its mirrors shows frames again on another.
 *
 * Clients: `wrtc` is a Node fake camera (bench/measure.ts); `chromium` is the real page in headless
 * Chromium through web mode (bench/browser.ts). Both run by default; without --sessions/--starts
 * wrtc runs 1,2,4,8 sessions and 20 Starts, Chromium 1,2,4 and 10 (+ the cold one).
 *
 * --under-load K: the Chromium pages are measured while K wrtc mirror sessions run on the same
 * engine (e.g. `--client chromium --sessions 1 --under-load 7`: what a person sees in the
 * browser when the engine serves eight mirrors). Embedded engine only.
 *
 * --kms: the server must reach the hat URL (by default served on 127.0.0.1 by this process,
 * fine for a KMS on the same host network; otherwise give --hat-url). Without --kms-pid no
 * CPU/RSS is read; a real KMS reports no detection counts.
 * --cpu-prof DIR: the embedded engine runs with node --cpu-prof (its main thread and the
 * detector worker each write a .cpuprofile into DIR when it exits); --engine-arg passes any other
 * node flag to the embedded engine (repeatable).
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { measureBrowser, type BrowserResult } from './browser.js';
import { measureMotion, summarizeMotion, type MotionResult, type MotionRun } from './motion.js';
import { measureMotionChromium } from './motion-browser.js';
import { ALL_CLIP_NAMES, CLIP_NAMES, FAST_CLIP_NAMES, type ClipName } from './motion-clips.js';
import { NO_STRESS, parseStress, startHogs, stressLabel } from './stress.js';
import { measureFailover, type FailoverResult } from './failover.js';
import { measureStarts, runSessions, type Camera, type RunResult, type StartsResult } from './measure.js';
import { machineInfo, openServer } from './server.js';
import { renderBench } from './report.js';
import { round } from './stats.js';
import { evaluateTargets, type TargetResult } from './targets.js';

export interface LatencyComparison {
  sessions: number;
  mirrorP50Ms: number | null;
  loopbackP50Ms: number | null;
  addedP50Ms: number | null;
  addedP50Frames: number | null;
  ratioP50: number | null;
  mirrorP95Ms: number | null;
  loopbackP95Ms: number | null;
}

export interface BenchResult {
  tool: 'magic-mirror-bench';
  version: 1;
  date: string;
  machine: ReturnType<typeof machineInfo>;
  server: { kind: 'embedded' | 'external'; uri: string; pid: number | null };
  camera: Camera;
  options: { seconds: number; warmupSeconds: number; sessions: number[]; starts: number; loopback: boolean; underLoad: number; repeat: number; clients: Client[]; browserSessions: number[]; browserStarts: number };
  runs: RunResult[];
  latencyVsLoopback: LatencyComparison[];
  starts: StartsResult | null;
  /** The real page in headless Chromium (--client chromium, and in the default run). */
  browser: BrowserResult | null;
  /** `--motion` only (the other clients do not run then). */
  motion: MotionResult | null;
  /** `--failover N` only: a pool of three engines, each kill's mirrors back on the others. */
  failover: FailoverResult | null;
  targets: TargetResult[];
  durationSeconds: number;
}

export type Client = 'wrtc' | 'chromium';
const CLIENTS: Client[] = ['wrtc', 'chromium'];
/** Per client when --sessions / --starts are not given (a browser session costs the harness more). */
const DEFAULT_SESSIONS: Record<Client, string> = { wrtc: '1,2,4,8', chromium: '1,2,4' };
const DEFAULT_STARTS: Record<Client, string> = { wrtc: '20', chromium: '10' };

const USAGE = 'usage: npm run bench -- [--motion [--clips a,b|fast|all] [--stress [hogs[:N]][,sessions:K]]] [--failover N] [--client wrtc|chromium|all] [--kms ws://…] [--kms-pid N] [--seconds N] [--warmup N] [--sessions 1,2,4,8] [--starts N] [--width W --height H --fps F] [--no-loopback] [--repeat N] [--under-load K] [--hat-url URL] [--json FILE] [--markdown] [--cpu-prof DIR] [--engine-arg FLAG]… [--quiet]';

function parse() {
  const { values } = parseArgs({
    options: {
      kms: { type: 'string' },
      'kms-pid': { type: 'string' },
      'hat-url': { type: 'string' },
      seconds: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      client: { type: 'string', default: 'all' },
      sessions: { type: 'string' },
      starts: { type: 'string' },
      width: { type: 'string', default: '640' },
      height: { type: 'string', default: '480' },
      fps: { type: 'string', default: '30' },
      'no-loopback': { type: 'boolean', default: false },
      repeat: { type: 'string' },
      stress: { type: 'string' },
      json: { type: 'string' },
      markdown: { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
      'engine-arg': { type: 'string', multiple: true, default: [] },
      quiet: { type: 'boolean', default: false },
      motion: { type: 'boolean', default: false },
      clips: { type: 'string' },
      failover: { type: 'string' },
      'under-load': { type: 'string', default: '0' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    report(USAGE);
    process.exit(0);
  }
  const num = (name: string, v: string, min: number) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number ≥ ${min}, got "${v}"`);
    return n;
  };
  const sessionsOf = (v: string) => v.split(',').filter(Boolean).map((s) => Math.round(num('sessions', s, 1)));
  const clipsOf = (v: string | undefined) => {
    if (v === undefined) return CLIP_NAMES;
    const clips = v.split(',').filter(Boolean).flatMap((c) => (c === 'fast' ? FAST_CLIP_NAMES : c === 'all' ? ALL_CLIP_NAMES : [c]));
    const unknown = clips.filter((c) => !ALL_CLIP_NAMES.includes(c as ClipName));
    if (unknown.length || clips.length === 0) throw new Error(`--clips takes some of ${ALL_CLIP_NAMES.join(', ')}, fast or all, got "${v}"`);
    return [...new Set(clips)] as ClipName[];
  };
  const fpsList = values.fps.split(',').filter(Boolean).map((f) => num('fps', f, 1));
  const clients = values.client === 'all' ? CLIENTS : CLIENTS.filter((c) => c === values.client);
  if (clients.length === 0) throw new Error(`--client must be wrtc, chromium or all, got "${values.client}"`);
  return {
    failover: values.failover === undefined ? 0 : Math.round(num('failover', values.failover, 1)),
    clients: values.motion || values.failover !== undefined ? [] : clients,
    motionClients: values.motion ? clients : [],
    motion: values.motion,
    motionSessions: sessionsOf(values.sessions ?? '1,4'),
    clips: clipsOf(values.clips),
    kms: values.kms,
    kmsPid: values['kms-pid'] ? num('kms-pid', values['kms-pid'], 1) : undefined,
    hatUrl: values['hat-url'],
    seconds: num('seconds', values.seconds, 0.5),
    warmup: num('warmup', values.warmup, 0),
    sessions: sessionsOf(values.sessions ?? DEFAULT_SESSIONS.wrtc),
    starts: Math.round(num('starts', values.starts ?? DEFAULT_STARTS.wrtc, 0)),
    browserSessions: sessionsOf(values.sessions ?? DEFAULT_SESSIONS.chromium),
    browserStarts: Math.round(num('starts', values.starts ?? DEFAULT_STARTS.chromium, 0)),
    camera: { width: num('width', values.width, 32), height: num('height', values.height, 32), fps: fpsList[0]! },
    motionFps: fpsList,
    stress: values.stress === undefined ? NO_STRESS : parseStress(values.stress),
    loopback: !values['no-loopback'],
    underLoad: Math.round(num('under-load', values['under-load'], 0)),
    repeat: Math.round(num('repeat', values.repeat ?? (values.motion ? '1' : '3'), 1)),
    json: values.json,
    markdown: values.markdown,
    cpuProf: values['cpu-prof'],
    engineArgs: values['engine-arg'],
    quiet: values.quiet,
  };
}

async function main(): Promise<number> {
  let o: ReturnType<typeof parse>;
  try {
    o = parse();
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const log = o.quiet ? () => undefined : (line: string) => console.error(`[bench] ${line}`);
  const t0 = Date.now();
  const machine = machineInfo();
  const runs: RunResult[] = [];
  let starts: StartsResult | null = null;
  if (o.clients.includes('wrtc')) {
    const server = await openServer({
      kms: o.kms,
      kmsPid: o.kmsPid,
      hatUrl: o.hatUrl,
      nodeArgs: [...(o.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProf}`] : []), ...o.engineArgs],
    });
    log(`server ${server.uri}${server.pid ? ` (pid ${server.pid})` : ''}, hat ${server.hatUrl}`);
    try {
      // Starts first: the first one meets a fresh server (reported as "cold").
      if (o.starts > 0) starts = await measureStarts(server, o.starts, o.camera, { cold: server.kind === 'embedded', log });
      const point = async (kind: 'mirror' | 'loopback', n: number) => {
        const tries: RunResult[] = [];
        for (let i = 0; i < o.repeat; i++) tries.push(await runSessions(server, kind, n, o.camera, { seconds: o.seconds, warmupSeconds: o.warmup, log }));
        runs.push(worstOf(tries));
      };
      for (const n of o.sessions) {
        await point('mirror', n);
        if (o.loopback) await point('loopback', n);
      }
    } finally {
      await server.close();
    }
  }
  const failover = o.failover ? await measureFailover({ kills: o.failover, log }) : null;
  let motion: MotionResult | null = null;
  if (o.motion) {
    const runs: MotionRun[] = [];
    const hogs = o.stress.hogs ? startHogs(o.stress.hogs) : undefined;
    if (hogs) log(`${stressLabel(o.stress)}: started`);
    try {
      for (const fps of o.motionFps) {
        for (let rep = 0; rep < o.repeat; rep++) {
          const mo = { clips: o.clips, sessions: o.motionSessions, seconds: o.seconds, warmupSeconds: o.warmup, width: o.camera.width, height: o.camera.height, fps, loadSessions: o.stress.sessions, stress: stressLabel(o.stress) || undefined, log };
          if (o.motionClients.includes('wrtc')) {
            const server = await openServer({ kms: o.kms, kmsPid: o.kmsPid, nodeArgs: o.engineArgs });
            try {
              runs.push(...(await measureMotion(server, mo)).runs);
            } finally {
              await server.close();
            }
          }
          // The real page: one session, web mode on its own embedded engine (not with --kms).
          if (o.motionClients.includes('chromium') && !o.kms) runs.push(...(await measureMotionChromium(mo)));
        }
      }
    } finally {
      await hogs?.stop();
    }
    motion = summarizeMotion(runs);
  }
  // The browser last: it launches its own web mode (and engine), so its cold Start is a real first one.
  const browser = o.clients.includes('chromium')
    ? await measureBrowser({
        wsUri: o.kms,
        starts: o.browserStarts,
        sessions: o.browserSessions,
        seconds: o.seconds,
        warmupSeconds: o.warmup,
        camera: o.camera,
        loopback: o.loopback,
        backgroundSessions: o.underLoad,
        log,
      })
    : null;

  const latencyVsLoopback: LatencyComparison[] = [];
  for (const n of o.sessions) {
    const m = runs.find((r) => r.pipeline === 'mirror' && r.sessions === n && !r.error);
    const l = runs.find((r) => r.pipeline === 'loopback' && r.sessions === n && !r.error);
    if (!m || !l || m.latencyMs.p50 === null || l.latencyMs.p50 === null) continue;
    const added = m.latencyMs.p50 - l.latencyMs.p50;
    latencyVsLoopback.push({
      sessions: n,
      mirrorP50Ms: m.latencyMs.p50,
      loopbackP50Ms: l.latencyMs.p50,
      addedP50Ms: round(added),
      addedP50Frames: round(added / (1000 / o.camera.fps), 2),
      ratioP50: round(m.latencyMs.p50 / l.latencyMs.p50, 2),
      mirrorP95Ms: m.latencyMs.p95,
      loopbackP95Ms: l.latencyMs.p95,
    });
  }

  const result: BenchResult = {
    tool: 'magic-mirror-bench',
    version: 1,
    date: new Date().toISOString(),
    machine,
    server: { kind: o.kms ? 'external' : 'embedded', uri: o.kms ?? 'builtin', pid: o.kmsPid ?? null },
    camera: o.camera,
    options: { seconds: o.seconds, warmupSeconds: o.warmup, sessions: o.sessions, starts: o.starts, loopback: o.loopback, underLoad: o.underLoad, repeat: o.repeat, clients: o.clients, browserSessions: o.browserSessions, browserStarts: o.browserStarts },
    runs,
    latencyVsLoopback,
    starts,
    browser,
    motion,
    failover,
    targets: evaluateTargets(o.camera, runs, starts, browser, motion, failover),
    durationSeconds: Math.round((Date.now() - t0) / 1000),
  };
  report(renderBench(result, o.markdown));
  if (o.json) {
    await writeFile(o.json, `${JSON.stringify(result, null, 2)}\n`);
    log(`wrote ${o.json}`);
  }
  return runs.some((r) => r.error) || browser?.runs.some((r) => r.error) || browser?.failures.length || motion?.runs.some((r) => r.error) ? 1 : 0;
}

/**
 * One load point from its repeated runs: the worst (a failed run, else the lowest per-session
 * fps), with every run's figures beside it, so a figure quoted from the bench holds on a bad
 * minute of a shared machine too.
 */
export function worstOf(tries: RunResult[]): RunResult {
  const score = (r: RunResult) => (r.error ? -1 : (r.fps.min ?? -1));
  const worst = tries.reduce((a, b) => (score(b) < score(a) ? b : a));
  return { ...worst, repeats: tries.map((r) => ({ fpsMin: r.fps.min, fpsMean: r.fps.mean, latencyP50Ms: r.latencyMs.p50, engineCores: r.engine.cpuCores, hatShareMin: r.hatShareMin, error: r.error ?? null })) };
}

// stdout carries only the report: kurento-client logs with console.log ("Server did not respond
// to ping message …" when a machine is overloaded), so console.log goes to stderr.
const report = (text: string) => process.stdout.write(`${text}\n`);
console.log = (...args: unknown[]) => console.error(...args);

// Explicit exit: a process that created a wrtc RTCVideoSource segfaults when it exits by itself.
main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`[bench] failed: ${err.stack ?? err.message}`);
    process.exit(1);
  },
);
