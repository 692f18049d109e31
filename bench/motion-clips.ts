/**
 * Clips with a face on a known path, for `npm run bench -- --motion`: the fixture astronaut
 * (decoded by ffmpeg) is scaled, rolled and moved by an affine warp per frame, so the true face
 * box and roll of every frame are known from the clip's construction — never from a detector.
 *
 * Each motion is a sum of sines of time (one place: `poseAt` renders and scores from the same
 * numbers). Time is counted in 30-fps frames (`u`), so a clip for a 15 or 10 fps camera has half
 * or a third of the frames and the face moves as many px a second: frame n of a clip at `fps`
 * is u = n·30/fps. At 640×480 the face is ≈ 90 px wide (KMS's Haar geometry), low enough in the
 * frame that the tutorial's hat (1.6 face widths, 1.2 above the face) stays inside it.
 *
 * The fast clips (issue 25: people in front of a kiosk dance, jump and turn to their friends):
 * peak speeds of 4 and 7.5 face widths a second, left ↔ right, up ↔ down and diagonally; a face
 * that leaves the frame and comes back; a quick turn away and back (within the head, the face
 * squeezed sideways to a sliver and back, the rest of the head drawn as hair). Where the face is out of the frame, partly out,
 * or turned away, the frame says so (`faceStateAt`), and the scoring does not ask for a hat there.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { i420Size } from '../engine/media/frames.js';
import { FACE_IN_SOURCE } from '../test/helpers/face-clip.js';
import { FIXTURES_DIR } from '../test/helpers/video-fixtures.js';

export type ClipName = 'still' | 'pan' | 'bob' | 'zoom' | 'roll' | 'crossing' | FastClipName;
export type FastClipName = 'fast-h4' | 'fast-h7' | 'fast-v4' | 'fast-v7' | 'fast-d4' | 'fast-d7' | 'exit' | 'turn';
/** Today's clips, run by default (the fast ones with `--clips fast`). */
export const CLIP_NAMES: ClipName[] = ['still', 'pan', 'bob', 'zoom', 'roll', 'crossing'];
export const FAST_CLIP_NAMES: FastClipName[] = ['fast-h4', 'fast-h7', 'fast-v4', 'fast-v7', 'fast-d4', 'fast-d7', 'exit', 'turn'];
export const ALL_CLIP_NAMES: ClipName[] = [...CLIP_NAMES, ...FAST_CLIP_NAMES];

/** value(n) = base + amplitude · sin(2π n / period) */
interface Wave {
  base: number;
  amplitude?: number;
  period?: number;
}

/** One face's path. */
interface FacePath {
  /** Where the face's centre is, as fractions of the frame. */
  x: Wave;
  y: Wave;
  /** Face side (Haar geometry) as a fraction of the frame height. */
  side: Wave;
  /** Roll in degrees, clockwise on screen. */
  rollDeg: Wave;
  /** How wide the face is drawn, as a share of its width (a head turning away: cos of its yaw); 1 if absent. */
  squeeze?: (u: number) => number;
}

interface ClipSpec {
  /** Drawn last to first: the first face is in front. */
  faces: FacePath[];
  what: string;
}

const FACE = 0.1875; // 90 px of 480
/** 8 s at 30 fps: every clip's motions repeat within it. */
export const MOTION_CLIP_FRAMES = 240;
/** The clip's frames for a camera at `fps` (8 s of them). */
export const clipFrames = (fps = 30) => Math.round((MOTION_CLIP_FRAMES * fps) / 30);
/** Below this share of its width a turning face counts as turned away (yaw > 60°): no hat is asked for. */
export const TURNED_AWAY = 0.5;
/**
 * Where a face of a clip with several is cut out of the source (half-sides, in face sides): the
 * face with its hair, so the faces can pass close without one covering the other (a tighter cut
 * moves TinyFaceDetector's box ~5 px off the face).
 */
const CUT_HALF_WIDTH = 1.0;
const CUT_HALF_HEIGHT = 0.7;

const one = (face: FacePath, what: string): ClipSpec => ({ faces: [face], what });
const CLIPS: Record<ClipName, ClipSpec> = {
  still: one({ x: { base: 0.5 }, y: { base: 0.6 }, side: { base: FACE }, rollDeg: { base: 0 } }, 'the face does not move'),
  // ±0.1875·640 = ±120 px per 240 frames: peak 3.1 px/frame = 94 px/s ≈ one face width a second.
  pan: one({ x: { base: 0.5, amplitude: 0.1875, period: 240 }, y: { base: 0.6 }, side: { base: FACE }, rollDeg: { base: 0 } }, 'left ↔ right, ≈ 1 face width/s'),
  bob: one({ x: { base: 0.5 }, y: { base: 0.62, amplitude: 0.05, period: 60 }, side: { base: FACE }, rollDeg: { base: 0 } }, 'up ↔ down ±24 px, twice a second'),
  zoom: one({ x: { base: 0.5 }, y: { base: 0.62 }, side: { base: FACE, amplitude: 0.05, period: 120 }, rollDeg: { base: 0 } }, 'face 66 ↔ 114 px, 4 s period'),
  roll: one({ x: { base: 0.5 }, y: { base: 0.6 }, side: { base: FACE }, rollDeg: { base: 0, amplitude: 20, period: 120 } }, 'head tilt ±20°, 4 s period'),
  // Two faces 1.4 face sides apart vertically (their cut-outs touch, their boxes are 36 px
  // apart) pass each other left ↔ right at up to 4.2 px/frame each, twice per clip: the
  // tracker must keep each face its own box, and with one image per face, its own hat.
  crossing: {
    faces: [
      { x: { base: 0.5, amplitude: 0.25, period: 240 }, y: { base: 0.36 }, side: { base: FACE }, rollDeg: { base: 0 } },
      { x: { base: 0.5, amplitude: -0.25, period: 240 }, y: { base: 0.36 + 1.4 * FACE }, side: { base: FACE }, rollDeg: { base: 0 } },
    ],
    what: 'two faces pass each other, 126 px apart vertically',
  },
  // The fast clips. Peak speed = amplitude · 2π / period (u frames); 1 face width = 90 px.
  // ±230 px, 4 s: 12.1 px/frame at 30 fps = 362 px/s = 4.0 face widths/s.
  'fast-h4': one({ x: { base: 0.5, amplitude: 0.36, period: 120 }, y: { base: 0.6 }, side: { base: FACE }, rollDeg: { base: 0 } }, 'left ↔ right ±230 px, peak 4.0 face widths/s'),
  // ±218 px, 2 s: 22.8 px/frame = 684 px/s = 7.6 face widths/s.
  'fast-h7': one({ x: { base: 0.5, amplitude: 0.34, period: 60 }, y: { base: 0.6 }, side: { base: FACE }, rollDeg: { base: 0 } }, 'left ↔ right ±218 px, peak 7.6 face widths/s'),
  // ±115 px, 2 s: 12.1 px/frame = 4.0 face widths/s (the hat stays inside the frame at the top).
  'fast-v4': one({ x: { base: 0.5 }, y: { base: 0.61, amplitude: 0.24, period: 60 }, side: { base: FACE }, rollDeg: { base: 0 } }, 'up ↔ down ±115 px, peak 4.0 face widths/s'),
  // ±108 px, 1 s: 22.6 px/frame = 7.5 face widths/s: jumping.
  'fast-v7': one({ x: { base: 0.5 }, y: { base: 0.61, amplitude: 0.225, period: 30 }, side: { base: FACE }, rollDeg: { base: 0 } }, 'up ↔ down ±108 px, peak 7.5 face widths/s'),
  // ±82 px both ways, 2 s: 12.1 px/frame = 4.0 face widths/s along the diagonal.
  'fast-d4': one({ x: { base: 0.5, amplitude: 0.128, period: 60 }, y: { base: 0.6, amplitude: 0.17, period: 60 }, side: { base: FACE }, rollDeg: { base: 0 } }, 'diagonal ±82 px each way, peak 4.0 face widths/s'),
  // ±77 px both ways, 1 s: 22.7 px/frame = 7.6 face widths/s.
  'fast-d7': one({ x: { base: 0.5, amplitude: 0.12, period: 30 }, y: { base: 0.6, amplitude: 0.16, period: 30 }, side: { base: FACE }, rollDeg: { base: 0 } }, 'diagonal ±77 px each way, peak 7.6 face widths/s'),
  // ±480 px, 8 s: out of the frame on either side for ~1.5 s, peak 12.6 px/frame = 4.2 face widths/s.
  exit: one({ x: { base: 0.5, amplitude: 0.75, period: 240 }, y: { base: 0.6 }, side: { base: FACE }, rollDeg: { base: 0 } }, 'leaves the frame left and right (~1.5 s out) and comes back, peak 4.2 face widths/s'),
  // Twice a clip: turned away in 0.27 s, away 0.47 s, back in 0.27 s, while swaying ±32 px.
  turn: one({ x: { base: 0.5, amplitude: 0.05, period: 240 }, y: { base: 0.6 }, side: { base: FACE }, rollDeg: { base: 0 }, squeeze: quickTurn }, 'turns away and back in 1 s, twice per clip'),
};

/** The quick turn's face width (cos of the yaw, at least 0.06) at u: away from u = 40 and u = 160 of each 240. */
function quickTurn(u: number): number {
  const i = u % 120;
  const [start, turn, away] = [40, 8, 14];
  let yaw = 0;
  if (i >= start && i < start + turn) yaw = ((i - start) / turn) * 90;
  else if (i >= start + turn && i < start + turn + away) yaw = 90;
  else if (i >= start + turn + away && i < start + 2 * turn + away) yaw = 90 * (1 - (i - start - turn - away) / turn);
  return Math.max(0.06, Math.cos((yaw * Math.PI) / 180));
}

/** The fast clips' peak speed, in face widths a second (for the tables). */
export function peakSpeed(name: ClipName): number {
  const f = CLIPS[name].faces[0]!;
  const speed = (w: Wave, size: number) => (w.amplitude && w.period ? (Math.abs(w.amplitude) * size * 2 * Math.PI) / w.period : 0);
  const vx = speed(f.x, 640);
  const vy = speed(f.y, 480);
  // Same periods move together (diagonal); else the larger.
  const v = f.x.period === f.y.period ? Math.hypot(vx, vy) : Math.max(vx, vy);
  return (v * 30) / (FACE * 480);
}

export function clipDescription(name: ClipName): string {
  return CLIPS[name].what;
}

/**
 * The seconds before a clip's frames are scored: `seconds`, or for a clip whose face leaves the
 * frame (exit) a whole clip at least. The engine's first frames come ~1 s into the camera's clip,
 * when exit's face has already gone; its first appearance was then its first acquisition (as every
 * clip's is in its warm-up), not a face coming back, which is what the clip measures.
 */
export function warmupFor(name: ClipName, seconds: number): number {
  return name === 'exit' ? Math.max(seconds, MOTION_CLIP_FRAMES / 30) : seconds;
}

/** How many faces the clip has. */
export function facesIn(name: ClipName): number {
  return CLIPS[name].faces.length;
}

/**
 * The fixture face's own roll: its eye line is not level in the photo. From the pupils, read off
 * an 8× crop of the 512 px source: (203.3, 100.6) and (246.4, 103.8) → 4.2° clockwise.
 */
export const SOURCE_ROLL_DEG = 4.2;

/** Where a face is in frame n. */
export interface Pose {
  /** Face centre, frame pixels (continuous coordinates: pixel i spans [i, i+1)). */
  cx: number;
  cy: number;
  /** Face side, Haar geometry. */
  side: number;
  /** How far the picture is turned from the source, clockwise on screen, degrees. */
  rollDeg: number;
  /** The head's roll on screen (rollDeg + the source face's own roll). */
  headRollDeg: number;
  /** How wide the face is drawn, as a share of its width (1: facing the camera). */
  squeeze: number;
}

const wave = (w: Wave, n: number) => w.base + (w.amplitude ?? 0) * Math.sin((2 * Math.PI * n) / (w.period ?? 1));

/** Where every face of the clip is in frame n of the clip for a camera at fps, front first. */
export function posesAt(name: ClipName, n: number, width: number, height: number, fps = 30): Pose[] {
  const frames = clipFrames(fps);
  const u = ((((n % frames) + frames) % frames) * 30) / fps;
  return CLIPS[name].faces.map((f) => {
    const rollDeg = wave(f.rollDeg, u);
    return { cx: wave(f.x, u) * width, cy: wave(f.y, u) * height, side: wave(f.side, u) * height, rollDeg, headRollDeg: rollDeg + SOURCE_ROLL_DEG, squeeze: f.squeeze?.(u) ?? 1 };
  });
}

/** Where the (first) face is in frame n. */
export function poseAt(name: ClipName, n: number, width: number, height: number, fps = 30): Pose {
  return posesAt(name, n, width, height, fps)[0]!;
}

/**
 * What a frame asks of a face's hat: `visible` — the face and where its hat goes are inside the
 * frame and it faces the camera (a hat is due there); `turned` — inside, turned away (a hat may
 * be there or not, but if it is, on the head); `partial` — the face or its hat's place partly
 * outside the frame (anything goes: a drawn hat is clipped); `gone` — the face is out of the
 * frame (a hat there is a hat without a face).
 */
export type FaceState = 'visible' | 'turned' | 'partial' | 'gone';

export function faceState(p: Pose, hat: { x0: number; y0: number; x1: number; y1: number }, width: number, height: number): FaceState {
  const b = boxOf(p);
  if (b.x >= width || b.y >= height || b.x + b.width <= 0 || b.y + b.height <= 0) return 'gone';
  const inside = (x0: number, y0: number, x1: number, y1: number) => x0 >= 0 && y0 >= 0 && x1 <= width && y1 <= height;
  if (!inside(b.x, b.y, b.x + b.width, b.y + b.height) || !inside(hat.x0, hat.y0, hat.x1, hat.y1)) return 'partial';
  return p.squeeze < TURNED_AWAY ? 'turned' : 'visible';
}

/** The fixture face's pupils in the 512 px source (read off an 8× crop; SOURCE_ROLL_DEG comes from them). */
const SOURCE_PUPILS = [[203.3, 100.6], [246.4, 103.8]] as const;

/** Where the pupils' midpoint is in frame n (frame px) and how far apart they are. */
export function eyesAt(name: ClipName, n: number, width: number, height: number): { x: number; y: number; span: number } {
  const p = poseAt(name, n, width, height);
  const k = p.side / FACE_IN_SOURCE.side;
  const t = (p.rollDeg * Math.PI) / 180;
  const [[lx, ly], [rx, ry]] = SOURCE_PUPILS;
  // source → frame: p = c + k·R(θ)(s − C_face), the inverse of renderClip's mapping
  const dx = (lx + rx) / 2 - FACE_CX;
  const dy = (ly + ry) / 2 - FACE_CY;
  return { x: p.cx + k * (dx * Math.cos(t) - dy * Math.sin(t)), y: p.cy + k * (dx * Math.sin(t) + dy * Math.cos(t)), span: k * Math.hypot(rx - lx, ry - ly) };
}

/** The upright Haar-geometry box of a pose (what KMS's placement formula takes). */
export function boxOf(p: Pose): { x: number; y: number; width: number; height: number } {
  return { x: p.cx - p.side / 2, y: p.cy - p.side / 2, width: p.side, height: p.side };
}

const SOURCE_SIZE = 512;
/** The head's ellipse for the quick turn (half-sides, in face sides) and the back of the head's colour. */
const HEAD_HALF_WIDTH = 0.62;
const HEAD_HALF_HEIGHT = 0.8;
const HAIR_RGB: [number, number, number] = [52, 40, 34];
const FACE_CX = FACE_IN_SOURCE.x + FACE_IN_SOURCE.side / 2;
const FACE_CY = FACE_IN_SOURCE.y + FACE_IN_SOURCE.side / 2;
const execFileP = promisify(execFile);

/** astronaut.png as 512×512 RGB, decoded by ffmpeg. */
async function sourceRgb(): Promise<Uint8Array> {
  const { stdout } = await execFileP(
    'ffmpeg',
    ['-v', 'error', '-i', path.join(FIXTURES_DIR, 'astronaut.png'), '-vf', `scale=${SOURCE_SIZE}:${SOURCE_SIZE}`, '-frames:v', '1', '-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1'],
    { encoding: 'buffer', maxBuffer: 16 * 1024 * 1024 },
  );
  if (stdout.length !== SOURCE_SIZE * SOURCE_SIZE * 3) throw new Error(`ffmpeg decoded ${stdout.length} bytes of astronaut.png`);
  return new Uint8Array(stdout.buffer, stdout.byteOffset, stdout.length);
}

/**
 * Renders the clip as I420 frames: each output pixel is mapped back into the source (the
 * inverse of scale k, roll θ about the face centre, translation) and sampled bilinearly; outside
 * the source is black. BT.601 limited range, as WebRTC carries it.
 */
export async function renderClip(name: ClipName, width: number, height: number, fps = 30): Promise<Uint8Array[]> {
  const src = await sourceRgb();
  const frames: Uint8Array[] = [];
  const rgb = new Float32Array(width * height * 3);
  const several = facesIn(name) > 1;
  for (let n = 0; n < clipFrames(fps); n++) {
    rgb.fill(0);
    // Back to front: a clip with several faces cuts each out of the source (CUT_HALF_*); one face brings the whole source.
    for (const p of posesAt(name, n, width, height, fps).reverse()) drawFace(src, p, several, rgb, width, height);
    frames.push(rgbToI420(rgb, width, height));
  }
  return frames;
}

/** One face of a frame into `rgb`: each pixel mapped back into the source and sampled bilinearly. */
function drawFace(src: Uint8Array, p: Pose, cut: boolean, rgb: Float32Array, width: number, height: number): void {
  const k = p.side / FACE_IN_SOURCE.side;
  const t = (p.rollDeg * Math.PI) / 180;
  const cos = Math.cos(t) / k;
  const sin = Math.sin(t) / k;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      // frame → source: s = C_face + R(−θ)(p − c)/k, at the pixel's centre
      const dx = x + 0.5 - p.cx;
      const dy = y + 0.5 - p.cy;
      let ux = cos * dx + sin * dy;
      const uy = -sin * dx + cos * dy;
      const o0 = (y * width + x) * 3;
      // A turning head (squeeze < 1): within the head's ellipse the face is drawn narrower, about
      // its centre, and the rest of the head is hair (the back of the head); the picture around it stays.
      if (p.squeeze < 1) {
        const [hx, hy] = [HEAD_HALF_WIDTH * FACE_IN_SOURCE.side, HEAD_HALF_HEIGHT * FACE_IN_SOURCE.side];
        if ((ux / hx) ** 2 + (uy / hy) ** 2 <= 1) {
          if (Math.abs(ux) > hx * p.squeeze) {
            [rgb[o0], rgb[o0 + 1], rgb[o0 + 2]] = HAIR_RGB;
            continue;
          }
          ux /= p.squeeze;
        }
      }
      if (cut && (Math.abs(ux) > CUT_HALF_WIDTH * FACE_IN_SOURCE.side || Math.abs(uy) > CUT_HALF_HEIGHT * FACE_IN_SOURCE.side)) continue;
      const sx = FACE_CX + ux - 0.5;
      const sy = FACE_CY + uy - 0.5;
      const o = (y * width + x) * 3;
      if (sx < 0 || sy < 0 || sx > SOURCE_SIZE - 1 || sy > SOURCE_SIZE - 1) {
        rgb[o] = rgb[o + 1] = rgb[o + 2] = 0;
        continue;
      }
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const x1 = Math.min(x0 + 1, SOURCE_SIZE - 1);
      const y1 = Math.min(y0 + 1, SOURCE_SIZE - 1);
      const fx = sx - x0;
      const fy = sy - y0;
      for (let c = 0; c < 3; c++) {
        const a = src[(y0 * SOURCE_SIZE + x0) * 3 + c]!;
        const b = src[(y0 * SOURCE_SIZE + x1) * 3 + c]!;
        const d = src[(y1 * SOURCE_SIZE + x0) * 3 + c]!;
        const e = src[(y1 * SOURCE_SIZE + x1) * 3 + c]!;
        rgb[o + c] = (a + (b - a) * fx) * (1 - fy) + (d + (e - d) * fx) * fy;
      }
    }
  }
}

export function rgbToI420(rgb: Float32Array, width: number, height: number): Uint8Array {
  const out = new Uint8Array(i420Size(width, height));
  const cw = Math.ceil(width / 2);
  const ch = Math.ceil(height / 2);
  for (let i = 0; i < width * height; i++) {
    out[i] = 16 + 0.257 * rgb[i * 3]! + 0.504 * rgb[i * 3 + 1]! + 0.098 * rgb[i * 3 + 2]! + 0.5;
  }
  for (let cy = 0; cy < ch; cy++) {
    for (let cx = 0; cx < cw; cx++) {
      let r = 0, g = 0, b = 0, n = 0;
      for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) {
        const x = 2 * cx + dx;
        const y = 2 * cy + dy;
        if (x >= width || y >= height) continue;
        const o = (y * width + x) * 3;
        r += rgb[o]!; g += rgb[o + 1]!; b += rgb[o + 2]!; n++;
      }
      r /= n; g /= n; b /= n;
      out[width * height + cy * cw + cx] = 128 - 0.148 * r - 0.291 * g + 0.439 * b + 0.5;
      out[width * height + cw * ch + cy * cw + cx] = 128 + 0.439 * r - 0.368 * g - 0.071 * b + 0.5;
    }
  }
  return out;
}
