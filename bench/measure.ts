/**
 * The bench's measurements against a server under test:
 * - runSessions: N simultaneous sessions (mirror or plain loopback) for `seconds` after a
 *   warm-up; per session the DISTINCT frame counters received per second, received resolution,
 *   glass-to-glass latency per frame (sentAt(counter) → the first arrival of that counter);
 *   the server's CPU/RSS (and CPU per thread name) from /proc, detections from getMetadata,
 *   the harness's own CPU and event-loop delay, and what the rest of the machine used.
 * - measureStarts: Start → first returned frame that shows the hat, step by step.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type kurento from 'kurento-client';
import type { VideoFrame } from '../engine/media/frames.js';
import { FakeCameraPeer } from '../test/helpers/fake-camera-peer.js';
import { kurentoClient } from '../test/helpers/kurento.js';
import { processResources } from '../test/helpers/engine-counts.js';
import { serveStatic } from '../test/helpers/chromium.js';
import { testHatPng } from '../test/helpers/hat-pixels.js';
import { waitFor } from '../test/helpers/wait.js';
import { cpuSeconds, machineCpuSeconds, rssMb, threadCores, threadCpuSeconds } from './proc.js';
import { hatDetector, openSession, type OpenSession, type PipelineKind } from './session.js';
import type { ServerUnderTest } from './server.js';
import { mean, mode, round, summarize, type Summary } from './stats.js';

export interface Camera {
  width: number;
  height: number;
  fps: number;
}

/** Harness CPU above this (in cores) marks a row as possibly limited by the harness. */
export const HARNESS_BOUND_CORES = 0.8;
/** Machine busy above this fraction of all cores marks a row as CPU-saturated. */
export const SATURATED_FRACTION = 0.9;

export interface SessionResult {
  fps: number;
  sentFps: number;
  /** Most frequent received resolution in the window, e.g. "640x480". */
  resolution: string | null;
  /** Every received resolution with its frame count, when more than one was seen. */
  resolutions: Record<string, number>;
  latencyMsP50: number | null;
  /** Received frames that carried no readable counter (should be 0). */
  framesWithoutCounter: number;
  /** Frames whose counter had already been received (repeats; not counted in fps). */
  repeatedFrames: number;
  /** Mirror only: share of the window's returned frames (every HAT_CHECK_EVERY-th) that show the hat. */
  hatShare: number | null;
}

export interface RunResult {
  pipeline: PipelineKind;
  sessions: number;
  seconds: number;
  error?: string;
  perSession: SessionResult[];
  fps: { min: number | null; mean: number | null; max: number | null };
  resolution: string | null;
  latencyMs: { p50: number | null; p95: number | null; n: number };
  latencyFrames: { p50: number | null; p95: number | null };
  /** Mirror only: the least share of returned frames showing the hat, over the sessions. */
  hatShareMin: number | null;
  engine: {
    cpuCores: number | null;
    cpuCoresPerSession: number | null;
    rssMb: number | null;
    idleRssMb: number | null;
    rssMbPerSession: number | null;
    /** CPU (cores) per engine thread name, largest first (top 10). */
    threads: Array<{ thread: string; cores: number }>;
    udpSockets: number | null;
    /** Decoded frames the engine skipped per second (a newer one had arrived): it fell behind. */
    staleFramesDroppedPerSecond: number | null;
  };
  detections: { perSecond: number | null; perSecondPerSession: number | null; msPerDetection: number | null };
  /** The bench process (wrtc cameras: encode, decode, pixels); threads as for the engine. */
  harness: {
    cpuCores: number;
    eventLoopDelayP99Ms: number | null;
    bottleneck: boolean;
    threads: Array<{ thread: string; cores: number }>;
    /** Mean time a returned frame waited in the cameras' receive jitter buffers (getStats), part of the latency. */
    jitterBufferMs: number | null;
  };
  machine: { busyCores: number; otherCores: number | null; saturated: boolean };
  /** When the load point was run several times (--repeat): every run; this result is the worst. */
  repeats?: Array<{ fpsMin: number | null; fpsMean: number | null; latencyP50Ms: number | null; engineCores: number | null; hatShareMin: number | null; error: string | null }>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Counts one session's returned frames for the frames SENT in a window [begin, end]: each
 * distinct counter sent then that comes back by finish() (a grace period later) counts once.
 * So fps can never exceed the camera's rate — not even while a backlog drains — and frames
 * that come back later than the grace period count as lost.
 */
function track(peer: FakeCameraPeer, hasHat?: (frame: VideoFrame) => boolean) {
  let t0 = Infinity;
  let t1 = Infinity;
  let sent0 = 0;
  let sent1 = 0;
  let arriving = false;
  const seen = new Set<number>();
  const latencies: number[] = [];
  const resolutions = new Map<string, number>();
  let noCounter = 0;
  let repeats = 0;
  let hatChecked = 0;
  let hatSeen = 0;
  const off = peer.received.onFrame((frame, counter) => {
    const now = performance.now();
    if (arriving) {
      const res = `${frame.width}x${frame.height}`;
      resolutions.set(res, (resolutions.get(res) ?? 0) + 1);
      if (counter === null) noCounter++;
    }
    if (counter === null) return;
    const sentAt = peer.sentAt(counter);
    if (sentAt === undefined || sentAt < t0 || sentAt > t1) return;
    if (seen.has(counter)) return void repeats++;
    seen.add(counter);
    latencies.push(now - sentAt);
    if (hasHat && seen.size % HAT_CHECK_EVERY === 0) {
      hatChecked++;
      if (hasHat(frame)) hatSeen++;
    }
  });
  return {
    begin(at: number) {
      t0 = at;
      sent0 = peer.sentFrames;
      arriving = true;
    },
    end(at: number) {
      t1 = at;
      sent1 = peer.sentFrames;
      arriving = false;
    },
    finish(): SessionResult & { latencies: number[] } {
      off();
      const elapsedS = (t1 - t0) / 1000;
      const sum = summarize(latencies);
      return {
        fps: seen.size / elapsedS,
        sentFps: (sent1 - sent0) / elapsedS,
        resolution: mode(resolutions) ?? null,
        resolutions: resolutions.size > 1 ? Object.fromEntries(resolutions) : {},
        latencyMsP50: round(sum.p50),
        framesWithoutCounter: noCounter,
        repeatedFrames: repeats,
        hatShare: hatChecked ? hatSeen / hatChecked : null,
        latencies,
      };
    },
  };
}

/** The cameras' received video so far: jitter-buffer delay (s) and frames that left the buffer. */
async function jitterBufferTotals(peers: FakeCameraPeer[]): Promise<{ delayS: number; frames: number }> {
  let delayS = 0;
  let frames = 0;
  for (const p of peers) {
    for (const s of (await p.pc.getStats()).values()) {
      if (s.type !== 'inbound-rtp' || s.kind !== 'video') continue;
      delayS += s.jitterBufferDelay ?? 0;
      frames += s.jitterBufferEmittedCount ?? 0;
    }
  }
  return { delayS, frames };
}

/** Every how many distinct returned frames one is checked for the hat (cheap, but the harness is busy). */
const HAT_CHECK_EVERY = 3;

/** How long after a window frames sent in it may still come back and count. */
export const LATE_FRAME_GRACE_MS = 1000;

/** Waits until the server has no pipeline left (and, for the engine, no peer connection). */
async function settleServer(server: ServerUnderTest, timeoutMs = 10_000): Promise<void> {
  await waitFor(async () => (await server.pipelines()).length === 0, timeoutMs, 'server back to no pipelines').catch(() => undefined);
  await waitFor(async () => ((await server.counts())?.peerConnections ?? 0) === 0, timeoutMs, 'peer connections closed').catch(() => undefined);
}

export async function runSessions(
  server: ServerUnderTest,
  kind: PipelineKind,
  n: number,
  cam: Camera,
  opts: { seconds: number; warmupSeconds: number; log?: (line: string) => void },
): Promise<RunResult> {
  const log = opts.log ?? (() => undefined);
  const client = await kurentoClient(server.uri);
  const peers = stillFaceCameras(n, cam);
  const sessions: OpenSession[] = [];
  const idleRss = server.pid ? rssMb(server.pid) : NaN;
  const result: RunResult = emptyRun(kind, n);
  try {
    await openSessions(client, peers, kind, server.hatUrl, sessions);
    await sleep(opts.warmupSeconds * 1000);

    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const hasHat = kind === 'mirror' ? await hatDetector(cam.width, cam.height) : undefined;
    const trackers = peers.map((p) => track(p, hasHat));
    const c0 = await server.counts();
    const jb0 = await jitterBufferTotals(peers);
    const t0 = performance.now();
    for (const t of trackers) t.begin(t0);
    const cpu0 = server.pid ? cpuSeconds(server.pid) : NaN;
    const threads0 = server.pid ? threadCpuSeconds(server.pid) : new Map<string, number>();
    const self0 = cpuSeconds('self');
    const selfThreads0 = threadCpuSeconds('self');
    const m0 = machineCpuSeconds();
    await sleep(opts.seconds * 1000);
    const t1 = performance.now();
    for (const t of trackers) t.end(t1);
    const elapsed = (t1 - t0) / 1000;
    const cpu = server.pid ? (cpuSeconds(server.pid) - cpu0) / elapsed : NaN;
    const threads = server.pid ? threadCores(threads0, threadCpuSeconds(server.pid), elapsed) : [];
    const self = (cpuSeconds('self') - self0) / elapsed;
    const selfThreads = threadCores(selfThreads0, threadCpuSeconds('self'), elapsed);
    const m1 = machineCpuSeconds();
    loopDelay.disable();
    const c1 = await server.counts();
    const jb1 = await jitterBufferTotals(peers);
    const rss = server.pid ? rssMb(server.pid) : NaN;
    await sleep(LATE_FRAME_GRACE_MS);
    const perSession = trackers.map((t) => t.finish());

    const fps = perSession.map((s) => s.fps);
    const lat = summarize(perSession.flatMap((s) => s.latencies));
    const frameMs = 1000 / cam.fps;
    const busy = (m1.busy - m0.busy) / elapsed;
    const detections = c0 && c1 ? c1.detections - c0.detections : NaN;
    const resolutions = new Map<string, number>();
    for (const s of perSession) if (s.resolution) resolutions.set(s.resolution, (resolutions.get(s.resolution) ?? 0) + 1);
    const udp = server.pid ? safe(() => processResources(server.pid!).udpSockets) : NaN;

    Object.assign(result, {
      seconds: round(elapsed, 2)!,
      perSession: perSession.map(({ latencies: _l, ...s }) => ({ ...s, fps: round(s.fps)!, sentFps: round(s.sentFps)!, hatShare: round(s.hatShare, 3) })),
      fps: { min: round(Math.min(...fps)), mean: round(mean(fps)), max: round(Math.max(...fps)) },
      resolution: mode(resolutions) ?? null,
      latencyMs: { p50: round(lat.p50), p95: round(lat.p95), n: lat.n },
      latencyFrames: { p50: round(lat.p50 / frameMs, 2), p95: round(lat.p95 / frameMs, 2) },
      hatShareMin: kind === 'mirror' ? round(Math.min(...perSession.map((s) => s.hatShare ?? 0)), 3) : null,
      engine: {
        cpuCores: round(cpu, 2),
        cpuCoresPerSession: round(cpu / n, 2),
        rssMb: round(rss, 0),
        idleRssMb: round(idleRss, 0),
        rssMbPerSession: round((rss - idleRss) / n, 0),
        threads: threads.slice(0, 10).map((t) => ({ thread: t.thread, cores: round(t.cores, 2)! })),
        udpSockets: Number.isFinite(udp) ? udp : null,
        staleFramesDroppedPerSecond: c0 && c1 && c1.staleFramesDropped !== undefined ? round((c1.staleFramesDropped - c0.staleFramesDropped) / elapsed) : null,
      },
      detections: {
        perSecond: round(detections / elapsed),
        perSecondPerSession: round(detections / elapsed / n),
        msPerDetection: c0 && c1 && detections > 0 ? round((c1.detectionMsTotal - c0.detectionMsTotal) / detections) : null,
      },
      harness: {
        cpuCores: round(self, 2)!,
        eventLoopDelayP99Ms: round(loopDelay.percentile(99) / 1e6),
        bottleneck: self > HARNESS_BOUND_CORES,
        threads: selfThreads.slice(0, 10).map((t) => ({ thread: t.thread, cores: round(t.cores, 2)! })),
        jitterBufferMs: jb1.frames > jb0.frames ? round((1000 * (jb1.delayS - jb0.delayS)) / (jb1.frames - jb0.frames)) : null,
      },
      machine: {
        busyCores: round(busy, 2)!,
        otherCores: server.pid ? round(Math.max(0, busy - cpu - self), 2) : null,
        saturated: busy > SATURATED_FRACTION * (m1.total - m0.total) / elapsed,
      },
    } satisfies Partial<RunResult>);
    log(`${kind} ×${n}: fps ${result.fps.min}–${result.fps.max}, latency p50 ${result.latencyMs.p50} ms, engine ${result.engine.cpuCores} cores, harness ${result.harness.cpuCores}`);
  } catch (err) {
    result.error = (err as Error).message;
    log(`${kind} ×${n}: FAILED: ${result.error}`);
  } finally {
    for (const s of sessions) await s.release().catch(() => undefined);
    for (const p of peers) p.close();
    client.close();
    await settleServer(server);
    await sleep(500);
  }
  return result;
}

/**
 * Background load: `n` wrtc camera sessions with the hat (face background, as runSessions opens
 * them) held open on a server while something else is measured, e.g. a Chromium page among
 * eight sessions (bench --under-load). Serves its own test hat.
 */
export async function openWrtcLoad(uri: string, n: number, cam: Camera): Promise<{ close(): Promise<void> }> {
  const hats = await serveStatic({ '/hat.png': testHatPng() });
  const client = await kurentoClient(uri);
  const peers = stillFaceCameras(n, cam);
  const sessions: OpenSession[] = [];
  const close = async () => {
    for (const s of sessions) await s.release().catch(() => undefined);
    for (const p of peers) p.close();
    client.close();
    await hats.close();
  };
  try {
    await openSessions(client, peers, 'mirror', `${hats.url}/hat.png`, sessions);
  } catch (err) {
    await close();
    throw err;
  }
  return { close };
}

/** n wrtc cameras sending the still face with its counter. */
function stillFaceCameras(n: number, cam: Camera): FakeCameraPeer[] {
  return Array.from({ length: n }, () => new FakeCameraPeer({ background: 'face', width: cam.width, height: cam.height, fps: cam.fps, keepFrames: 2 }));
}

/**
 * Starts the cameras and opens their sessions into `sessions` (the caller releases them), then
 * waits until every camera gets frames back. Sessions are opened one after another, as users
 * would, and so one slow negotiation cannot time out another.
 */
async function openSessions(client: kurento.KurentoClient, peers: FakeCameraPeer[], kind: PipelineKind, hatUrl: string, sessions: OpenSession[]): Promise<void> {
  await Promise.all(peers.map((p) => p.start()));
  for (const p of peers) sessions.push(await openSession(client, p, kind, hatUrl, { connectTimeoutMs: 20_000 }));
  await Promise.all(peers.map((p) => p.received.waitForCounters(30, 30_000)));
}

function safe(f: () => number): number {
  try {
    return f();
  } catch {
    return NaN;
  }
}

function emptyRun(pipeline: PipelineKind, sessions: number): RunResult {
  return {
    pipeline,
    sessions,
    seconds: 0,
    perSession: [],
    fps: { min: null, mean: null, max: null },
    resolution: null,
    latencyMs: { p50: null, p95: null, n: 0 },
    latencyFrames: { p50: null, p95: null },
    hatShareMin: null,
    engine: { cpuCores: null, cpuCoresPerSession: null, rssMb: null, idleRssMb: null, rssMbPerSession: null, threads: [], udpSockets: null, staleFramesDroppedPerSecond: null },
    detections: { perSecond: null, perSecondPerSession: null, msPerDetection: null },
    harness: { cpuCores: 0, eventLoopDelayP99Ms: null, bottleneck: false, threads: [], jitterBufferMs: null },
    machine: { busyCores: 0, otherCores: null, saturated: false },
  };
}

export interface StartSample {
  /** Start → first returned frame with the hat. */
  hatMs: number;
  /** Start → pipeline built (elements created, hat set, connected). */
  builtMs: number;
  /** Start → SDP answer applied. */
  answeredMs: number;
  /** Start → ICE connected. */
  connectedMs: number;
  /** Start → the server's pipeline got its first video frame (camera → server hop done). */
  serverFirstFrameMs: number;
  /** Start → first returned frame (hat or not). */
  firstFrameMs: number;
}

export interface StartsResult {
  starts: number;
  /** The first Start on a fresh server (detector model loading included); not in the summaries. */
  cold: StartSample | null;
  hatMs: Summary;
  phasesP50: { builtMs: number | null; answeredMs: number | null; connectedMs: number | null; serverFirstFrameMs: number | null; firstFrameMs: number | null; hatMs: number | null };
  samples: StartSample[];
  failures: string[];
}

/**
 * `count` Starts (plus one cold Start first when `cold`), one after another on one client (the
 * app keeps its connection), each with a live camera; a Start ends at the first returned frame
 * showing the hat, then the session is stopped.
 */
export async function measureStarts(
  server: ServerUnderTest,
  count: number,
  cam: Camera,
  opts: { cold: boolean; timeoutMs?: number; log?: (line: string) => void },
): Promise<StartsResult> {
  const log = opts.log ?? (() => undefined);
  const hasHat = await hatDetector(cam.width, cam.height);
  const client = await kurentoClient(server.uri);
  const samples: StartSample[] = [];
  const failures: string[] = [];
  let cold: StartSample | null = null;
  try {
    for (let i = opts.cold ? -1 : 0; i < count; i++) {
      try {
        const s = await oneStart(client, server, cam, hasHat, opts.timeoutMs ?? 15_000);
        if (i < 0) cold = s;
        else samples.push(s);
        log(`start ${i < 0 ? 'cold' : i + 1}: hat after ${s.hatMs.toFixed(0)} ms (connected ${s.connectedMs.toFixed(0)}, first frame ${s.firstFrameMs.toFixed(0)})`);
      } catch (err) {
        failures.push((err as Error).message);
        log(`start ${i < 0 ? 'cold' : i + 1}: FAILED: ${(err as Error).message}`);
      }
      await settleServer(server, 5000);
    }
  } finally {
    client.close();
  }
  const p50 = (k: keyof StartSample) => round(summarize(samples.map((s) => s[k])).p50, 0);
  const hat = summarize(samples.map((s) => s.hatMs));
  return {
    starts: samples.length,
    cold: cold && roundSample(cold),
    hatMs: { n: hat.n, p50: round(hat.p50, 0)!, p95: round(hat.p95, 0)!, min: round(hat.min, 0)!, max: round(hat.max, 0)!, mean: round(hat.mean, 0)! },
    phasesP50: { builtMs: p50('builtMs'), answeredMs: p50('answeredMs'), connectedMs: p50('connectedMs'), serverFirstFrameMs: p50('serverFirstFrameMs'), firstFrameMs: p50('firstFrameMs'), hatMs: p50('hatMs') },
    samples: samples.map(roundSample),
    failures,
  };
}

function roundSample(s: StartSample): StartSample {
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, round(v, 0)])) as unknown as StartSample;
}

async function oneStart(
  client: kurento.KurentoClient,
  server: ServerUnderTest,
  cam: Camera,
  hasHat: (f: VideoFrame) => boolean,
  timeoutMs: number,
): Promise<StartSample> {
  const peer = new FakeCameraPeer({ background: 'face', width: cam.width, height: cam.height, fps: cam.fps, keepFrames: 2 });
  let session: OpenSession | undefined;
  try {
    await peer.start(); // the camera is live before Start, as in the app
    let firstFrame = NaN;
    let off = () => {};
    const hat = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => (off(), reject(new Error(`no hat within ${timeoutMs} ms (${peer.received.frameCount} frames back)`))), timeoutMs);
      off = peer.received.onFrame((frame) => {
        const now = performance.now();
        if (Number.isNaN(firstFrame)) firstFrame = now;
        if (!hasHat(frame)) return;
        clearTimeout(timer);
        off();
        resolve(now);
      });
    });
    hat.catch(() => undefined);
    session = await openSession(client, peer, 'mirror', server.hatUrl);
    const hatAt = await hat;
    const t = session.timings;
    return {
      hatMs: hatAt - t.start,
      builtMs: t.built - t.start,
      answeredMs: t.answered - t.start,
      connectedMs: t.connected - t.start,
      serverFirstFrameMs: t.serverFirstVideo - t.start,
      firstFrameMs: firstFrame - t.start,
    };
  } finally {
    if (session) await session.release().catch(() => undefined);
    peer.close();
  }
}
