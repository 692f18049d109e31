/**
 * The mirror as a person sees it: the real renderer page (built by Vite, served by web mode,
 * kurento-utils WebRtcPeer) in headless Chromium with a fake camera playing a y4m that carries
 * a frame counter (test/helpers/video-fixtures.ts), real clicks on Start and Stop.
 *
 * - Starts: Start → first frame the mirror <video> presents, from the page's own Start marks
 *   (renderer/timing.ts): camera open, offer sent, answer applied, ICE connected, first camera
 *   frame at the media server, first mirror frame. The very first Start after launching web
 *   mode is the cold one (the engine and its detector start with web mode); the rest are warm,
 *   Stop → Start on the same page as a person does it. Every Start's first mirror frame is also
 *   seen by the bench's own frame recorder, which reads its counter from the pixels.
 * - Runs: N pages mirroring at once; per page, mirror fps = distinct counters the mirror video
 *   presented per second, and send → paint latency = when the mirror showed counter n minus
 *   when the camera preview of the same page showed it (both the page's clock). The same for N
 *   pages on a plain WebRtcEndpoint loopback (endpoint.connect(endpoint)), so the filter's cost
 *   is a difference measured in one run.
 */
import { performance } from 'node:perf_hooks';
import kurento from 'kurento-client';
import type { Page } from 'playwright-core';
import { startWebMode, type WebMode } from '../main/web/web-mode.js';
import { TEXT } from '../renderer/messages.js';
import { START_MARKS, type StartMark } from '../renderer/timing.js';
import { buildRenderer } from '../test/helpers/build-renderer.js';
import { launchChromium, serveStatic, type ChromiumHandle } from '../test/helpers/chromium.js';
import { engineCounts } from '../test/helpers/engine-counts.js';
import { kurentoClient } from '../test/helpers/kurento.js';
import { loopbackPage } from '../test/helpers/loopback-page.js';
import { makeY4m } from '../test/helpers/video-fixtures.js';
import { waitFor } from '../test/helpers/wait.js';
import { frameRecorderScript, pageNow, recordFrames, startTimeline, takeFrames, type PresentedFrame, type StartTimeline } from './browser-page.js';
import { openWrtcLoad, type Camera } from './measure.js';
import { cpuSeconds, machineCpuSeconds } from './proc.js';
import { mean, round, summarize } from './stats.js';

export interface BrowserBenchOptions {
  /** The media server web mode uses (default: the embedded engine). */
  wsUri?: string;
  /** Warm Starts (after the cold one). */
  starts: number;
  sessions: number[];
  seconds: number;
  warmupSeconds: number;
  camera: Camera;
  /** Also run each session count on a plain WebRtcEndpoint loopback. */
  loopback: boolean;
  /** wrtc mirror sessions kept open on the engine while the pages are measured (--under-load). */
  backgroundSessions?: number;
  log?: (line: string) => void;
}

/** The steps of a Start in causal order; each phase is the time from the previous one. */
export const PHASES: Exclude<StartMark, 'start'>[] = ['camera', 'offer', 'answer', 'ice', 'serverMedia', 'firstFrame'];

export interface BrowserStart {
  /** Start → first mirror frame (the page's marks). */
  startMs: number;
  /** Each step, ms after Start. */
  atMs: StartTimeline;
  /** Each phase: ms from the previous step (PHASES order); they add up to startMs. */
  phasesMs: Partial<Record<(typeof PHASES)[number], number>>;
  /** The first frame the bench's own recorder saw in the mirror: its counter and ms after Start. */
  recorded: { counter: number | null; atMs: number } | null;
}

export interface BrowserRun {
  pipeline: 'mirror' | 'loopback';
  sessions: number;
  /** wrtc mirror sessions running on the same engine meanwhile. */
  backgroundSessions: number;
  error?: string;
  seconds: number;
  fps: { min: number | null; mean: number | null; max: number | null };
  /** Frames per second the camera previews presented (what the pages sent). */
  cameraFps: { min: number | null; mean: number | null };
  latencyMs: { p50: number | null; p95: number | null; n: number };
  latencyFrames: { p50: number | null; p95: number | null };
  perSession: Array<{
    fps: number;
    cameraFps: number;
    latencyMsP50: number | null;
    framesWithoutCounter: number;
    /** The page's own WebRTC counters (getStats) over the window: where its frames went. */
    video: { sentFps: number | null; receivedFps: number | null; decodedFps: number | null; droppedFps: number | null; jitterBufferMs: number | null };
  }>;
  engineCores: number | null;
  engineCoresPerSession: number | null;
  machineBusyCores: number;
}

export interface BrowserResult {
  client: 'chromium';
  /** Warm Starts: Start → first mirror frame; cold = the first Start after launch. */
  startMs: { p50: number | null; p95: number | null; min: number | null; max: number | null; n: number; cold: number | null };
  /** p50 over the warm Starts of each phase (ms from the previous step). */
  phasesMs: Partial<Record<(typeof PHASES)[number], number | null>>;
  /** The first Start after launch; ms after launching web mode: page ready, engine warm (built-in only), Start pressed. */
  cold: (BrowserStart & { pageReadyMs: number; engineWarmMs: number | null; launchToClickMs: number }) | null;
  starts: BrowserStart[];
  failures: string[];
  runs: BrowserRun[];
  /** Per session count: mirror minus loopback send → paint latency p50, ms and frames. */
  latencyVsLoopback: Array<{ sessions: number; addedP50Ms: number | null; addedP50Frames: number | null }>;
}

export const MIRROR = '#mirror-video';
const CAMERA = '#camera-video';
const START_TIMEOUT_MS = 20_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function measureBrowser(o: BrowserBenchOptions): Promise<BrowserResult> {
  const log = o.log ?? (() => undefined);
  const { width, height, fps } = o.camera;
  await buildRenderer();
  const chromium = await launchChromium({ fakeVideo: await makeY4m({ background: 'face', width, height, fps, frames: clipFrames(o) }) });
  const recorder = await frameRecorderScript();
  const result: BrowserResult = {
    client: 'chromium',
    startMs: { p50: null, p95: null, min: null, max: null, n: 0, cold: null },
    phasesMs: {},
    cold: null,
    starts: [],
    failures: [],
    runs: [],
    latencyVsLoopback: [],
  };
  let web: WebMode | undefined;
  try {
    // Cold: web mode launched now, the page opened as soon as it serves; Start is pressed once
    // the engine says its detector is warm (web mode warms it at launch) — the first Start a
    // person makes, on a fresh engine process and a fresh page. How long that warming took is
    // reported beside it (a Start before then waits, and the page says so).
    const launchedAt = performance.now();
    web = await startWebMode({ asUri: 'http://127.0.0.1:0', wsUri: o.wsUri ?? 'builtin', engineLog: () => undefined, log: () => undefined });
    const builtin = (o.wsUri ?? 'builtin') === 'builtin';
    const page = await openPage(chromium, web.url, recorder);
    const pageReadyMs = performance.now() - launchedAt;
    let engineWarmMs: number | null = null;
    if (builtin) {
      const { uri } = await web.registry.engine.start();
      await waitFor(async () => (await engineCounts(uri)).detector === 'ready', 30_000, 'the engine warmed its detector');
      engineWarmMs = round(performance.now() - launchedAt, 0);
    }
    const launchToClickMs = performance.now() - launchedAt;
    try {
      const cold = await oneStart(page);
      result.cold = { ...cold, launchToClickMs: round(launchToClickMs, 0)!, pageReadyMs: round(pageReadyMs, 0)!, engineWarmMs };
      log(`cold start: ${cold.startMs.toFixed(0)} ms (page ready ${pageReadyMs.toFixed(0)} ms, engine warm ${engineWarmMs ?? '–'} ms after launch) ${phaseText(cold)}`);
    } catch (err) {
      result.failures.push(`cold: ${(err as Error).message}`);
      log(`cold start FAILED: ${(err as Error).message}`);
    }
    await stop(page);
    for (let i = 0; i < o.starts; i++) {
      await sleep(300); // a person's pause between Stop and Start; the server releases meanwhile
      try {
        const s = await oneStart(page);
        result.starts.push(s);
        log(`start ${i + 1}: ${s.startMs.toFixed(0)} ms ${phaseText(s)}`);
      } catch (err) {
        result.failures.push(`start ${i + 1}: ${(err as Error).message}`);
        log(`start ${i + 1} FAILED: ${(err as Error).message}`);
      }
      await stop(page);
    }
    await page.context().close();
    summarizeStarts(result);

    const engine = (o.wsUri ?? 'builtin') === 'builtin' ? await web.registry.engine.start() : undefined;
    const k = engine ? (o.backgroundSessions ?? 0) : 0;
    for (const n of o.sessions) {
      const load = k ? await openWrtcLoad(engine!.uri, k, o.camera) : undefined;
      if (load) log(`browser: ${k} wrtc mirror sessions running meanwhile`);
      try {
        const ro = { ...o, backgroundSessions: k };
        result.runs.push(await runPages(n, 'mirror', () => mirrorPages(chromium, web!, recorder, n), engine?.pid, ro, log));
        if (o.loopback && engine) result.runs.push(await runPages(n, 'loopback', () => loopbackPages(chromium, engine.uri, recorder, n), engine.pid, ro, log));
      } finally {
        await load?.close();
      }
      if (engine) await settle(engine.uri);
    }
    for (const n of o.sessions) {
      const m = result.runs.find((r) => r.pipeline === 'mirror' && r.sessions === n && !r.error);
      const l = result.runs.find((r) => r.pipeline === 'loopback' && r.sessions === n && !r.error);
      if (m?.latencyMs.p50 == null || l?.latencyMs.p50 == null) continue;
      const added = m.latencyMs.p50 - l.latencyMs.p50;
      result.latencyVsLoopback.push({ sessions: n, addedP50Ms: round(added), addedP50Frames: round(added / (1000 / fps), 2) });
    }
  } finally {
    await chromium.close();
    await web?.close();
  }
  return result;
}

/** Keeps the page's RTCPeerConnections reachable (window.__benchPcs) so their getStats can be read. */
const PC_RECORDER = `(() => {
  const Native = window.RTCPeerConnection;
  window.__benchPcs = [];
  window.RTCPeerConnection = class extends Native {
    constructor(...args) { super(...args); window.__benchPcs.push(this); }
  };
})();`;

/** Totals of the page's live video streams, from getStats: where the page's frames went. */
async function pageVideoTotals(page: Page): Promise<Record<string, number>> {
  // A string, not a function: tsx would add its __name helper to a function, which the page lacks.
  return page.evaluate(`(async () => {
    const t = {};
    const add = (k, v) => { if (typeof v === 'number') t[k] = (t[k] ?? 0) + v; };
    for (const pc of window.__benchPcs ?? []) {
      if (pc.connectionState === 'closed') continue;
      for (const s of (await pc.getStats()).values()) {
        if (s.kind !== 'video') continue;
        if (s.type === 'inbound-rtp') for (const k of ['framesReceived', 'framesDecoded', 'framesDropped', 'jitterBufferDelay', 'jitterBufferEmittedCount']) add('in.' + k, s[k]);
        if (s.type === 'outbound-rtp') for (const k of ['framesSent']) add('out.' + k, s[k]);
      }
    }
    return t;
  })()`);
}

export async function openPage(chromium: ChromiumHandle, url: string, recorder: string): Promise<Page> {
  const page = await chromium.page();
  await page.addInitScript(recorder);
  await page.addInitScript(PC_RECORDER);
  await page.goto(url);
  await page.locator('#status-text', { hasText: TEXT.status.ready }).waitFor({ timeout: START_TIMEOUT_MS });
  return page;
}

/** Clicks Start and waits for the mirror's first frame; the page's marks say where the time went. */
export async function oneStart(page: Page): Promise<BrowserStart> {
  await recordFrames(page, MIRROR);
  await page.locator('#start-stop').click();
  try {
    await page.waitForFunction((name) => performance.getEntriesByName(name, 'mark').length > 0, START_MARKS.firstFrame, { timeout: START_TIMEOUT_MS, polling: 50 });
  } catch {
    const shown = await page.locator('#problem-title').textContent().catch(() => null);
    throw new Error(`no mirror frame within ${START_TIMEOUT_MS / 1000} s (page shows: ${shown || (await page.locator('#status-text').textContent())})`);
  }
  await sleep(100); // the recorder sees the same first frame a moment later
  const atMs = await startTimeline(page);
  const startedAt = await page.evaluate((name) => performance.getEntriesByName(name, 'mark').at(-1)!.startTime, START_MARKS.start);
  const frames = await takeFrames(page, MIRROR);
  const first = frames[0];
  return { ...timelineToPhases(atMs), recorded: first ? { counter: first[0], atMs: round(first[1] - startedAt, 1)! } : null };
}

/**
 * A Start's phases from its marks: each step's time from the latest step before it (PHASES
 * order; the camera opens before the offer is made, and a server may report a step after the
 * first frame), counted up to the first frame, so the phases add up to startMs.
 */
export function timelineToPhases(atMs: StartTimeline): Pick<BrowserStart, 'startMs' | 'atMs' | 'phasesMs'> {
  const end = atMs.firstFrame!;
  const phasesMs: BrowserStart['phasesMs'] = {};
  let previous = 0;
  for (const step of PHASES) {
    const at = atMs[step];
    if (at === undefined) continue;
    const upTo = Math.min(Math.max(previous, at), end);
    phasesMs[step] = upTo - previous;
    previous = upTo;
  }
  return { startMs: end, atMs, phasesMs };
}

export async function stop(page: Page): Promise<void> {
  const button = page.locator('#start-stop');
  if ((await button.getAttribute('data-state')) !== 'idle') await button.click();
  await page.waitForFunction(() => document.querySelector('#start-stop')?.getAttribute('data-state') === 'idle', undefined, { timeout: 10_000 });
}

function phaseText(s: BrowserStart): string {
  return `(${PHASES.map((p) => `${p} +${s.phasesMs[p]?.toFixed(0) ?? '–'}`).join(', ')})`;
}

function summarizeStarts(r: BrowserResult): void {
  const total = summarize(r.starts.map((s) => s.startMs));
  r.startMs = {
    p50: round(total.p50, 0),
    p95: round(total.p95, 0),
    min: round(total.min, 0),
    max: round(total.max, 0),
    n: total.n,
    cold: r.cold ? round(r.cold.startMs, 0) : null,
  };
  for (const p of PHASES) {
    const v = r.starts.map((s) => s.phasesMs[p]).filter((x): x is number => x !== undefined);
    r.phasesMs[p] = v.length ? round(summarize(v).p50, 0) : null;
  }
}

// ── N pages at once ─────────────────────────────────────────────────────────────────────────

interface LivePages {
  /** Each page with the selectors of its camera preview and of the returned video. */
  pages: Array<{ page: Page; camera: string; mirror: string }>;
  close(): Promise<void>;
}

async function mirrorPages(chromium: ChromiumHandle, web: WebMode, recorder: string, n: number): Promise<LivePages> {
  const pages: Page[] = [];
  const close = async () => {
    for (const p of pages) await stop(p).catch(() => undefined);
    for (const p of pages) await p.context().close().catch(() => undefined);
  };
  try {
    for (let i = 0; i < n; i++) {
      const page = await openPage(chromium, web.url, recorder);
      pages.push(page);
      await oneStart(page); // one after another, as people arrive
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { pages: pages.map((page) => ({ page, camera: CAMERA, mirror: MIRROR })), close };
}

/** The loopback page with its camera shown in <video id="local">, as the mirror page shows it. */
const LOOPBACK_PREVIEW = `
  const makeOfferFirst = window.makeOffer;
  window.makeOffer = async () => {
    const sdp = await makeOfferFirst();
    const v = document.createElement('video');
    Object.assign(v, { id: 'local', autoplay: true, muted: true, playsInline: true });
    v.srcObject = new MediaStream(pc.getSenders().map((s) => s.track).filter(Boolean));
    document.body.append(v);
    return sdp;
  };`;

async function loopbackPages(chromium: ChromiumHandle, engineUri: string, recorder: string, n: number): Promise<LivePages> {
  const site = await serveStatic({ '/index.html': loopbackPage(LOOPBACK_PREVIEW) });
  const client = await kurentoClient(engineUri);
  const pipelines: kurento.MediaPipeline[] = [];
  const pages: Page[] = [];
  const close = async () => {
    for (const p of pipelines) await p.release().catch(() => undefined);
    for (const p of pages) await p.context().close().catch(() => undefined);
    client.close();
    await site.close();
  };
  try {
    for (let i = 0; i < n; i++) {
      const page = await chromium.page();
      pages.push(page);
      await page.addInitScript(recorder);
      await page.addInitScript(PC_RECORDER);
      const found: kurento.IceCandidate[] = [];
      let endpoint: kurento.WebRtcEndpoint | undefined;
      await page.exposeFunction('onLocalCandidate', (c: kurento.IceCandidate) => {
        const candidate = kurento.getComplexType('IceCandidate')(c);
        if (endpoint) void endpoint.addIceCandidate(candidate);
        else found.push(candidate);
      });
      await page.goto(`${site.url}/`);
      const pipeline = await client.create('MediaPipeline');
      pipelines.push(pipeline);
      const ep = await pipeline.create('WebRtcEndpoint');
      await ep.connect(ep);
      ep.on('IceCandidateFound', (e: { candidate: kurento.IceCandidate }) =>
        void page.evaluate(`window.addCandidate(${JSON.stringify({ candidate: e.candidate.candidate, sdpMid: e.candidate.sdpMid, sdpMLineIndex: e.candidate.sdpMLineIndex })})`).catch(() => undefined));
      const answer = await ep.processOffer((await page.evaluate('window.makeOffer()')) as string);
      endpoint = ep;
      for (const c of found.splice(0)) void ep.addIceCandidate(c);
      await page.evaluate(`window.setAnswer(${JSON.stringify(answer)})`);
      await ep.gatherCandidates();
      await page.waitForFunction(() => (document.querySelector('#remote') as HTMLVideoElement).videoWidth > 0, undefined, { timeout: START_TIMEOUT_MS });
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { pages: pages.map((page) => ({ page, camera: '#local', mirror: '#remote' })), close };
}

async function runPages(
  n: number,
  pipeline: BrowserRun['pipeline'],
  open: () => Promise<LivePages>,
  enginePid: number | undefined,
  o: BrowserBenchOptions,
  log: (line: string) => void,
): Promise<BrowserRun> {
  const run: BrowserRun = {
    pipeline,
    sessions: n,
    backgroundSessions: o.backgroundSessions ?? 0,
    seconds: 0,
    fps: { min: null, mean: null, max: null },
    cameraFps: { min: null, mean: null },
    latencyMs: { p50: null, p95: null, n: 0 },
    latencyFrames: { p50: null, p95: null },
    perSession: [],
    engineCores: null,
    engineCoresPerSession: null,
    machineBusyCores: 0,
  };
  let live: LivePages | undefined;
  try {
    live = await open();
    await sleep(o.warmupSeconds * 1000);
    const windows: Array<{ t0: number; stats: Record<string, number> }> = [];
    for (const p of live.pages) {
      await recordFrames(p.page, p.camera);
      await recordFrames(p.page, p.mirror);
      windows.push({ t0: await pageNow(p.page), stats: await pageVideoTotals(p.page) });
    }
    const cpu0 = enginePid ? cpuSeconds(enginePid) : NaN;
    const m0 = machineCpuSeconds();
    const w0 = performance.now();
    await sleep(o.seconds * 1000);
    const elapsed = (performance.now() - w0) / 1000;
    const cpu = enginePid ? (cpuSeconds(enginePid) - cpu0) / elapsed : NaN;
    const m1 = machineCpuSeconds();
    const latencies: number[] = [];
    for (const [i, p] of live.pages.entries()) {
      const mirror = await takeFrames(p.page, p.mirror);
      const camera = await takeFrames(p.page, p.camera);
      const seconds = ((await pageNow(p.page)) - windows[i]!.t0) / 1000;
      const s = sessionFigures(camera, mirror, seconds);
      latencies.push(...s.latencies);
      const end = await pageVideoTotals(p.page);
      const d = (k: string) => (end[k] ?? NaN) - (windows[i]!.stats[k] ?? NaN);
      run.perSession.push({
        fps: round(s.fps)!,
        cameraFps: round(s.cameraFps)!,
        latencyMsP50: round(summarize(s.latencies).p50),
        framesWithoutCounter: s.withoutCounter,
        video: {
          sentFps: round(d('out.framesSent') / seconds),
          receivedFps: round(d('in.framesReceived') / seconds),
          decodedFps: round(d('in.framesDecoded') / seconds),
          droppedFps: round(d('in.framesDropped') / seconds),
          jitterBufferMs: round((1000 * d('in.jitterBufferDelay')) / d('in.jitterBufferEmittedCount')),
        },
      });
    }
    const fpsList = run.perSession.map((s) => s.fps);
    const lat = summarize(latencies);
    const frameMs = 1000 / o.camera.fps;
    Object.assign(run, {
      seconds: round(elapsed, 2)!,
      fps: { min: round(Math.min(...fpsList)), mean: round(mean(fpsList)), max: round(Math.max(...fpsList)) },
      cameraFps: { min: round(Math.min(...run.perSession.map((s) => s.cameraFps))), mean: round(mean(run.perSession.map((s) => s.cameraFps))) },
      latencyMs: { p50: round(lat.p50), p95: round(lat.p95), n: lat.n },
      latencyFrames: { p50: round(lat.p50 / frameMs, 2), p95: round(lat.p95 / frameMs, 2) },
      engineCores: round(cpu, 2),
      engineCoresPerSession: round(cpu / n, 2),
      machineBusyCores: round((m1.busy - m0.busy) / elapsed, 2)!,
    } satisfies Partial<BrowserRun>);
    const v = run.perSession[0]?.video;
    log(`browser ${pipeline} ×${n}: fps ${run.fps.min}–${run.fps.max} (camera ${run.cameraFps.min}), send→paint p50 ${run.latencyMs.p50} ms, engine ${run.engineCores} cores; page 1 sent ${v?.sentFps} fps, received ${v?.receivedFps}, decoded ${v?.decodedFps}, dropped ${v?.droppedFps}, jitter buffer ${v?.jitterBufferMs} ms`);
  } catch (err) {
    run.error = (err as Error).message;
    log(`browser ${pipeline} ×${n}: FAILED: ${run.error}`);
  } finally {
    await live?.close();
  }
  return run;
}

/**
 * One page's figures from its recordings: mirror fps = distinct counters presented per second;
 * latency per counter = its first presentation in the mirror minus the latest presentation of
 * the same counter in the camera preview before it. The clip is longer than a window
 * (clipFrames), so no counter comes round twice in one.
 */
export function sessionFigures(camera: PresentedFrame[], mirror: PresentedFrame[], seconds: number) {
  const shownAt = new Map<number, number[]>();
  for (const [n, t] of camera) if (n !== null) (shownAt.get(n) ?? shownAt.set(n, []).get(n)!).push(t);
  const seen = new Set<number>();
  const latencies: number[] = [];
  let withoutCounter = 0;
  for (const [n, t] of mirror) {
    if (n === null) withoutCounter++;
    if (n === null || seen.has(n)) continue;
    seen.add(n);
    const sent = (shownAt.get(n) ?? []).filter((c) => c <= t).at(-1);
    if (sent !== undefined) latencies.push(t - sent);
  }
  return { fps: seen.size / seconds, cameraFps: shownAt.size / seconds, latencies, withoutCounter };
}

/** Clip length for a window: longer than warm-up + window + a margin, at least 10 s. */
export function clipFrames(o: Pick<BrowserBenchOptions, 'seconds' | 'warmupSeconds' | 'camera'>): number {
  return Math.max(300, Math.ceil((o.seconds + o.warmupSeconds + 5) * o.camera.fps));
}

/** Waits until the engine has no pipeline left. */
async function settle(uri: string): Promise<void> {
  await waitFor(async () => (await engineCounts(uri)).pipelines === 0, 10_000, 'engine back to no pipelines').catch(() => undefined);
}
