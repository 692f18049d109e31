/**
 * A frame counter drawn into the pixels, so a test can tell WHICH input frame an output frame
 * came from after a real encode → network → decode round trip (and across downscaling).
 *
 * Layout: a strip along the bottom edge, full width, 1/15 of the height (32 px at 640×480),
 * split into 20 equal cells (32×32 at 640×480 — two VP8 macroblocks each way, so every cell
 * is a flat block the encoder keeps sharp):
 *
 *   cell 0 white | cell 1 black | cells 2..17 the 16 bits, MSB first | cell 18 even parity | cell 19 black
 *
 * White is Y=235, black Y=16 (limited range, so a browser's canvas shows 255 / 0), U=V=128.
 * A reader averages the middle half of each cell and accepts a cell only if it is clearly dark
 * or clearly light; the guards, the parity bit and that "no grey cells" rule make any frame
 * without a counter (or a half-updated one) read as null rather than as a wrong number.
 *
 * The strip covers the bottom 32 rows only: faces in the fixtures are in the middle and the
 * hat goes above a face, so neither ever touches it. Use counterStripRect() to leave it out of
 * pixel comparisons.
 */
import type { VideoFrame } from '../../engine/media/frames.js';

const CELLS = 20;
const BITS = 16;
const FIRST_BIT_CELL = 2;
const PARITY_CELL = FIRST_BIT_CELL + BITS;
/** Strip height as a fraction of the frame height: 32 px at 480. */
const STRIP_HEIGHT_FRACTION = 1 / 15;

const Y_BLACK = 16;
const Y_WHITE = 235;
/** Mean luma of a cell must be at most DARK_MAX (0) or at least LIGHT_MIN (1); else no counter. */
const DARK_MAX = 90;
const LIGHT_MIN = 166;

/** Bumped whenever the layout changes (video-fixtures keys its y4m cache on it). */
export const COUNTER_LAYOUT_VERSION = 1;

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The region the counter occupies in a frame of this size. */
export function counterStripRect(width: number, height: number): Rect {
  const stripHeight = Math.max(1, Math.round(height * STRIP_HEIGHT_FRACTION));
  return { x: 0, y: height - stripHeight, width, height: stripHeight };
}

/** Cell i's columns [x0, x1). */
function cellColumns(width: number, i: number): [number, number] {
  return [Math.floor((i * width) / CELLS), Math.floor(((i + 1) * width) / CELLS)];
}

/** The 20 cell values (0 black / 1 white) encoding n. */
function encode(n: number): number[] {
  const cells = new Array<number>(CELLS);
  cells[0] = 1;
  cells[1] = 0;
  let ones = 0;
  for (let b = 0; b < BITS; b++) {
    const bit = (n >> (BITS - 1 - b)) & 1;
    cells[FIRST_BIT_CELL + b] = bit;
    ones += bit;
  }
  cells[PARITY_CELL] = ones & 1;
  cells[CELLS - 1] = 0;
  return cells;
}

/**
 * Draws counter n (taken modulo 65536) into the frame, in place: Y plane 16/235 blocks,
 * U and V neutral (128) under the strip so the blocks stay pure grey.
 */
export function stampCounter(frame: VideoFrame, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`counter must be a non-negative integer, got ${n}`);
  const { width, height, data } = frame;
  const strip = counterStripRect(width, height);
  const cells = encode(n % 2 ** BITS);
  for (let i = 0; i < CELLS; i++) {
    const [x0, x1] = cellColumns(width, i);
    const value = cells[i] ? Y_WHITE : Y_BLACK;
    for (let y = strip.y; y < height; y++) data.fill(value, y * width + x0, y * width + x1);
  }
  const cw = Math.ceil(width / 2);
  const ch = Math.ceil(height / 2);
  const uOffset = width * height;
  const vOffset = uOffset + cw * ch;
  for (let y = Math.floor(strip.y / 2); y < ch; y++) {
    data.fill(128, uOffset + y * cw, uOffset + (y + 1) * cw);
    data.fill(128, vOffset + y * cw, vOffset + (y + 1) * cw);
  }
}

/**
 * Decodes the counter given a function that returns the mean luma of a rectangle.
 * Samples the middle half of each cell (away from edges, where codecs ring and scalers blur).
 */
function decode(width: number, height: number, meanLuma: (x0: number, y0: number, x1: number, y1: number) => number): number | null {
  const strip = counterStripRect(width, height);
  const y0 = strip.y + Math.floor(strip.height / 4);
  const y1 = Math.max(y0 + 1, strip.y + Math.ceil((strip.height * 3) / 4));
  const cells: number[] = [];
  for (let i = 0; i < CELLS; i++) {
    const [cx0, cx1] = cellColumns(width, i);
    const x0 = cx0 + Math.floor((cx1 - cx0) / 4);
    const x1 = Math.max(x0 + 1, cx0 + Math.ceil(((cx1 - cx0) * 3) / 4));
    const luma = meanLuma(x0, y0, x1, y1);
    if (luma <= DARK_MAX) cells.push(0);
    else if (luma >= LIGHT_MIN) cells.push(1);
    else return null;
  }
  let n = 0;
  for (let b = 0; b < BITS; b++) n = (n << 1) | cells[FIRST_BIT_CELL + b]!;
  const expected = encode(n);
  return cells.every((c, i) => c === expected[i]) ? n : null;
}

/** Reads the counter from an I420 frame; null if the frame carries none (or an unreadable one). */
export function readCounterI420(frame: VideoFrame): number | null {
  const { width, height, data } = frame;
  if (width < CELLS || height < 15) return null;
  return decode(width, height, (x0, y0, x1, y1) => {
    let sum = 0;
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) sum += data[y * width + x]!;
    return sum / ((x1 - x0) * (y1 - y0));
  });
}

/** Reads the counter from tightly packed RGBA (e.g. a canvas getImageData); null if none. */
export function readCounterRgba(rgba: Uint8ClampedArray | Uint8Array, width: number, height: number): number | null {
  if (width < CELLS || height < 15) return null;
  if (rgba.length < width * height * 4) throw new RangeError(`RGBA buffer too short for ${width}×${height}`);
  return decode(width, height, (x0, y0, x1, y1) => {
    let sum = 0;
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        const p = (y * width + x) * 4;
        sum += 0.299 * rgba[p]! + 0.587 * rgba[p + 1]! + 0.114 * rgba[p + 2]!;
      }
    }
    return sum / ((x1 - x0) * (y1 - y0));
  });
}
