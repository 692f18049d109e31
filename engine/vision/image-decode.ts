/**
 * PNG and JPEG → RGBA, with every size bounded before memory is spent on it: the pixels a
 * header declares (MAX_IMAGE_PIXELS, about what a hat needs), and a PNG's compressed data
 * inflated only as far as its header implies (pngjs bounds that itself for non-interlaced
 * images but not for interlaced ones, where a 1 MB 1×1 file inflated to 1.5 GiB). Runs in the
 * decoder worker (image-decode-worker.ts), never on the frame path.
 */
import { inflateSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

/** Images with more pixels are refused before decoding (2048×2048: far more than a hat needs). */
export const MAX_IMAGE_PIXELS = 2048 * 2048;

export interface DecodedImage {
  width: number;
  height: number;
  /** width·height·4 bytes, straight alpha. */
  rgba: Uint8Array;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const tooLarge = (w: number, h: number) =>
  new Error(`the image is ${w}×${h} pixels, more than the ${(MAX_IMAGE_PIXELS / 1e6).toFixed(1)} megapixels accepted`);

/** PNG (any colour type; RGBA out) or baseline/progressive JPEG (opaque). */
export function decodeImage(bytes: Buffer): DecodedImage {
  if (bytes.subarray(0, 8).equals(PNG_SIGNATURE)) {
    checkPng(bytes);
    let png: ReturnType<typeof PNG.sync.read>;
    try {
      png = PNG.sync.read(bytes);
    } catch (err) {
      throw new Error(`not a readable PNG (${(err as Error).message})`);
    }
    return { width: png.width, height: png.height, rgba: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.length) };
  }
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
    try {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6, maxMemoryUsageInMB: 128 });
      return { width: img.width, height: img.height, rgba: img.data };
    } catch (err) {
      throw new Error(`not a readable JPEG (${(err as Error).message})`);
    }
  }
  throw new Error('not a readable PNG or JPEG (the file starts with neither signature)');
}

/** Channels per PNG colour type (0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA). */
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
/** Adam7's passes: x start, y start, x step, y step. */
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] as const;

/**
 * Refuses a PNG whose header declares too many pixels, or whose IDAT data inflates to more
 * than the filtered scanlines its header implies (a decompression bomb). Reads the chunk list
 * only; the inflate stops at that bound.
 */
export function checkPng(bytes: Buffer): void {
  if (bytes.length < 33 || bytes.toString('latin1', 12, 16) !== 'IHDR') throw new Error('not a readable PNG (no IHDR chunk)');
  const width = bytes.readUInt32BE(16);
  const height = bytes.readUInt32BE(20);
  const depth = bytes[24]!;
  const channels = CHANNELS[bytes[25]!];
  const interlaced = bytes[28] === 1;
  if (width * height > MAX_IMAGE_PIXELS) throw tooLarge(width, height);
  if (!channels || ![1, 2, 4, 8, 16].includes(depth) || width === 0 || height === 0) throw new Error('not a readable PNG (bad IHDR)');
  const bits = channels * depth;
  const rowBytes = (w: number) => ((w * bits + 7) >> 3) + 1; // + the filter byte
  let expected = 0;
  if (!interlaced) expected = rowBytes(width) * height;
  else {
    for (const [x0, y0, dx, dy] of ADAM7) {
      const w = Math.ceil((width - x0) / dx);
      const h = Math.ceil((height - y0) / dy);
      if (w > 0 && h > 0) expected += rowBytes(w) * h;
    }
  }
  const idat: Buffer[] = [];
  for (let at = 8; at + 8 <= bytes.length;) {
    const length = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    if (at + 12 + length > bytes.length) break; // truncated: pngjs reports it
    if (type === 'IDAT') idat.push(bytes.subarray(at + 8, at + 8 + length));
    if (type === 'IEND') break;
    at += 12 + length;
  }
  try {
    inflateSync(Buffer.concat(idat), { maxOutputLength: Math.max(expected, 1) });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new Error(`not a usable PNG: its data inflates to more than the ${expected} bytes its ${width}×${height} header implies`);
    }
    // Other inflate errors: pngjs gives its own reason.
  }
}
