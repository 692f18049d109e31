/**
 * The key colours of the motion bench's test hats (bench/motion.ts keyHatPng), found in a frame:
 * pure code, so the Chromium motion bench runs the same in the page (bundled by esbuild, as
 * bench/browser-page.ts bundles the counter reader) as the wrtc one runs in Node.
 */
import type { VideoFrame } from '../engine/media/frames.js';

/**
 * The key colours: magenta (the hat; every clip) and green (the second face's own hat on the
 * crossing clip). As BT.601 limited-range chroma magenta (255, 0, 255) has U ≈ 202, V ≈ 222 and
 * green (0, 255, 0) U ≈ 54, V ≈ 34: both far from skin, hair and the codec's smear between them.
 */
export type KeyColour = 'magenta' | 'green';
export const KEY_RGB: Record<KeyColour, readonly [number, number, number]> = { magenta: [255, 0, 255], green: [0, 255, 0] };
const isKey: Record<KeyColour, (u: number, v: number) => boolean> = {
  magenta: (u, v) => u > 165 && v > 165,
  green: (u, v) => u < 90 && v < 80,
};

export interface KeyBlob {
  x: number;
  y: number;
  /** In frame pixels. */
  area: number;
  /** Principal axis, clockwise on screen, in (−90, 90]. */
  angleDeg: number;
  /** Which key colour (absent: magenta). */
  key?: KeyColour;
}

/**
 * The key-coloured regions of a frame, from its chroma planes (one sample per 2×2 pixels):
 * 4-connected components of at least minArea frame pixels, with centroid and principal axis.
 */
export function findKeyBlobs(frame: VideoFrame, minArea: number, key: KeyColour = 'magenta'): KeyBlob[] {
  const { width, height, data } = frame;
  const cw = Math.ceil(width / 2);
  const ch = Math.ceil(height / 2);
  const uBase = width * height;
  const vBase = uBase + cw * ch;
  const mask = new Uint8Array(cw * ch);
  const test = isKey[key];
  for (let i = 0; i < cw * ch; i++) mask[i] = test(data[uBase + i]!, data[vBase + i]!) ? 1 : 0;
  return blobsOf(mask, cw, ch, minArea, key);
}

/** The same from an RGBA picture (a canvas read in the page): BT.601 limited-range chroma of each 2×2 block. */
export function findKeyBlobsRgba(rgba: Uint8ClampedArray | Uint8Array, width: number, height: number, minArea: number, key: KeyColour = 'magenta'): KeyBlob[] {
  const test = isKey[key];
  const cw = Math.ceil(width / 2);
  const ch = Math.ceil(height / 2);
  const mask = new Uint8Array(cw * ch);
  for (let cy = 0; cy < ch; cy++) {
    for (let cx = 0; cx < cw; cx++) {
      let r = 0, g = 0, b = 0, n = 0;
      for (let y = 2 * cy; y < Math.min(height, 2 * cy + 2); y++) {
        for (let x = 2 * cx; x < Math.min(width, 2 * cx + 2); x++) {
          const o = (y * width + x) * 4;
          r += rgba[o]!; g += rgba[o + 1]!; b += rgba[o + 2]!; n++;
        }
      }
      r /= n; g /= n; b /= n;
      const u = 128 - 0.1482 * r - 0.291 * g + 0.4392 * b;
      const v = 128 + 0.4392 * r - 0.3678 * g - 0.0714 * b;
      mask[cy * cw + cx] = test(u, v) ? 1 : 0;
    }
  }
  return blobsOf(mask, cw, ch, minArea, key);
}

/** 4-connected components of a chroma-resolution mask (1 = key), each with centroid and axis in frame pixels. */
function blobsOf(mask: Uint8Array, cw: number, ch: number, minArea: number, key: KeyColour): KeyBlob[] {
  const blobs: KeyBlob[] = [];
  const stack: number[] = [];
  for (let start = 0; start < mask.length; start++) {
    if (mask[start] !== 1) continue;
    mask[start] = 2;
    stack.push(start);
    let n = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
    while (stack.length) {
      const i = stack.pop()!;
      const x = i % cw;
      const y = (i - x) / cw;
      n++; sx += x; sy += y; sxx += x * x; syy += y * y; sxy += x * y;
      if (x > 0 && mask[i - 1] === 1) (mask[i - 1] = 2), stack.push(i - 1);
      if (x < cw - 1 && mask[i + 1] === 1) (mask[i + 1] = 2), stack.push(i + 1);
      if (y > 0 && mask[i - cw] === 1) (mask[i - cw] = 2), stack.push(i - cw);
      if (y < ch - 1 && mask[i + cw] === 1) (mask[i + cw] = 2), stack.push(i + cw);
    }
    if (n * 4 < minArea) continue;
    const mx = sx / n;
    const my = sy / n;
    const mu20 = sxx / n - mx * mx;
    const mu02 = syy / n - my * my;
    const mu11 = sxy / n - mx * my;
    blobs.push({ x: 2 * (mx + 0.5), y: 2 * (my + 0.5), area: n * 4, angleDeg: (0.5 * Math.atan2(2 * mu11, mu20 - mu02) * 180) / Math.PI, key });
  }
  return blobs;
}

