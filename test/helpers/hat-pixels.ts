/**
 * Finding a drawn hat in a returned frame by comparing it with the frame that was sent: the
 * pixels that changed by more than codec noise are the hat. And a test hat whose parts can be
 * told apart: four coloured quadrants and a transparent hole near its lower middle (the part
 * that lies over the face with the tutorial's offsets, so the hole must show the face).
 */
import { PNG } from 'pngjs';
import type { VideoFrame } from '../../engine/media/frames.js';
import { counterStripRect, type Rect } from './frame-counter.js';

export const HAT_SIZE = 200;
/** The hole, as fractions of the hat: x 35–65 %, y 80–95 %. */
export const HAT_HOLE = { x0: 0.35, x1: 0.65, y0: 0.8, y1: 0.95 };
export const QUADRANT_COLOURS = { topLeft: 'red', topRight: 'green', bottomLeft: 'blue', bottomRight: 'yellow' } as const;
export type Colour = 'red' | 'green' | 'blue' | 'yellow';
const RGB: Record<Colour, [number, number, number]> = { red: [230, 20, 20], green: [20, 200, 20], blue: [20, 20, 230], yellow: [240, 230, 20] };

/** The test hat as PNG bytes. */
export function testHatPng(): Buffer {
  const png = new PNG({ width: HAT_SIZE, height: HAT_SIZE });
  for (let y = 0; y < HAT_SIZE; y++) {
    for (let x = 0; x < HAT_SIZE; x++) {
      const left = x < HAT_SIZE / 2;
      const top = y < HAT_SIZE / 2;
      const colour = top ? (left ? QUADRANT_COLOURS.topLeft : QUADRANT_COLOURS.topRight) : left ? QUADRANT_COLOURS.bottomLeft : QUADRANT_COLOURS.bottomRight;
      const fx = x / HAT_SIZE;
      const fy = y / HAT_SIZE;
      const hole = fx >= HAT_HOLE.x0 && fx < HAT_HOLE.x1 && fy >= HAT_HOLE.y0 && fy < HAT_HOLE.y1;
      const i = (y * HAT_SIZE + x) * 4;
      [png.data[i], png.data[i + 1], png.data[i + 2]] = RGB[colour];
      png.data[i + 3] = hole ? 0 : 255;
    }
  }
  return PNG.sync.write(png);
}

/** Pixel (x, y) of an I420 frame as [Y, U, V]. */
function yuvAt(f: VideoFrame, x: number, y: number): [number, number, number] {
  const cw = Math.ceil(f.width / 2);
  const ch = Math.ceil(f.height / 2);
  const c = (y >> 1) * cw + (x >> 1);
  return [f.data[y * f.width + x]!, f.data[f.width * f.height + c]!, f.data[f.width * f.height + cw * ch + c]!];
}

/** BT.601 limited-range YUV → RGB. */
export function rgbAt(f: VideoFrame, x: number, y: number): [number, number, number] {
  const [Y, U, V] = yuvAt(f, x, y);
  const c = 1.164 * (Y - 16);
  const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)));
  return [clamp(c + 1.596 * (V - 128)), clamp(c - 0.392 * (U - 128) - 0.813 * (V - 128)), clamp(c + 2.017 * (U - 128))];
}

export function colourOf([r, g, b]: [number, number, number]): Colour | 'other' {
  if (r > 150 && g > 150 && b < 100) return 'yellow';
  if (r > 140 && g < 90 && b < 90) return 'red';
  if (g > 120 && r < 100 && b < 100) return 'green';
  if (b > 140 && r < 100 && g < 100) return 'blue';
  return 'other';
}

/**
 * Where `received` differs from `sent` by more than codec noise (sizes may differ: the
 * sent frame is sampled at the received pixel's position). The counter strip is left out.
 * With `region` (in received-frame pixels) only that rectangle is compared — much cheaper,
 * e.g. to test every frame for a hat where one is expected; the mask stays full-frame sized.
 */
export function changedMask(received: VideoFrame, sent: VideoFrame, region?: Rect): { mask: Uint8Array; count: number } {
  const { width: w, height: h } = received;
  const strip = counterStripRect(w, h);
  const mask = new Uint8Array(w * h);
  const rx0 = region ? Math.max(0, Math.floor(region.x)) : 0;
  const ry0 = region ? Math.max(0, Math.floor(region.y)) : 0;
  const rx1 = region ? Math.min(w, Math.ceil(region.x + region.width)) : w;
  const ry1 = region ? Math.min(strip.y, Math.ceil(region.y + region.height)) : strip.y;
  let count = 0;
  for (let y = ry0; y < ry1; y++) {
    const sy = Math.min(sent.height - 1, Math.round((y * sent.height) / h));
    for (let x = rx0; x < rx1; x++) {
      const sx = Math.min(sent.width - 1, Math.round((x * sent.width) / w));
      const [y1, u1, v1] = yuvAt(received, x, y);
      const [y0, u0, v0] = yuvAt(sent, sx, sy);
      if (Math.abs(y1 - y0) > 45 || Math.abs(u1 - u0) > 35 || Math.abs(v1 - v0) > 35) {
        mask[y * w + x] = 1;
        count++;
      }
    }
  }
  return { mask, count };
}

/** Bounding box of the mask's rows and columns that hold at least `minRun` changed pixels (drops stray noise). */
export function maskBounds(mask: Uint8Array, w: number, h: number, minRun = 4): Rect | undefined {
  const rows = new Uint32Array(h);
  const cols = new Uint32Array(w);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (mask[y * w + x]) (rows[y]++, cols[x]++);
  const ys = [...rows.keys()].filter((y) => rows[y]! >= minRun);
  const xs = [...cols.keys()].filter((x) => cols[x]! >= minRun);
  if (!ys.length || !xs.length) return undefined;
  return { x: xs[0]!, y: ys[0]!, width: xs[xs.length - 1]! - xs[0]! + 1, height: ys[ys.length - 1]! - ys[0]! + 1 };
}

/** Column ranges [x0, x1] where the mask has changed pixels: one per hat when hats do not overlap. */
export function columnGroups(mask: Uint8Array, w: number, h: number, minRun = 4): [number, number][] {
  const groups: [number, number][] = [];
  for (let x = 0; x < w; x++) {
    let n = 0;
    for (let y = 0; y < h; y++) n += mask[y * w + x]!;
    if (n < minRun) continue;
    const last = groups[groups.length - 1];
    if (last && x - last[1] <= 3) last[1] = x;
    else groups.push([x, x]);
  }
  return groups.filter(([a, b]) => b - a >= 10);
}

/** Where the KMS formula puts the hat for a face box, with the tutorial's values by default. */
export function expectedHatRect(face: Rect, o = { offsetXPercent: -0.35, offsetYPercent: -1.2, widthPercent: 1.6, heightPercent: 1.6 }): Rect {
  return {
    x: Math.trunc(face.x + face.width * o.offsetXPercent),
    y: Math.trunc(face.y + face.height * o.offsetYPercent),
    width: Math.trunc(face.width * o.widthPercent),
    height: Math.trunc(face.height * o.heightPercent),
  };
}

/** Clips a rect to the frame. */
export function clipRect(r: Rect, w: number, h: number): Rect {
  const x0 = Math.max(0, r.x);
  const y0 = Math.max(0, r.y);
  const x1 = Math.min(w, r.x + r.width);
  const y1 = Math.min(h, r.y + r.height);
  return { x: x0, y: y0, width: Math.max(0, x1 - x0), height: Math.max(0, y1 - y0) };
}
