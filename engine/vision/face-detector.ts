/**
 * Face detection off the video thread.
 *
 * Detector choice (from shared/notes/face-detectors.md; accuracy first, then speed/size):
 * face-api's TinyFaceDetector on tfjs-wasm is the most accurate option whose weights ship in an
 * npm package (it found the face with no false box on the cat or the coffee, where
 * BlazeFace and SSD MobileNet saw a face in the cat, input 224 saw one on a body, and the Haar
 * cascade missed profiles and needs weights from outside npm). The ONNX option measured best
 * but no face model for it ships in any npm package.
 *
 * The network runs in a worker thread (inference blocks its thread for tens of ms); this side
 * posts a ≤320 px wide RGB copy of the frame, keeps at most one detection in flight, and maps
 * the network's boxes to the geometry of OpenCV's Haar cascade, which KMS uses and Kurento apps
 * tune their hat offsets to.
 *
 * Meant use, per video frame (on the video thread; nothing here blocks it for more than ~2 ms):
 *   if (!detector.busy) detector.detect(frame).then((boxes) => tracker.update(boxes), onError);
 *   composite(frame, tracker.boxes, hat, params);
 */
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { VideoFrame } from '../media/frames.js';
import { downscaleI420ToRgb } from './downscale.js';

/** A face in full-frame pixel coordinates, in Haar-cascade geometry: square, brows to chin. */
export interface FaceBox {
  x: number;
  y: number;
  width: number;
  height: number;
  /** The head's roll, clockwise on screen, in degrees (only when landmarks were asked for). */
  rollDeg?: number;
  /** Where the eyes are (only when landmarks were asked for), relative to the box so they move and scale with it. */
  eyes?: EyeLine;
  /** Which face this is, as long as BoxTracker follows it (0, 1, 2, … in order of appearance). */
  face?: number;
  /**
   * Its landmarks disagree with the network on its size (toHaarBox LANDMARKS_AGREE): a head
   * turned far sideways, found much smaller than it is, or a crop that missed the face. Where it
   * is holds; its size, roll and eyes are not to be trusted.
   */
  sizeUnsure?: boolean;
}

/**
 * The eyes' midpoint as fractions of the box (x of its width from its left, y of its height
 * from its top) and their distance apart as a fraction of its width.
 */
export interface EyeLine {
  x: number;
  y: number;
  span: number;
}

/** Worker protocol: one request per detection, the image moved (transferred), not copied. */
export interface DetectRequest {
  width: number;
  height: number;
  rgb: Uint8Array;
  /**
   * Also find each face's landmarks (its roll), on the full-resolution frame (an I420 copy,
   * transferred): on the ≤ 320 px image a face is too few pixels for a steady eye line.
   */
  landmarks?: { width: number; height: number; i420: Uint8Array<ArrayBuffer> };
}

/** The network's own box, in the request image's pixels; the eyes (landmarks) in full-frame pixels. */
export interface RawBox extends Omit<FaceBox, 'eyes'> {
  score: number;
  eyesPx?: { left: readonly [number, number]; right: readonly [number, number] };
  /** The mouth's centre (the mean of its 20 landmarks), full-frame px. */
  mouthPx?: readonly [number, number];
}

export type WorkerReply =
  | { type: 'ready' }
  | { type: 'result'; boxes: RawBox[] }
  | { type: 'error'; message: string };

/** Widest image the worker gets (KMS also detects on a ≤320 px copy); see the worker's INPUT_SIZE. */
export const DETECT_MAX_WIDTH = 320;

/**
 * TinyFaceDetector box → Haar box. The network's box (x, y, w, h) covers the face's landmarks
 * and its aspect ratio drifts with the face's size in the network input (wider than tall for
 * small faces); the Haar box is a square from brows to chin. With s = √(w·h), which stayed
 * proportional to the face size where w or h alone did not, the Haar box is the square of
 * side HAAR_SIDE·s centred at (x + w/2, y + h/2 + HAAR_DY·s).
 *
 * Calibration (KMS 7, astronaut.png at 480×480 centred on black 640×480): KMS's Haar box was
 * (238, 57, 101, 101), centre (288.5, 107.5); this detector's box on the same frame is
 * (224.15, 70.61, 126.91, 104.95), s = 115.41, centre (287.61, 123.09). So
 * HAAR_SIDE = 101 / 115.41 = 0.875 and HAAR_DY = (107.5 − 123.09) / 115.41 = −0.135; the
 * horizontal offset measured +0.008·s (under 1 px) and is left out (left-right symmetry).
 * Result on that frame: (237, 57, 101, 101). Checked on other scales: the astronaut 2.3× larger
 * (face taller than half the frame) and two 320 px astronauts side by side land within 6 px of
 * the scaled KMS centre, their sides 8–13 % under the scaled 101 px.
 */
export const HAAR_SIDE = 0.875;
export const HAAR_DY = -0.135;

/**
 * Where the landmarks found the eyes (`eyesPx`), the Haar box is placed by them instead: the
 * network's box moves 2–5 px and changes size by ±4 px from one position of a face to the next
 * (its 32-px output grid), where the eyes' midpoint and span, from the landmark net's 112-px
 * crop, stay within ±0.5 px (bench/motion clips, 90-px face). The box is centred
 * EYES_TO_CENTRE·side from the eyes' midpoint, along the eye line. Its side is measured twice:
 * from the eyes' span, which shrinks as a head turns sideways, and from the eyes' line to the
 * mouth's centre, which shrinks as it nods; where the two differ by more than a tenth the larger
 * is taken (bench/motion-clips.ts `turn`, the face squeezed to 0.71 of its width as by a 45°
 * turn: the network's box 23 % smaller, the eyes' span 23 % shorter, the mouth 3 % nearer), else
 * their mean. All calibrated like HAAR_SIDE / HAAR_DY on the same frame: the
 * landmark net's eyes there are (290.31, 95.40), 40.00 px apart, at 3.27°, the mouth 39.96 px
 * below their line, against KMS's (238, 57, 101, 101). Where this side is under
 * 1 − LANDMARKS_AGREE or over 1 + LANDMARKS_AGREE times the network's (landmarks of a crop that
 * missed the face), the network's box stands, marked `sizeUnsure`.
 */
const EYE_SPAN_PER_SIDE = 40.0 / 101;
const EYES_TO_MOUTH_PER_SIDE = 39.96 / 101;
/** KMS's box centre from the eyes' midpoint in the eye line's frame (x along it, y down from it), in box sides: (−1.81, 12.10) px turned by −3.27°, / 101. */
const EYES_TO_CENTRE = [-1.116 / 101, 12.18 / 101] as const;
const LANDMARKS_AGREE = 0.4;

/** The face's side from its landmarks (see above), the eye line's angle and the eyes' midpoint; undefined without them. */
function landmarkGeometry(b: Omit<RawBox, 'score'>): { side: number; t: number; mid: readonly [number, number] } | undefined {
  if (!b.eyesPx) return undefined;
  const { left: [lx, ly], right: [rx, ry] } = b.eyesPx;
  const t = Math.atan2(ry - ly, rx - lx);
  const mid = [(lx + rx) / 2, (ly + ry) / 2] as const;
  const bySpan = Math.hypot(rx - lx, ry - ly) / EYE_SPAN_PER_SIDE;
  if (!b.mouthPx) return { side: bySpan, t, mid };
  // The mouth's distance below the eye line (perpendicular to it).
  const down = (b.mouthPx[0] - mid[0]) * -Math.sin(t) + (b.mouthPx[1] - mid[1]) * Math.cos(t);
  const byMouth = down / EYES_TO_MOUTH_PER_SIDE;
  const larger = Math.max(bySpan, byMouth);
  return { side: Math.abs(bySpan - byMouth) > 0.1 * larger ? larger : (bySpan + byMouth) / 2, t, mid };
}

/** Maps a network box (already in full-frame pixels) to the Haar geometry, rounded like OpenCV's integer rects. */
export function toHaarBox(b: Omit<RawBox, 'score'>): FaceBox {
  const s = Math.sqrt(b.width * b.height);
  let side = HAAR_SIDE * s;
  let cx = b.x + b.width / 2;
  let cy = b.y + b.height / 2 + HAAR_DY * s;
  const landmarks = landmarkGeometry(b);
  const agree = landmarks !== undefined && Math.abs(landmarks.side / side - 1) <= LANDMARKS_AGREE;
  if (landmarks && agree) {
    side = landmarks.side;
    const [ox, oy] = [EYES_TO_CENTRE[0] * side, EYES_TO_CENTRE[1] * side];
    cx = landmarks.mid[0] + ox * Math.cos(landmarks.t) - oy * Math.sin(landmarks.t);
    cy = landmarks.mid[1] + ox * Math.sin(landmarks.t) + oy * Math.cos(landmarks.t);
  }
  const rounded = Math.round(side);
  const box: FaceBox = { x: Math.round(cx - side / 2), y: Math.round(cy - side / 2), width: rounded, height: rounded };
  if (b.rollDeg !== undefined) box.rollDeg = b.rollDeg;
  if (landmarks && !agree) box.sizeUnsure = true;
  if (b.eyesPx && rounded > 0) {
    const { left: [lx, ly], right: [rx, ry] } = b.eyesPx;
    box.eyes = { x: ((lx + rx) / 2 - box.x) / rounded, y: ((ly + ry) / 2 - box.y) / rounded, span: Math.hypot(rx - lx, ry - ly) / rounded };
  }
  return box;
}

/**
 * Starts the worker file next to this module: .ts when run via tsx, .js once compiled.
 * Node 20 does not apply the parent's module hooks (tsx's --import) to worker threads, so a
 * .ts worker is started through tsx's CommonJS hook instead.
 */
function startWorker(): Worker {
  const ext = extname(fileURLToPath(import.meta.url));
  const file = fileURLToPath(new URL(`./face-detector-worker${ext}`, import.meta.url));
  if (ext !== '.ts') return new Worker(file);
  const tsxCjs = createRequire(import.meta.url).resolve('tsx/cjs');
  return new Worker(`require(${JSON.stringify(tsxCjs)}); require(${JSON.stringify(file)});`, { eval: true });
}

interface Pending {
  promise: Promise<FaceBox[]>;
  resolve: (boxes: FaceBox[]) => void;
  reject: (err: Error) => void;
  scaleX: number;
  scaleY: number;
}

export class FaceDetector {
  private pending: Pending | null = null;
  private failure: Error | null = null;
  private closed = false;
  /** Settles when the worker reports the model loaded (or fails first). */
  private readonly loaded: Promise<void>;

  private constructor(private readonly worker: Worker) {
    let loaded!: () => void;
    let failedToLoad!: (err: Error) => void;
    this.loaded = new Promise((res, rej) => { loaded = res; failedToLoad = rej; });
    worker.on('message', (msg: WorkerReply) => {
      if (msg.type === 'ready') return loaded();
      const p = this.pending;
      this.pending = null;
      if (msg.type === 'result') {
        p?.resolve(msg.boxes.map((b) => toHaarBox({
          x: b.x * p.scaleX, y: b.y * p.scaleY, width: b.width * p.scaleX, height: b.height * p.scaleY, rollDeg: b.rollDeg, eyesPx: b.eyesPx, mouthPx: b.mouthPx,
        })));
      } else {
        const err = new Error(msg.message);
        failedToLoad(err); // no-op once loaded
        p?.reject(new Error(`face detection failed: ${msg.message}`));
      }
    });
    const fail = (err: Error) => {
      failedToLoad(err);
      if (this.closed) return;
      this.failure = err;
      this.pending?.reject(err);
      this.pending = null;
    };
    worker.on('error', (err) => fail(new Error(`face detector worker crashed: ${err.message}`)));
    worker.on('exit', (code) => fail(new Error(`face detector worker exited (code ${code})`)));
  }

  /** Starts the worker and loads the model (~0.3 s). */
  static async create(): Promise<FaceDetector> {
    const detector = new FaceDetector(startWorker());
    try {
      await detector.loaded;
    } catch (err) {
      await detector.close();
      throw err;
    }
    return detector;
  }

  /** True while a detection is in flight; detect() then starts nothing new. */
  get busy(): boolean {
    return this.pending !== null;
  }

  /**
   * Detects faces in the frame. Cheap to call on every frame: if a detection is already in
   * flight it returns that detection's promise and starts nothing (so the detector runs as often
   * as the machine allows); a caller that counts results should check `busy` first so it does
   * not see one result twice. The frame is copied (downscaled) before this returns.
   * Rejects if the worker has failed (it is not restarted). After close(), resolves with []
   * (so a caller's pending .then() never sees a rejection).
   */
  detect(frame: VideoFrame, opts: { landmarks?: boolean } = {}): Promise<FaceBox[]> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.resolve([]);
    if (this.pending) return this.pending.promise;
    const img = downscaleI420ToRgb(frame, DETECT_MAX_WIDTH);
    let resolve!: (boxes: FaceBox[]) => void;
    let reject!: (err: Error) => void;
    const promise = new Promise<FaceBox[]>((res, rej) => { resolve = res; reject = rej; });
    this.pending = { promise, resolve, reject, scaleX: frame.width / img.width, scaleY: frame.height / img.height };
    const full = opts.landmarks ? { width: frame.width, height: frame.height, i420: new Uint8Array(frame.data) } : undefined;
    const req: DetectRequest = { width: img.width, height: img.height, rgb: img.data, landmarks: full };
    this.worker.postMessage(req, full ? [img.data.buffer, full.i420.buffer] : [img.data.buffer]);
    return promise;
  }

  /** Stops the worker thread (so the process can exit). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pending?.resolve([]);
    this.pending = null;
    await this.worker.terminate();
  }
}
