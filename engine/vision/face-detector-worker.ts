/**
 * The worker thread behind FaceDetector: face-api's TinyFaceDetector network (weights from the
 * @vladmandic/face-api package) run on tfjs-core with the WebAssembly backend.
 *
 * Only tfjs-core + tfjs-backend-wasm are installed (~90 MB with the weights package), not the
 * full @tensorflow/tfjs meta package (~330 MB) that face-api's own JS requires, so the network's
 * forward pass and box decoding are written out here, following face-api's TinyYolov2Base:
 *   conv0 3×3 valid + leaky → 5 × [maxPool 2 → depthwise-separable 3×3 + leaky]
 *   → maxPool 2 stride 1 → conv8 1×1: a grid of cells × 5 anchors × (x, y, w, h, score).
 * Checked against face-api 1.7.15 itself (with the full tfjs, in a scratch install): on the
 * fixtures the boxes and scores agree to within 0.2 px.
 *
 * Protocol: posts {type:'ready'} (or {type:'error'}) once the model is loaded; then answers
 * each DetectRequest with {type:'result', boxes} in the request image's pixel coordinates.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { DetectRequest, RawBox, WorkerReply } from './face-detector.js';

/**
 * Network input side (the ≤320 px wide image is padded to a square and resized to this).
 * Measured on 640×480 fixtures (posted as 320×240): at 320 the network missed one of two
 * side-by-side faces (~34 px wide); 416 finds both, still with no false face on the cat or the
 * coffee, in ~33 ms. Posting 640 px at 512 did as well but took ~60 ms.
 */
const INPUT_SIZE = 416;
/** face-api's TinyFaceDetectorOptions default; no false face on the cat/coffee fixtures. */
const SCORE_THRESHOLD = 0.5;
/** face-api's constants for this model. */
const IOU_THRESHOLD = 0.4;
const MEAN_RGB = [117.001, 114.697, 97.404];
const ANCHORS: Array<[number, number]> = [
  [1.603231, 2.094468], [6.041143, 7.080126], [2.882459, 3.518061], [4.266906, 5.178857], [9.041765, 10.66308],
];
const LEAKY_ALPHA = 0.1;

const port = parentPort;
if (!port) throw new Error('face-detector-worker must run in a worker thread');

/** Resolves from this file, so the packages are found wherever the app is started from. */
const resolvePackage = createRequire(import.meta.url).resolve;

type Weights = Record<string, tf.Tensor>;

/** One of face-api's weight files (model/<name>-weights_manifest.json and its shards). */
function loadWeights(name: string): Weights {
  const dir = path.join(path.dirname(resolvePackage('@vladmandic/face-api/package.json')), 'model');
  const manifest = JSON.parse(readFileSync(path.join(dir, `${name}-weights_manifest.json`), 'utf8')) as
    Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
  const bin = Buffer.concat(manifest.flatMap((group) => group.paths.map((p) => readFileSync(path.join(dir, p)))));
  const buffer = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.length);
  return tf.io.decodeWeights(buffer, manifest.flatMap((group) => group.weights));
}

interface Models {
  detector: Weights;
  /**
   * face-api's FaceLandmark68TinyNet (77 KB): 68 points, of which the eyes give the head's roll.
   * Absent if its files are (a package built without them): faces then come without a roll and
   * hats stay upright, rather than detection failing.
   */
  landmarks?: Weights;
}

async function loadModel(): Promise<Models> {
  // Local wasm binaries: nothing is fetched. Fail loudly rather than fall back to the JS CPU
  // backend, which is ~30× slower.
  setWasmPaths(path.dirname(resolvePackage('@tensorflow/tfjs-backend-wasm')) + path.sep);
  if (!(await tf.setBackend('wasm'))) throw new Error('tfjs wasm backend failed to initialise');
  tf.enableProdMode();

  const detector = loadWeights('tiny_face_detector_model');
  let landmarks: Weights | undefined;
  try {
    landmarks = loadWeights('face_landmark_68_tiny_model');
  } catch {
    landmarks = undefined;
  }
  return { detector, landmarks };
}

/** face-api's landmark net input side and mean (FaceLandmark68TinyNet / TinyFaceFeatureExtractor). */
const LANDMARK_INPUT = 112;
const LANDMARK_MEAN_RGB = [122.782, 117.001, 104.298];

/**
 * The face's 68 landmarks → roll and the eyes' centres (full-frame px). As face-api does, the detection box is made square about its
 * centre and resized to 112 px — here sampled straight from the full-resolution I420 frame
 * (bilinear luma, nearest chroma, BT.601 → RGB). The net: 3 dense blocks of (separable) 3×3
 * convolutions, a 14×14 average, one fully connected layer → 68 (x, y) as fractions of the input
 * square. Roll = the angle of the line between the eyes' centres (points 36–41 and 42–47; the mouth: 48–67),
 * clockwise on screen. `scale`: full-frame pixels per request-image pixel.
 */
function landmarksOf(w: Weights, frame: NonNullable<DetectRequest['landmarks']>, box: RawBox, scale: number): Pick<RawBox, 'rollDeg' | 'eyesPx' | 'mouthPx'> {
  const side = Math.max(box.width, box.height) * scale;
  const x0 = (box.x + box.width / 2) * scale - side / 2;
  const y0 = (box.y + box.height / 2) * scale - side / 2;
  const input = faceInput(frame, x0, y0, side);
  const points = tf.tidy(() => {
    const x = tf.tensor4d(input, [1, LANDMARK_INPUT, LANDMARK_INPUT, 3]);
    const separable = (t: tf.Tensor4D, name: string, stride: 1 | 2) =>
      tf.add(tf.separableConv2d(t, w[`${name}/depthwise_filter`] as tf.Tensor4D, w[`${name}/pointwise_filter`] as tf.Tensor4D, stride, 'same'), w[`${name}/bias`]!) as tf.Tensor4D;
    const dense = (t: tf.Tensor4D, block: string, first: boolean) => {
      const out1 = tf.relu(first
        ? tf.add(tf.conv2d(t, w[`${block}/conv0/filters`] as tf.Tensor4D, 2, 'same'), w[`${block}/conv0/bias`]!)
        : separable(t, `${block}/conv0`, 2)) as tf.Tensor4D;
      const out2 = separable(out1, `${block}/conv1`, 1);
      const out3 = separable(tf.relu(tf.add(out1, out2)) as tf.Tensor4D, `${block}/conv2`, 1);
      return tf.relu(tf.add(tf.add(out1, out2), out3)) as tf.Tensor4D;
    };
    let t = dense(x, 'dense0', true);
    t = dense(t, 'dense1', false);
    t = dense(t, 'dense2', false);
    const pooled = tf.reshape(tf.avgPool(t, [14, 14], [2, 2], 'valid'), [1, -1]) as tf.Tensor2D;
    return tf.add(tf.matMul(pooled, w['fc/weights'] as tf.Tensor2D), w['fc/bias']!);
  });
  const p = points.dataSync() as Float32Array;
  points.dispose();
  const mean = (from: number, count: number) => {
    let x = 0, y = 0;
    for (let i = from; i < from + count; i++) (x += p[2 * i]!), (y += p[2 * i + 1]!);
    return [x / count, y / count] as const;
  };
  const [lx, ly] = mean(36, 6);
  const [rx, ry] = mean(42, 6);
  const [mx, my] = mean(48, 20);
  return {
    rollDeg: (Math.atan2(ry - ly, rx - lx) * 180) / Math.PI,
    eyesPx: { left: [x0 + lx * side, y0 + ly * side], right: [x0 + rx * side, y0 + ry * side] },
    mouthPx: [x0 + mx * side, y0 + my * side],
  };
}

/**
 * Image (pixels 0..255) → network input: (v − mean) / 256, padded at the bottom/right to a square.
 * One pass, each value written once (the padding is the mean, i.e. 0 after normalisation); it
 * used to fill the whole buffer with the padding first, one 3-float set() per pixel, which took
 * ~7.5 ms of a ~44 ms detection at 320×240 (bench/ profile); now ~1.3 ms, same bytes.
 */
function toInput(req: DetectRequest): tf.Tensor4D {
  const { width, height, rgb } = req;
  const side = Math.max(width, height);
  const [m0, m1, m2] = MEAN_RGB as [number, number, number];
  const p0 = -m0 / 256;
  const p1 = -m1 / 256;
  const p2 = -m2 / 256;
  const input = new Float32Array(side * side * 3);
  for (let y = 0; y < side; y++) {
    let o = y * side * 3;
    const rowEnd = o + side * 3;
    if (y < height) {
      for (let s = y * width * 3, end = s + width * 3; s < end; s += 3) {
        input[o++] = (rgb[s] - m0) / 256;
        input[o++] = (rgb[s + 1] - m1) / 256;
        input[o++] = (rgb[s + 2] - m2) / 256;
      }
    }
    for (; o < rowEnd; o += 3) {
      input[o] = p0;
      input[o + 1] = p1;
      input[o + 2] = p2;
    }
  }
  const square = tf.tensor4d(input, [1, side, side, 3]);
  return side === INPUT_SIZE ? square : tf.image.resizeBilinear(square, [INPUT_SIZE, INPUT_SIZE]);
}

function forward(w: Weights, input: tf.Tensor4D): tf.Tensor4D {
  const conv = (x: tf.Tensor4D, name: string, activation: 'leakyrelu' | 'linear', pad: 'valid' | 'same' = 'valid') =>
    tf.fused.conv2d({
      x, filter: w[`${name}/filters`] as tf.Tensor4D, bias: w[`${name}/bias`], strides: 1, pad,
      activation, leakyreluAlpha: LEAKY_ALPHA,
    });
  // face-api zero-pads by 1 then convolves 'valid': the same as 'same' for 3×3 stride 1.
  const separable = (x: tf.Tensor4D, name: string) =>
    tf.fused.conv2d({
      x: tf.depthwiseConv2d(x, w[`${name}/depthwise_filter`] as tf.Tensor4D, 1, 'same'),
      filter: w[`${name}/pointwise_filter`] as tf.Tensor4D, bias: w[`${name}/bias`], strides: 1, pad: 'valid',
      activation: 'leakyrelu', leakyreluAlpha: LEAKY_ALPHA,
    });
  let x = conv(input, 'conv0', 'leakyrelu');
  for (let i = 1; i <= 5; i++) x = separable(tf.maxPool(x, 2, 2, 'same'), `conv${i}`);
  return conv(tf.maxPool(x, 2, 1, 'same'), 'conv8', 'linear');
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** Grid output → boxes in the request image's pixels (the padding is bottom/right, so the square's coordinates are the image's). */
function decode(out: Float32Array, cells: number, side: number): RawBox[] {
  const boxes: RawBox[] = [];
  const anchors = ANCHORS.length;
  for (let row = 0; row < cells; row++) {
    for (let col = 0; col < cells; col++) {
      for (let a = 0; a < anchors; a++) {
        const k = ((row * cells + col) * anchors + a) * 5;
        const score = sigmoid(out[k + 4]);
        if (score <= SCORE_THRESHOLD) continue;
        const width = (Math.exp(out[k + 2]) * ANCHORS[a][0] / cells) * side;
        const height = (Math.exp(out[k + 3]) * ANCHORS[a][1] / cells) * side;
        const cx = ((col + sigmoid(out[k])) / cells) * side;
        const cy = ((row + sigmoid(out[k + 1])) / cells) * side;
        boxes.push({ x: cx - width / 2, y: cy - height / 2, width, height, score });
      }
    }
  }
  return nonMaxSuppression(boxes);
}

function iou(a: RawBox, b: RawBox): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  return (w * h) / (a.width * a.height + b.width * b.height - w * h);
}

function nonMaxSuppression(boxes: RawBox[]): RawBox[] {
  const kept: RawBox[] = [];
  for (const box of boxes.sort((a, b) => b.score - a.score)) {
    if (kept.every((k) => iou(k, box) <= IOU_THRESHOLD)) kept.push(box);
  }
  return kept;
}

/** The square (x0, y0, side) of an I420 frame as the landmark net's input: 112×112 RGB, (v − mean) / 255. */
function faceInput(f: NonNullable<DetectRequest['landmarks']>, x0: number, y0: number, side: number): Float32Array {
  const { width, height, i420 } = f;
  const cw = (width + 1) >> 1;
  const uBase = width * height;
  const vBase = uBase + cw * ((height + 1) >> 1);
  const out = new Float32Array(LANDMARK_INPUT * LANDMARK_INPUT * 3);
  const step = side / LANDMARK_INPUT;
  const [m0, m1, m2] = LANDMARK_MEAN_RGB as [number, number, number];
  let o = 0;
  for (let j = 0; j < LANDMARK_INPUT; j++) {
    const sy = Math.min(height - 1.001, Math.max(0, y0 + (j + 0.5) * step - 0.5));
    const yi = Math.floor(sy);
    const fy = sy - yi;
    for (let i = 0; i < LANDMARK_INPUT; i++) {
      const sx = Math.min(width - 1.001, Math.max(0, x0 + (i + 0.5) * step - 0.5));
      const xi = Math.floor(sx);
      const fx = sx - xi;
      const r0 = yi * width + xi;
      const Y = (i420[r0]! * (1 - fx) + i420[r0 + 1]! * fx) * (1 - fy) + (i420[r0 + width]! * (1 - fx) + i420[r0 + width + 1]! * fx) * fy;
      const c = (Math.round(sy) >> 1) * cw + (Math.round(sx) >> 1);
      const u = i420[uBase + c]! - 128;
      const v = i420[vBase + c]! - 128;
      const yy = 1.164 * (Y - 16);
      out[o++] = (clamp255(yy + 1.596 * v) - m0) / 255;
      out[o++] = (clamp255(yy - 0.392 * u - 0.813 * v) - m1) / 255;
      out[o++] = (clamp255(yy + 2.017 * u) - m2) / 255;
    }
  }
  return out;
}

const clamp255 = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);

function detect(models: Models, req: DetectRequest): RawBox[] {
  const out = tf.tidy(() => forward(models.detector, toInput(req)));
  const data = out.dataSync() as Float32Array;
  const cells = out.shape[1];
  out.dispose();
  const boxes = decode(data, cells, Math.max(req.width, req.height));
  const full = req.landmarks;
  if (full && models.landmarks) for (const box of boxes) Object.assign(box, landmarksOf(models.landmarks, full, box, full.width / req.width));
  return boxes;
}

const reply = (msg: WorkerReply) => port.postMessage(msg);

loadModel().then(
  (models) => {
    port.on('message', (req: DetectRequest) => {
      try {
        reply({ type: 'result', boxes: detect(models, req) });
      } catch (err) {
        reply({ type: 'error', message: (err as Error).message });
      }
    });
    reply({ type: 'ready' });
  },
  (err: Error) => reply({ type: 'error', message: `face detector model failed to load: ${err.message}` }),
);
