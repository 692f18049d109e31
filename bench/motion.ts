/**
 * `npm run bench -- --motion`: does the hat follow a moving face? Each clip of
 * bench/motion-clips.ts goes through the real engine (MediaPipeline → WebRtcEndpoint →
 * FaceOverlayFilter → same endpoint, as the app builds it) from 1 and 4 wrtc cameras at once.
 * The hat is a key-colour image (its top half solid magenta, its bottom half transparent), so
 * every returned frame says from its pixels alone where the hat was drawn and at what angle;
 * its frame counter says which sent frame it is, and so where the face truly was.
 *
 * The filter is tagged to tilt the hat with the head, as the Magic Mirror app tags it (a plain
 * Kurento app's hat stays upright).
 *
 * Per returned frame: position error = distance from the drawn key region's centroid to where
 * KMS's placement formula puts it on the true face box of that frame (turned with the head by
 * its roll: the hat sits on the head); roll error = the region's principal axis vs the true roll;
 * lag = the d in 0..15 for which the true pose of frame n − d fits the drawn hat best (moving
 * frames only); missing = no hat region; doubled = more than one. On the still clip, jitter =
 * how far the drawn hat moves between consecutive returned frames.
 */
import { performance } from 'node:perf_hooks';
import { PNG } from 'pngjs';
import type { VideoFrame } from '../engine/media/frames.js';
import { serveStatic } from '../test/helpers/chromium.js';
import { FakeCameraPeer } from '../test/helpers/fake-camera-peer.js';
import { readCounterI420 } from '../test/helpers/frame-counter.js';
import { kurentoClient } from '../test/helpers/kurento.js';
import { boxOf, CLIP_NAMES, clipFrames, faceState, facesIn, poseAt, posesAt, renderClip, warmupFor, type ClipName, type FaceState, type Pose } from './motion-clips.js';
import { openWrtcLoad } from './measure.js';
import { cpuSeconds } from './proc.js';
import type { ServerUnderTest } from './server.js';
import type { EngineCounts } from '../test/helpers/engine-counts.js';
import { openSession, TUTORIAL_OFFSETS, type OpenSession } from './session.js';
import { percentile, round } from './stats.js';
import { findKeyBlobs, KEY_RGB, type KeyBlob, type KeyColour } from './key-blobs.js';

export { findKeyBlobs, type KeyBlob } from './key-blobs.js';

export interface MotionOptions {
  clips?: ClipName[];
  sessions?: number[];
  /** Seconds of returned frames scored per run (after the warm-up). */
  seconds: number;
  warmupSeconds: number;
  width: number;
  height: number;
  /** The cameras' frame rate (default 30); the clips move as many px a second at any rate. */
  fps?: number;
  /** More mirror sessions held open on the same engine while each clip is measured (--stress sessions:K). */
  loadSessions?: number;
  /** A label for the load the runs are measured under (bench/stress.ts), copied into each run. */
  stress?: string;
  log?: (line: string) => void;
}

export interface MotionRun {
  /** Who sent the clip and read the mirror: wrtc cameras, or the real page in Chromium (1 session). */
  client: 'wrtc' | 'chromium';
  clip: ClipName;
  sessions: number;
  /** Returned frames scored (all sessions). */
  frames: number;
  hatErrorPx: { p50: number | null; p95: number | null };
  lagFrames: { p50: number | null; n: number };
  rollErrorDeg: { p50: number | null; p95: number | null };
  /** Still clip: drawn hat's move between consecutive returned frames. */
  jitterPx: { p95: number | null } | null;
  /** Frames in which a face in full view had no hat of its colour at all. */
  missing: number;
  /** Frames with two or more hats of one face's colour (two hats on one face, or one left beside it). */
  doubled: number;
  /** Frames in which a face in full view had no hat within one face side of where it belongs (missing, or beside it). */
  noHat?: number;
  /** Frames with a hat more than one face side from its face, or drawn while its face was out of the frame. */
  stray?: number;
  /** doubled as a share of frames, and noHat as a share of the frames where a hat was due (%). */
  twoHatsPct?: number;
  noHatPct?: number;
  /** The camera's frame rate (30 unless --fps). */
  cameraFps?: number;
  /** The load the run was measured under (bench/stress.ts), if any. */
  stress?: string;
  /** Frames in which a face's own hat sat on another face (clips with several faces, each wearing its own). */
  swapped: number;
  /** Distinct counters returned per second, the slowest session. */
  fps: number;
  /** Engine CPU while scoring (null for a server whose pid is unknown). */
  engineCores: number | null;
  /** Detections per second per session while scoring, and the detector's duty at the end (embedded engine only). */
  detectionsPerSecond?: number | null;
  detectorDuty?: number | null;
  error?: string;
}

export interface MotionResult {
  /** Pan clip, 1 session (the issue's headline figures). */
  hatErrorPx: { p50: number | null; p95: number | null };
  lagFrames: { p50: number | null };
  /** Roll clip, 1 session. */
  rollErrorDeg: { p95: number | null };
  /** Frames with the hat missing or doubled, every run. */
  missedFrames: number;
  /** Frames in which a face wore another's hat (the crossing clip), every run. */
  swappedFrames: number;
  runs: MotionRun[];
}

const LAG_SEARCH = 15;

/** The test overlay: top half key colour, bottom half transparent (a square would have no axis to measure roll by). */
export function keyHatPng(size = 100, key: KeyColour = 'magenta'): Buffer {
  const png = new PNG({ width: size, height: size });
  for (let i = 0; i < size * size; i++) {
    const top = Math.floor(i / size) < size / 2;
    [png.data[i * 4], png.data[i * 4 + 1], png.data[i * 4 + 2]] = KEY_RGB[key];
    png.data[i * 4 + 3] = top ? 255 : 0;
  }
  return PNG.sync.write(png);
}

/** Where the key region of the hat belongs for a pose: centroid (frame px), area (px), angle (deg). */
export function expectedKey(p: Pose): { x: number; y: number; area: number; angleDeg: number } {
  const [ox, oy, ow, oh] = TUTORIAL_OFFSETS;
  const b = boxOf(p);
  // KMS: x = box.x + box.width·offsetX … (whole pixels); the key is the hat's top half.
  const x = Math.trunc(b.x + b.width * ox);
  const y = Math.trunc(b.y + b.height * oy);
  const w = Math.trunc(b.width * ow);
  const h = Math.trunc(b.height * oh);
  const ux = x + w / 2 - p.cx;
  const uy = y + h / 4 - p.cy;
  const t = (p.headRollDeg * Math.PI) / 180;
  return { x: p.cx + ux * Math.cos(t) - uy * Math.sin(t), y: p.cy + ux * Math.sin(t) + uy * Math.cos(t), area: (w * h) / 2, angleDeg: p.headRollDeg };
}

/** One returned frame, scored. */
export interface Scored {
  counter: number;
  blobs: KeyBlob[];
}

/** Which key colour face i's hat is on a clip with several faces (the filter's images, in turn). */
export const FACE_KEYS: readonly KeyColour[] = ['magenta', 'green'];

/** The key region's box for a pose (where the hat's top half goes, upright), to tell whether it lies inside the frame. */
function keyRect(p: Pose): { x0: number; y0: number; x1: number; y1: number } {
  const [ox, oy, ow, oh] = TUTORIAL_OFFSETS;
  const b = boxOf(p);
  const x = Math.trunc(b.x + b.width * ox);
  const y = Math.trunc(b.y + b.height * oy);
  return { x0: x, y0: y, x1: x + Math.trunc(b.width * ow), y1: y + Math.trunc((b.height * oh) / 2) };
}

/** What frame n asks of each face's hat (motion-clips.ts faceState). */
export function faceStates(clip: ClipName, n: number, width: number, height: number, fps = 30): FaceState[] {
  return posesAt(clip, n, width, height, fps).map((p) => faceState(p, keyRect(p), width, height));
}

/**
 * The figures of one run from its scored frames (pure: tested on its own). On a clip with
 * several faces each face wears its own key colour: which face a colour belongs to is taken
 * from the first frame in which every colour sits nearest a different face, and a later frame
 * in which it sits nearest another face counts as swapped (and is scored against its own face).
 *
 * Per face and frame (motion-clips.ts faceState): where the face is `visible`, a frame without
 * its hat within one face side of where it belongs is `noHat` (and without any hat of its
 * colour, `missing`); two or more of its hats anywhere in the frame are `doubled` (two hats on
 * one face: a second left behind or beside it); a hat more than one face side from where it
 * belongs, or drawn while its face is out of the frame, is `stray`. Errors are scored where the
 * face is visible or turned away (its hat, if drawn, still belongs on the head), not where it
 * is partly out of the frame (the drawn hat is clipped).
 */
export function scoreMotion(clip: ClipName, frames: Scored[][], width: number, height: number, fps = 30): Omit<MotionRun, 'client' | 'clip' | 'sessions' | 'fps' | 'engineCores'> {
  const errors: number[] = [];
  const lags: number[] = [];
  const rolls: number[] = [];
  const jitter: number[] = [];
  let missing = 0;
  let doubled = 0;
  let swapped = 0;
  let noHat = 0;
  let stray = 0;
  let due = 0;
  let count = 0;
  const keys = FACE_KEYS.slice(0, facesIn(clip));
  const keyAt = (face: number, n: number) => expectedKey(posesAt(clip, n, width, height, fps)[face]!);
  const sideAt = (face: number, n: number) => posesAt(clip, n, width, height, fps)[face]!.side;
  const nearestFace = (blob: KeyBlob, n: number) => {
    let best = 0;
    for (let f = 1; f < keys.length; f++) if (distance(blob, keyAt(f, n)) < distance(blob, keyAt(best, n))) best = f;
    return best;
  };
  for (const session of frames) {
    let owner: number[] | undefined = keys.length === 1 ? [0] : undefined;
    const previous: Array<{ counter: number; blob: KeyBlob } | undefined> = keys.map(() => undefined);
    for (const { counter, blobs } of session) {
      count++;
      const states = faceStates(clip, counter, width, height, fps);
      const byKey = keys.map((k) => blobs.filter((b) => (b.key ?? 'magenta') === k));
      const stateOf = (k: number) => states[owner ? owner[k]! : k]!;
      if (byKey.some((b, k) => b.length === 0 && stateOf(k) === 'visible')) missing++;
      if (byKey.some((b) => b.length > 1)) doubled++;
      if (!owner && byKey.every((b) => b.length === 1)) {
        const faces = byKey.map((b) => nearestFace(b[0]!, counter));
        if (new Set(faces).size === faces.length) owner = faces;
      }
      let swap = false;
      let anyNoHat = false;
      let anyStray = false;
      byKey.forEach((found, k) => {
        const face = owner ? owner[k]! : k;
        const state = states[face]!;
        const want = keyAt(face, counter);
        const near = (b: KeyBlob) => distance(b, want) <= sideAt(face, counter);
        if (state === 'visible') {
          due++;
          if (!found.some(near)) anyNoHat = true;
        }
        if (state === 'gone' ? found.length > 0 : found.some((b) => !near(b))) anyStray = true;
        if (found.length !== 1 || !owner || state === 'partial' || state === 'gone') {
          previous[k] = undefined;
          return;
        }
        const blob = found[0]!;
        if (nearestFace(blob, counter) !== face) swap = true;
        errors.push(distance(blob, want));
        rolls.push(Math.abs(wrapAngle(blob.angleDeg - want.angleDeg)));
        // Lag, where the face moves enough for it to show (≥ 4 px over the last 3 frames' time).
        const back = Math.max(1, Math.round((3 * fps) / 30));
        if (state === 'visible' && distance(want, keyAt(face, counter - back)) >= 4) {
          let best = 0;
          let bestError = Infinity;
          for (let d = 0; d <= LAG_SEARCH; d++) {
            const e = distance(blob, keyAt(face, counter - d));
            if (e < bestError) (bestError = e), (best = d);
          }
          lags.push(best);
        }
        const prev = previous[k];
        if (prev && counter === prev.counter + 1) jitter.push(distance(blob, prev.blob));
        previous[k] = { counter, blob };
      });
      if (swap) swapped++;
      if (anyNoHat) noHat++;
      if (anyStray) stray++;
    }
  }
  const pct = (n: number, of: number) => (of ? round((100 * n) / of, 2)! : 0);
  return {
    frames: count,
    hatErrorPx: { p50: round(percentile(errors, 50)), p95: round(percentile(errors, 95)) },
    lagFrames: { p50: round(percentile(lags, 50)), n: lags.length },
    rollErrorDeg: { p50: round(percentile(rolls, 50)), p95: round(percentile(rolls, 95)) },
    jitterPx: clip === 'still' ? { p95: round(percentile(jitter, 95)) } : null,
    missing,
    doubled,
    swapped,
    noHat,
    stray,
    twoHatsPct: pct(doubled, count),
    noHatPct: pct(noHat, Math.min(count, due)),
  };
}

const distance = (a: { x: number; y: number }, b: { x: number; y: number }) => Math.hypot(a.x - b.x, a.y - b.y);

/** Degrees folded into (−90, 90] (an axis has no direction). */
function wrapAngle(d: number): number {
  let a = d % 180;
  if (a > 90) a -= 180;
  if (a <= -90) a += 180;
  return a;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A run that could not be measured. */
export function failedRun(client: MotionRun['client'], clip: ClipName, sessions: number, error: string): MotionRun {
  return {
    client, clip, sessions, frames: 0, hatErrorPx: { p50: null, p95: null }, lagFrames: { p50: null, n: 0 },
    rollErrorDeg: { p50: null, p95: null }, jitterPx: null, missing: 0, doubled: 0, swapped: 0, fps: 0, engineCores: null, error,
  };
}

/** One run as a log line. */
export function motionLine(run: MotionRun): string {
  const figures = `error p50/p95 ${run.hatErrorPx.p50}/${run.hatErrorPx.p95} px, lag p50 ${run.lagFrames.p50}, roll p95 ${run.rollErrorDeg.p95}°${run.jitterPx ? `, jitter p95 ${run.jitterPx.p95} px` : ''}, missing ${run.missing}, doubled ${run.doubled} (${run.twoHatsPct ?? '–'} %), no hat ${run.noHat ?? '–'} (${run.noHatPct ?? '–'} %), stray ${run.stray ?? '–'}${facesIn(run.clip) > 1 ? `, swapped ${run.swapped}` : ''} of ${run.frames}, ${run.fps} fps, engine ${run.engineCores ?? '–'} cores`;
  const detector = run.detectionsPerSecond == null ? '' : `, ${run.detectionsPerSecond} detections/s per session (duty ${run.detectorDuty})`;
  const where = `${run.cameraFps ?? 30} fps camera${run.stress ? `, ${run.stress}` : ''}`;
  return `motion ${run.clip} ×${run.sessions} (${run.client}, ${where}): ${run.error ? `FAILED: ${run.error}` : figures + detector}`;
}

export async function measureMotion(server: ServerUnderTest, o: MotionOptions): Promise<MotionResult> {
  const log = o.log ?? (() => undefined);
  const hats = await serveStatic(keyHats());
  const runs: MotionRun[] = [];
  const load = o.loadSessions ? await openWrtcLoad(server.uri, o.loadSessions, { width: o.width, height: o.height, fps: o.fps ?? 30 }) : undefined;
  try {
    for (const clip of o.clips ?? CLIP_NAMES) {
      const t0 = performance.now();
      const frames = await renderClip(clip, o.width, o.height, o.fps ?? 30);
      log(`motion clip ${clip} rendered (${clipFrames(o.fps)} frames, ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      for (const n of o.sessions ?? [1, 4]) {
        const run = await runClip(server, keyHatUrls(hats.url, clip), clip, frames, n, o).catch((err: Error) => failedRun('wrtc', clip, n, err.message));
        Object.assign(run, { cameraFps: o.fps ?? 30, ...(o.stress ? { stress: o.stress } : {}) });
        runs.push(run);
        log(motionLine(run));
      }
    }
  } finally {
    await load?.close();
    await hats.close();
  }
  return summarizeMotion(runs);
}

/** The headline figures (wrtc, 1 session) and the missed frames of every run. */
export function summarizeMotion(runs: MotionRun[]): MotionResult {
  const at = (clip: ClipName) => runs.find((r) => r.client === 'wrtc' && r.clip === clip && r.sessions === 1 && !r.error);
  return {
    hatErrorPx: at('pan')?.hatErrorPx ?? { p50: null, p95: null },
    lagFrames: { p50: at('pan')?.lagFrames.p50 ?? null },
    rollErrorDeg: { p95: at('roll')?.rollErrorDeg.p95 ?? null },
    missedFrames: runs.reduce((s, r) => s + r.missing + r.doubled, 0),
    swappedFrames: runs.reduce((s, r) => s + r.swapped, 0),
    runs,
  };
}

/** The key hats, served: one per key colour. */
export function keyHats(): Record<string, Buffer> {
  return Object.fromEntries(FACE_KEYS.map((k) => [`/key-hat-${k}.png`, keyHatPng(100, k)]));
}

/** The filter's images for a clip: the magenta hat, and on a clip with several faces one more per face (each its own). */
export function keyHatUrls(base: string, clip: ClipName): string[] {
  return FACE_KEYS.slice(0, facesIn(clip)).map((k) => `${base}/key-hat-${k}.png`);
}

async function runClip(server: ServerUnderTest, [hatUrl, ...eachFace]: string[], clip: ClipName, frames: Uint8Array[], n: number, o: MotionOptions): Promise<MotionRun> {
  const client = await kurentoClient(server.uri);
  const painter = (dst: Uint8Array, i: number) => dst.set(frames[i % frames.length]!);
  const peers = Array.from({ length: n }, () => new FakeCameraPeer({ painter, width: o.width, height: o.height, fps: o.fps ?? 30, keepFrames: 1 }));
  const sessions: OpenSession[] = [];
  const scored: Scored[][] = peers.map(() => []);
  const minArea = expectedKey(poseAt(clip, 0, o.width, o.height)).area * 0.25;
  let scoring = false;
  let engineCores: number | null = null;
  let detector: ReturnType<typeof detectorFigures> = {};
  try {
    for (const p of peers) sessions.push(await openSession(client, p, 'mirror', hatUrl!, { connectTimeoutMs: 20_000, tilt: true, eachFace }));
    peers.forEach((p, s) =>
      p.received.onFrame((frame) => {
        if (!scoring) return;
        const counter = readCounterI420(frame);
        if (counter !== null) scored[s]!.push({ counter, blobs: FACE_KEYS.slice(0, facesIn(clip)).flatMap((k) => findKeyBlobs(frame, minArea, k)) });
      }));
    await Promise.all(peers.map((p) => p.start()));
    await Promise.all(peers.map((p) => p.received.waitForCounters(30, 30_000)));
    await sleep(warmupFor(clip, o.warmupSeconds) * 1000);
    const cpu0 = server.pid ? cpuSeconds(server.pid) : NaN;
    const c0 = await server.counts();
    const t0 = performance.now();
    scoring = true;
    await sleep(o.seconds * 1000);
    scoring = false;
    const elapsed = (performance.now() - t0) / 1000;
    engineCores = server.pid ? round((cpuSeconds(server.pid) - cpu0) / elapsed, 2) : null;
    detector = detectorFigures(c0, await server.counts(), elapsed, n);
  } finally {
    await Promise.all(sessions.map((s) => s.release().catch(() => undefined)));
    for (const p of peers) p.close();
    client.close();
  }
  const fps = Math.min(...scored.map((s) => new Set(s.map((f) => f.counter)).size / o.seconds));
  return { client: 'wrtc', clip, sessions: n, fps: round(fps)!, engineCores, ...detector, ...scoreMotion(clip, scored, o.width, o.height, o.fps ?? 30) };
}

/** Detections per second per session over a window, and the duty at its end, from two engine readings. */
export function detectorFigures(c0: EngineCounts | null, c1: EngineCounts | null, seconds: number, sessions: number): Pick<MotionRun, 'detectionsPerSecond' | 'detectorDuty'> {
  if (!c0 || !c1) return {};
  return { detectionsPerSecond: round((c1.detections - c0.detections) / seconds / sessions), detectorDuty: c1.detectorDuty ?? null };
}
