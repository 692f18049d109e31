/**
 * A clip made by ffmpeg in which the fixture face sits still, slides across the frame, then
 * grows until it is taller than half the frame (and its hat is clipped at the top edge). The
 * face's box in every frame is known from the clip's construction — not from any detector —
 * so tests can check where a hat lands.
 *
 * Where the face is in astronaut.png: from the reference measured on a real KMS 7 (astronaut
 * scaled to 480×480 at x=80 on 640×480 → KMS's Haar box (238, 57, 101, 101)), the box in the
 * 512×512 source is (168.5, 60.8, 107.7, 107.7).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { i420Size } from '../../engine/media/frames.js';
import { FIXTURES_DIR, type BackgroundPainter } from './video-fixtures.js';

export const FACE_IN_SOURCE = { x: 168.5, y: 60.8, side: 107.7 };
const SOURCE_SIZE = 512;
export const CLIP_FRAMES = 120;
const W = 640;
const H = 480;

export interface Placement {
  /** Image scale (astronaut.png is drawn at 512·k px square). */
  k: number;
  /** Top-left of the drawn image in the frame. */
  ox: number;
  oy: number;
}

/**
 * The schedule, in frames (30 fps): 0–44 small face still on the left; 45–59 it slides right;
 * 60–89 it grows while moving to the centre; 90–119 it stays large (face box ≈ 258 px > H/2).
 * Written once as ffmpeg expressions of the frame number n, and mirrored here in TS.
 */
const K_SMALL = 0.7;
const K_LARGE = 2.4;
const lerp = (a: number, b: number, t: number) => a + (b - a) * Math.min(1, Math.max(0, t));

export function placementAt(n: number): Placement {
  const i = ((n % CLIP_FRAMES) + CLIP_FRAMES) % CLIP_FRAMES;
  const k = lerp(K_SMALL, K_LARGE, (i - 60) / 30);
  const cx = i < 60 ? lerp(160, 480, (i - 45) / 15) : lerp(480, 320, (i - 60) / 30);
  const cy = i < 60 ? 240 : lerp(240, 270, (i - 60) / 30);
  const size = Math.trunc((SOURCE_SIZE * k) / 2) * 2;
  const s = size / SOURCE_SIZE;
  const faceCx = (FACE_IN_SOURCE.x + FACE_IN_SOURCE.side / 2) * s;
  const faceCy = (FACE_IN_SOURCE.y + FACE_IN_SOURCE.side / 2) * s;
  return { k: s, ox: Math.round(cx - faceCx), oy: Math.round(cy - faceCy) };
}

/** The face's Haar-geometry box in frame n. */
export function faceBoxAt(n: number): { x: number; y: number; width: number; height: number } {
  const { k, ox, oy } = placementAt(n);
  return { x: ox + FACE_IN_SOURCE.x * k, y: oy + FACE_IN_SOURCE.y * k, width: FACE_IN_SOURCE.side * k, height: FACE_IN_SOURCE.side * k };
}

/**
 * The face's Haar-geometry box in the still 'face' background (video-fixtures: astronaut.png
 * scaled to the even min(W, H), centred; at 640×480 this is KMS's measured (238, 57, 101, 101)).
 */
export function stillFaceBox(width = W, height = H): { x: number; y: number; width: number; height: number } {
  const even = (n: number) => Math.floor(n / 2) * 2;
  const s = even(Math.min(width, height));
  const k = s / SOURCE_SIZE;
  const ox = even((width - s) / 2);
  const oy = even((height - s) / 2);
  return { x: ox + FACE_IN_SOURCE.x * k, y: oy + FACE_IN_SOURCE.y * k, width: FACE_IN_SOURCE.side * k, height: FACE_IN_SOURCE.side * k };
}

const execFileP = promisify(execFile);
let clip: Promise<Uint8Array[]> | undefined;

/** Frame n of the clip: ffmpeg scales astronaut.png and lays it on black at placementAt(n). */
async function renderFrame(n: number): Promise<Uint8Array> {
  const p = placementAt(n);
  const px = Math.round(SOURCE_SIZE * p.k);
  const graph = `color=black:size=${W}x${H},format=yuv420p[b];[0:v]scale=${px}:${px}[s];[b][s]overlay=x=${p.ox}:y=${p.oy},format=yuv420p`;
  const { stdout } = await execFileP(
    'ffmpeg',
    ['-v', 'error', '-i', path.join(FIXTURES_DIR, 'astronaut.png'), '-filter_complex', graph, '-frames:v', '1', '-f', 'rawvideo', 'pipe:1'],
    { encoding: 'buffer', maxBuffer: 16 * 1024 * 1024 },
  );
  if (stdout.length !== i420Size(W, H)) throw new Error(`ffmpeg made ${stdout.length} bytes for frame ${n}`);
  return new Uint8Array(stdout.buffer, stdout.byteOffset, stdout.length);
}

/** All CLIP_FRAMES frames as raw I420, rendered once per process (two ffmpeg runs at a time). */
export function faceClipFrames(): Promise<Uint8Array[]> {
  clip ??= (async () => {
    const frames: Uint8Array[] = new Array(CLIP_FRAMES);
    let next = 0;
    const worker = async () => {
      while (next < CLIP_FRAMES) {
        const n = next++;
        frames[n] = await renderFrame(n);
      }
    };
    await Promise.all([worker(), worker()]);
    return frames;
  })();
  return clip;
}

/** A FakeCameraPeer painter that plays the clip in a loop. */
export async function faceClipPainter(): Promise<BackgroundPainter> {
  const frames = await faceClipFrames();
  return (dst, index) => dst.set(frames[index % CLIP_FRAMES]!);
}
