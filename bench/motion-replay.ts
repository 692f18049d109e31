/**
 * The motion clips through the tracker alone, on a schedule: no WebRTC, no codec, no second
 * process — BoxTracker (engine/vision/box-tracker.ts) fed the clip's frames as a loaded engine
 * would see them (every k-th camera frame, so large gaps) and the real detector's results
 * (FaceDetector on the same frames, computed once and cached per frame) arriving `latencyMs` after
 * the frame they ran on, one at a time, at most one every `intervalMs` (the budget at its floor)
 * unless the tracker asks for one (box-tracker.ts wantsDetection). The boxes are scored as the
 * bench scores drawn hats (bench/motion.ts scoreMotion, the key region's centroid and axis from
 * KMS's formula on each box).
 *
 * For finding out where tracking breaks, reproducibly, in seconds:
 *   npx tsx bench/motion-replay.ts --clips fast --fps 15 --every 2 --latency 250 --interval 1500
 */
import { parseArgs } from 'node:util';
import type { VideoFrame } from '../engine/media/frames.js';
import { BoxTracker, wantsDetection } from '../engine/vision/box-tracker.js';
import { FaceDetector, type FaceBox } from '../engine/vision/face-detector.js';
import { ALL_CLIP_NAMES, clipFrames, FAST_CLIP_NAMES, renderClip, type ClipName } from './motion-clips.js';
import { scoreMotion, type Scored } from './motion.js';
import { TUTORIAL_OFFSETS } from './session.js';

export interface ReplaySchedule {
  fps: number;
  /** The engine sees every `every`-th camera frame. */
  every: number;
  /** A detection's result arrives this long after its frame. */
  latencyMs: number;
  /** Detections start at most this often (unless the tracker asks). */
  intervalMs: number;
  /** A detection the tracker asks for starts no sooner than this after the last one started. */
  urgentMinMs: number;
  /** Camera frames replayed. */
  frames: number;
  /** Bursts (a starved engine's decoder hands over its backlog at once; the newest `burst` go on): every `every` frames, the last `burst` of them 1 ms apart. */
  burst?: number;
}

/** Where the hat's key region (top half of the hat) is drawn for a box: what bench/motion.ts finds in the pixels. */
export function keyBlobOf(b: FaceBox): Scored['blobs'][number] {
  const [ox, oy, ow, oh] = TUTORIAL_OFFSETS;
  const x = Math.trunc(b.x + b.width * ox);
  const y = Math.trunc(b.y + b.height * oy);
  const w = Math.trunc(b.width * ow);
  const h = Math.trunc(b.height * oh);
  const cx = b.x + b.width / 2;
  const cy = b.y + b.height / 2;
  const ux = x + w / 2 - cx;
  const uy = y + h / 4 - cy;
  const t = ((b.rollDeg ?? 0) * Math.PI) / 180;
  return { x: cx + ux * Math.cos(t) - uy * Math.sin(t), y: cy + ux * Math.sin(t) + uy * Math.cos(t), area: (w * h) / 2, angleDeg: b.rollDeg ?? 0, key: 'magenta' };
}

export async function replayClip(clip: ClipName, s: ReplaySchedule, detect: (n: number, frame: VideoFrame) => Promise<FaceBox[]>, width = 640, height = 480) {
  const frames = await renderClip(clip, width, height, s.fps);
  const tracker = new BoxTracker();
  const scored: Scored[] = [];
  const frameMs = 1000 / s.fps;
  let pending: { at: number; seq: number; boxes: FaceBox[] } | undefined;
  let lastStart = -Infinity;
  let nextAllowed = 0;
  let detections = 0;
  let urgent = 0;
  const seen: Array<{ n: number; now: number }> = [];
  for (let n = 0; n < s.frames; n += s.every) {
    const b = Math.min(s.burst ?? 1, s.every);
    for (let k = b - 1; k >= 0; k--) if (n - k >= 0) seen.push({ n: n - k, now: n * frameMs + (b - 1 - k) });
  }
  for (const { n, now } of seen) {
    if (pending && pending.at <= now) {
      tracker.update(pending.boxes, pending.seq);
      pending = undefined;
    }
    const frame: VideoFrame = { width, height, data: frames[n % frames.length]! };
    const seq = tracker.follow(frame, now);
    const asked = wantsDetection(frame);
    if (!pending && (now >= nextAllowed || (asked && now - lastStart >= s.urgentMinMs))) {
      if (now < nextAllowed) urgent++;
      detections++;
      lastStart = now;
      nextAllowed = now + s.intervalMs;
      pending = { at: now + s.latencyMs, seq, boxes: await detect(n % frames.length, frame) };
      if (process.env.FM_TRACE) console.log("detect", n, asked, JSON.stringify(pending.boxes.map((b) => [Math.round(b.x), Math.round(b.y), Math.round(b.width)])));
    }
    if (process.env.FM_TRACE) console.log(n, JSON.stringify(tracker.boxes.map((b) => [b.x, b.y, b.width])));
    // Off-frame boxes draw nothing.
    const blobs = tracker.boxes.map(keyBlobOf).filter((b) => b.x > -40 && b.x < width + 40 && b.y > -20 && b.y < height + 20);
    // The bench scores after a warm-up: here the first second.
    if (now >= 1000) scored.push({ counter: n % frames.length, blobs });
  }
  return { ...scoreMotion(clip, [scored], width, height, s.fps), detections, urgent };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      clips: { type: 'string', default: 'fast' },
      fps: { type: 'string', default: '30' },
      every: { type: 'string', default: '1' },
      latency: { type: 'string', default: '100' },
      interval: { type: 'string', default: '67' },
      'urgent-min': { type: 'string', default: '150' },
      burst: { type: 'string', default: '1' },
      seconds: { type: 'string', default: '17' },
    },
  });
  const clips = values.clips!.split(',').flatMap((c) => (c === 'fast' ? FAST_CLIP_NAMES : c === 'all' ? ALL_CLIP_NAMES : [c as ClipName]));
  const detector = await FaceDetector.create();
  try {
    for (const fps of values.fps!.split(',').map(Number)) {
      const s: ReplaySchedule = { fps, every: Number(values.every), latencyMs: Number(values.latency), intervalMs: Number(values.interval), urgentMinMs: Number(values['urgent-min']), burst: Number(values.burst), frames: Math.round(Number(values.seconds) * fps) };
      for (const clip of clips) {
        const cache = new Map<number, FaceBox[]>();
        const r = await replayClip(clip, s, async (n, frame) => {
          if (!cache.has(n)) cache.set(n, await detector.detect(frame, { landmarks: true }));
          return cache.get(n)!.map((b) => ({ ...b }));
        });
        console.log(`${clip.padEnd(8)} ${fps} fps every ${s.every}${s.burst && s.burst > 1 ? ` (bursts of ${s.burst})` : ''}: error p50/p95 ${r.hatErrorPx.p50}/${r.hatErrorPx.p95} px, two hats ${r.twoHatsPct} %, no hat ${r.noHatPct} %, stray ${r.stray}, missing ${r.missing} of ${r.frames}; ${r.detections} detections (${r.urgent} asked for)`);
      }
    }
  } finally {
    await detector.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
