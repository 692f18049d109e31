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
 * `--vp8 300` passes the clip through a VP8 encoder at 300 kbit/s and back first, as a browser
 * short of CPU sends it; `--late 3` hands every 3rd frame over late, 1 ms before the next, as a
 * busy engine takes its queued frames (engine/media/frame-burst.ts).
 */
import { spawn } from 'node:child_process';
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
  /** The clip through a VP8 encoder at this bitrate (kbit/s) and back, as a browser short of CPU sends it (none: the rendered frames). */
  vp8Kbps?: number;
  /** Bursts (a starved engine's decoder hands over its backlog at once; the newest `burst` go on): every `every` frames, the last `burst` of them 1 ms apart. */
  burst?: number;
  /** Every `late`-th frame is handed over late, 1 ms before the next one (a busy engine takes its queued frames back to back). */
  late?: number;
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
  const rendered = await renderClip(clip, width, height, s.fps);
  const frames = s.vp8Kbps ? await throughVp8(rendered, width, height, s.fps, s.vp8Kbps) : rendered;
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
  const late = s.late ?? 0;
  if (late) seen.forEach((f, i) => {
    const next = seen[i + 1];
    if (next && i % late === late - 1) f.now = Math.max(f.now, next.now - 1);
  });
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
    if (process.env.FM_TRACE) console.log(n, JSON.stringify(tracker.boxes.map((b) => [b.x, b.y, b.width, b.rollDeg])));
    // Off-frame boxes draw nothing.
    const blobs = tracker.boxes.map(keyBlobOf).filter((b) => b.x > -40 && b.x < width + 40 && b.y > -20 && b.y < height + 20);
    // The bench scores after a warm-up: here the first second.
    if (now >= 1000) scored.push({ counter: n % frames.length, blobs });
  }
  return { ...scoreMotion(clip, [scored], width, height, s.fps), detections, urgent };
}

/** I420 frames through ffmpeg's libvpx (realtime, as WebRTC encodes) and decoded again. */
export async function throughVp8(frames: readonly Uint8Array[], width: number, height: number, fps: number, kbps: number): Promise<Uint8Array[]> {
  const run = (args: string[], input: Buffer) => new Promise<Buffer>((resolve, reject) => {
    const p = spawn('ffmpeg', ['-v', 'error', ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    const out: Buffer[] = [];
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`ffmpeg exited with ${code}`))));
    p.stdin.end(input);
  });
  const raw = ['-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${width}x${height}`, '-r', String(fps)];
  const ivf = await run([...raw, '-i', 'pipe:0', '-c:v', 'libvpx', '-b:v', `${kbps}k`, '-deadline', 'realtime', '-cpu-used', '8', '-f', 'ivf', 'pipe:1'], Buffer.concat(frames));
  const decoded = await run(['-f', 'ivf', '-i', 'pipe:0', ...raw.slice(0, 4), '-f', 'rawvideo', 'pipe:1'], ivf);
  const size = (width * height * 3) / 2;
  if (decoded.length !== size * frames.length) throw new Error(`ffmpeg gave ${decoded.length / size} frames for ${frames.length}`);
  return frames.map((_, i) => new Uint8Array(decoded.buffer, decoded.byteOffset + i * size, size));
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
      late: { type: 'string', default: '0' },
      seconds: { type: 'string', default: '17' },
      vp8: { type: 'string' },
    },
  });
  const clips = values.clips!.split(',').flatMap((c) => (c === 'fast' ? FAST_CLIP_NAMES : c === 'all' ? ALL_CLIP_NAMES : [c as ClipName]));
  const detector = await FaceDetector.create();
  try {
    for (const fps of values.fps!.split(',').map(Number)) {
      const s: ReplaySchedule = { fps, every: Number(values.every), latencyMs: Number(values.latency), intervalMs: Number(values.interval), urgentMinMs: Number(values['urgent-min']), burst: Number(values.burst), late: Number(values.late), vp8Kbps: values.vp8 ? Number(values.vp8) : undefined, frames: Math.round(Number(values.seconds) * fps) };
      for (const clip of clips) {
        const cache = new Map<number, FaceBox[]>();
        const r = await replayClip(clip, s, async (n, frame) => {
          if (!cache.has(n)) cache.set(n, await detector.detect(frame, { landmarks: true }));
          return cache.get(n)!.map((b) => ({ ...b }));
        });
        console.log(`${clip.padEnd(8)} ${fps} fps${s.vp8Kbps ? ` vp8 ${s.vp8Kbps} kbit/s` : ''} every ${s.every}${s.burst && s.burst > 1 ? ` (bursts of ${s.burst})` : ''}${s.late ? ` (1 in ${s.late} frames late)` : ''}: error p50/p95 ${r.hatErrorPx.p50}/${r.hatErrorPx.p95} px, roll p95 ${r.rollErrorDeg.p95}°, two hats ${r.twoHatsPct} %, no hat ${r.noHatPct} %, stray ${r.stray}, missing ${r.missing} of ${r.frames}; ${r.detections} detections (${r.urgent} asked for)`);
      }
    }
  } finally {
    await detector.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
