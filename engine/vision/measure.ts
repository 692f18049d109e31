/**
 * Prints what the vision layer costs on this machine (not a test):
 *   npx tsx engine/vision/measure.ts
 * - detection: FaceDetector.detect() on a 640×480 frame, call to result (downscale on this
 *   thread + worker inference), median of 20 after warm-up;
 * - the part of that spent on this (the video) thread: the downscale;
 * - composite: one hat on one face per 640×480 frame, median of 200, plus the first call, which
 *   also resizes and converts the hat for that size, and the cost of that step for a new size
 *   once warm (a moving face changes size every few detections).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { i420Size, type VideoFrame } from '../media/frames.js';
import { downscaleI420ToRgb } from './downscale.js';
import { DETECT_MAX_WIDTH, FaceDetector } from './face-detector.js';
import { composite, OverlayImage } from './overlay.js';

const W = 640;
const H = 480;
/** The hat placement of Kurento's magic-mirror tutorial. */
const TUTORIAL_PARAMS = { offsetXPercent: -0.35, offsetYPercent: -1.2, widthPercent: 1.6, heightPercent: 1.6 };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

function time(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

function astronautFrame(): VideoFrame {
  const png = fileURLToPath(new URL('../../test/fixtures/astronaut.png', import.meta.url));
  const data = execFileSync('ffmpeg', ['-v', 'error', '-i', png, '-vf', `scale=${H}:${H},pad=${W}:${H}:80:0`,
    '-pix_fmt', 'yuv420p', '-f', 'rawvideo', 'pipe:1'], { maxBuffer: 16 << 20 });
  if (data.length !== i420Size(W, H)) throw new Error(`ffmpeg gave ${data.length} bytes`);
  return { width: W, height: H, data: new Uint8Array(data) };
}

/** A 200×150 hat: opaque colour with a soft alpha ramp, like a real PNG's antialiased edge. */
function syntheticHat(): OverlayImage {
  const [w, h] = [200, 150];
  const rgba = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) rgba.set([200, 30, 30, Math.min(255, (i % w) * 4)], i * 4);
  return new OverlayImage(w, h, rgba);
}

const frame = astronautFrame();
const detector = await FaceDetector.create();
try {
  for (let i = 0; i < 3; i++) await detector.detect(frame);
  const detectMs: number[] = [];
  let boxes = await detector.detect(frame);
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    boxes = await detector.detect(frame);
    detectMs.push(performance.now() - t0);
  }
  const downscaleMs = Array.from({ length: 20 }, () => time(() => downscaleI420ToRgb(frame, DETECT_MAX_WIDTH)));

  const hat = syntheticHat();
  const target = { width: W, height: H, data: frame.data.slice() };
  const firstMs = time(() => composite(target, boxes, hat, TUTORIAL_PARAMS));
  const compositeMs = Array.from({ length: 200 }, () => time(() => composite(target, boxes, hat, TUTORIAL_PARAMS)));
  const resizeMs = Array.from({ length: 20 }, (_, i) => time(() => hat.sprite(150 + i, 150 + i)));

  console.log(`faces found: ${JSON.stringify(boxes)}`);
  console.log(`detection, 640×480 in → result: median ${median(detectMs).toFixed(1)} ms ` +
    `(min ${Math.min(...detectMs).toFixed(1)}, max ${Math.max(...detectMs).toFixed(1)}) of 20`);
  console.log(`  of which on the calling thread (downscale to ${DETECT_MAX_WIDTH} px RGB): median ${median(downscaleMs).toFixed(2)} ms`);
  console.log(`composite, one ${Math.trunc(boxes[0].width * 1.6)} px hat per 640×480 frame: median ${median(compositeMs).toFixed(3)} ms ` +
    `of 200 (first call, with resize + YUV conversion: ${firstMs.toFixed(2)} ms)`);
  console.log(`  hat resize + YUV conversion for a new ~160 px size, warm: median ${median(resizeMs).toFixed(2)} ms of 20`);
} finally {
  await detector.close();
}
