/**
 * Test video built from the images in test/fixtures: raw I420 backgrounds (via ffmpeg, once
 * per kind and size per process) and counter-stamped y4m clips for Chromium's fake camera.
 *
 * Pitfalls:
 * - Chromium LOOPS a y4m file: after the last frame it plays frame 0 again, so counters seen
 *   through the fake camera wrap at `frames` (300 = 10 s by default). Ask for a longer clip if
 *   a test needs counters to be unique for longer.
 * - A 640×480 clip is 460 800 bytes a frame (138 MB for 300 frames). Clips are cached under
 *   os.tmpdir()/magic-mirror-y4m/ keyed by every option plus the counter layout version, so only
 *   the first run pays for writing one.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { i420Size, type VideoFrame } from '../../engine/media/frames.js';
import { COUNTER_LAYOUT_VERSION, stampCounter } from './frame-counter.js';

export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/', import.meta.url));

/**
 * - face: astronaut.png scaled to H×H, centred on black (640×480: 480×480 at x=80) — the reference framing
 * - two-faces: two astronauts side by side, each (W/2)×(W/2), centred vertically (640×480: 320×320 at y=80)
 * - moving-face: one astronaut, 2/3 of the height, centred vertically, swinging from the left edge
 *   to the right edge and back once per clip (smooth when the clip loops)
 * - cat: chelsea.png (a cat: no human face), fitted and centred on black
 * - coffee: coffee.png (no face), fitted and centred on black
 * - none: flat mid-grey
 */
export type BackgroundKind = 'face' | 'two-faces' | 'moving-face' | 'cat' | 'coffee' | 'none';

/** Paints background frame `index` of a clip into `dst` (an I420 buffer of the painter's size). */
export type BackgroundPainter = (dst: Uint8Array, index: number) => void;

const execFileP = promisify(execFile);

/** Runs ffmpeg on one fixture image with a filter graph, returning one raw yuv420p frame. */
async function ffmpegI420(image: string, filter: string, width: number, height: number): Promise<Uint8Array> {
  const { stdout } = await execFileP(
    'ffmpeg',
    ['-v', 'error', '-i', path.join(FIXTURES_DIR, image), '-filter_complex', filter,
      '-frames:v', '1', '-pix_fmt', 'yuv420p', '-f', 'rawvideo', 'pipe:1'],
    { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
  );
  if (stdout.length !== i420Size(width, height)) {
    throw new Error(`ffmpeg made ${stdout.length} bytes for ${image} at ${width}×${height}, expected ${i420Size(width, height)}`);
  }
  return new Uint8Array(stdout.buffer, stdout.byteOffset, stdout.length);
}

const even = (n: number) => Math.floor(n / 2) * 2;

/** A flat I420 frame. */
function solidI420(width: number, height: number, y: number): Uint8Array {
  const data = new Uint8Array(i420Size(width, height)).fill(128);
  data.fill(y, 0, width * height);
  return data;
}

/** Static (same every frame) backgrounds: one ffmpeg run per kind and size, shared by this process. */
const stills = new Map<string, Promise<Uint8Array>>();

function still(kind: Exclude<BackgroundKind, 'moving-face'>, width: number, height: number): Promise<Uint8Array> {
  const key = `${kind} ${width}x${height}`;
  let p = stills.get(key);
  if (!p) {
    p = makeStill(kind, width, height);
    stills.set(key, p);
    p.catch(() => stills.delete(key));
  }
  return p;
}

async function makeStill(kind: Exclude<BackgroundKind, 'moving-face'>, w: number, h: number): Promise<Uint8Array> {
  switch (kind) {
    case 'none':
      return solidI420(w, h, 128);
    case 'face': {
      const s = even(Math.min(w, h));
      return ffmpegI420('astronaut.png', `scale=${s}:${s},pad=${w}:${h}:${even((w - s) / 2)}:${even((h - s) / 2)}:black`, w, h);
    }
    case 'two-faces': {
      const s = even(Math.min(w / 2, h));
      return ffmpegI420('astronaut.png',
        `scale=${s}:${s},split[a][b];[a][b]hstack,pad=${w}:${h}:${even((w - 2 * s) / 2)}:${even((h - s) / 2)}:black`, w, h);
    }
    case 'cat':
    case 'coffee':
      return ffmpegI420(kind === 'cat' ? 'chelsea.png' : 'coffee.png',
        `scale=${w}:${h}:force_original_aspect_ratio=decrease:force_divisible_by=2,pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2:black`, w, h);
  }
}

/**
 * A painter for `kind` at width×height. `period` is the clip length in frames: the moving face
 * completes one left→right→left swing per period (ignored by the static kinds).
 */
export async function backgroundPainter(kind: BackgroundKind, width: number, height: number, period = 300): Promise<BackgroundPainter> {
  if (kind !== 'moving-face') {
    const frame = await still(kind, width, height);
    return (dst) => dst.set(frame);
  }
  const s = even((height * 2) / 3);
  const sprite = await ffmpegI420('astronaut.png', `scale=${s}:${s}`, s, s);
  const black = solidI420(width, height, 16);
  const top = even((height - s) / 2);
  const cw = Math.ceil(width / 2);
  const ch = Math.ceil(height / 2);
  const hs = s / 2;
  return (dst, index) => {
    dst.set(black);
    // Cosine easing: starts at the left edge, reaches the right edge at period/2, back at period.
    const left = even(((width - s) * (1 - Math.cos((2 * Math.PI * index) / period))) / 2);
    for (let y = 0; y < s; y++) dst.set(sprite.subarray(y * s, (y + 1) * s), (top + y) * width + left);
    for (let plane = 0; plane < 2; plane++) {
      const srcBase = s * s + plane * hs * hs;
      const dstBase = width * height + plane * cw * ch;
      for (let y = 0; y < hs; y++) {
        dst.set(sprite.subarray(srcBase + y * hs, srcBase + (y + 1) * hs), dstBase + (top / 2 + y) * cw + left / 2);
      }
    }
  };
}

/** Background frame 0 of `kind` (the whole background for every kind but moving-face), without a counter. */
export async function loadBackgroundI420(kind: BackgroundKind, width = 640, height = 480): Promise<VideoFrame> {
  const data = new Uint8Array(i420Size(width, height));
  (await backgroundPainter(kind, width, height))(data, 0);
  return { width, height, data };
}

export interface Y4mOptions {
  background?: BackgroundKind;
  width?: number;
  height?: number;
  fps?: number;
  /** Clip length; Chromium loops it, so counters wrap here. */
  frames?: number;
  /** Also copy the clip to this path (the cached file is returned otherwise). */
  out?: string;
  /** Frames of one's own instead of a background (e.g. the motion bench's clips); `name` keys the cache. */
  painter?: { name: string; paint: BackgroundPainter };
}

/**
 * A y4m clip (`YUV4MPEG2 W640 H480 F30:1 Ip A1:1 C420jpeg`, then `FRAME\n` + I420 per frame)
 * whose frame i shows the background and counter i. Returns its path.
 */
export async function makeY4m(opts: Y4mOptions = {}): Promise<string> {
  const { background = 'face', width = 640, height = 480, fps = 30, frames = 300 } = opts;
  const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F${fps}:1 Ip A1:1 C420jpeg\n`);
  const frameBytes = i420Size(width, height);
  const fileBytes = header.length + frames * (6 + frameBytes);
  const dir = path.join(os.tmpdir(), 'magic-mirror-y4m');
  const file = path.join(dir, `${opts.painter?.name ?? background}-${width}x${height}-${fps}fps-${frames}f-counter${COUNTER_LAYOUT_VERSION}.y4m`);

  const cached = await stat(file).then((s) => s.size === fileBytes, () => false);
  if (!cached) {
    await mkdir(dir, { recursive: true });
    const paint = opts.painter?.paint ?? (await backgroundPainter(background, width, height, frames));
    // Written under a unique name and renamed, so concurrent test processes never see half a file.
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      const fh = await open(tmp, 'w');
      try {
        await fh.write(header);
        const chunk = Buffer.alloc(6 + frameBytes);
        chunk.write('FRAME\n', 'latin1');
        const frame: VideoFrame = { width, height, data: chunk.subarray(6) };
        for (let i = 0; i < frames; i++) {
          paint(frame.data, i);
          stampCounter(frame, i);
          await fh.write(chunk);
        }
      } finally {
        await fh.close();
      }
      await rename(tmp, file);
    } catch (err) {
      await unlink(tmp).catch(() => {});
      throw err;
    }
  }
  if (opts.out) {
    await copyFile(file, opts.out);
    return opts.out;
  }
  return file;
}
