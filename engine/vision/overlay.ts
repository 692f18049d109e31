/**
 * The hat: loaded from a PNG or JPEG URI, drawn onto I420 frames where KMS's FaceOverlayFilter draws it.
 *
 * KMS (kms-filters, kmsimageoverlay.c) does, per face rect (x, y, w, h) in integers:
 *   x' = x + w·offsetXPercent, y' = y + h·offsetYPercent, w' = w·widthPercent, h' = h·heightPercent
 * each truncated to int (C double → int), skips every face if widthPercent or heightPercent is 0,
 * resizes the image to w'×h' with OpenCV's bilinear filter (straight, not premultiplied, alpha),
 * and blends it over the frame where it lies inside, with out = img·α + frame·(1 − α). An image
 * without alpha (JPEG, as OpenCV's imread gives 3 channels) is copied opaque, as KMS does.
 * KMS blends in BGR; here the same is done in I420: luma per pixel, each chroma sample with the
 * mean colour and alpha of the 2×2 pixels it covers. The resized image is kept, converted to
 * YUV + alpha, per size, so a frame costs only the blend.
 */
import type { VideoFrame } from '../media/frames.js';
import type { EyeLine, FaceBox } from './face-detector.js';

/** FaceOverlayFilter.setOverlayedImage's parameters (fractions of the face box, despite the names). */
export interface OverlayParams {
  offsetXPercent: number;
  offsetYPercent: number;
  widthPercent: number;
  heightPercent: number;
}

/** The image resized to one size and converted for blending into I420. */
interface Sprite {
  width: number;
  height: number;
  y: Uint8Array;
  a: Uint8Array;
  /** U·α and V·α per pixel (premultiplied, so a 2×2 chroma block can be summed directly). */
  ua: Uint16Array;
  va: Uint16Array;
}

/** Sizes kept per image: a face's box changes size slowly, and a few faces need a few sizes. */
const SPRITE_CACHE_SIZE = 8;
/** Turned sprites kept per image (per size and whole degree: a tilting head passes through several). */
const TURNED_CACHE_SIZE = 24;
/**
 * Larger sprites (a face close to the camera with a hat several faces wide), turned or not,
 * are not drawn rather than allocated: 6 bytes a pixel, so at most 24 MiB each.
 */
export const MAX_SPRITE_PIXELS = 2048 * 2048;

export class OverlayImage {
  /** Least recently used first. */
  private readonly sprites = new Map<string, Sprite>();
  /** Turned sprites, by size and degree, least recently used first. */
  private readonly turned = new Map<string, Sprite>();

  /** rgba: width*height*4 bytes, straight alpha. */
  constructor(readonly width: number, readonly height: number, readonly rgba: Uint8Array) {
    if (rgba.length !== width * height * 4) throw new RangeError(`RGBA data is ${rgba.length} bytes, expected ${width * height * 4}`);
  }

  /** The image resized to width×height and converted to YUV + alpha, cached per size. */
  sprite(width: number, height: number): Sprite {
    return cached(this.sprites, `${width}x${height}`, SPRITE_CACHE_SIZE, () => toSprite(resizeBilinear(this, width, height), width, height));
  }

  /**
   * The width×height sprite turned clockwise by `deg` (whole degrees) about its centre, in its
   * bounding box; undefined when that box would be larger than MAX_SPRITE_PIXELS (a long thin
   * sprite turned 45° needs a box far larger than itself).
   */
  turnedSprite(width: number, height: number, deg: number): Sprite | undefined {
    const { width: tw, height: th } = turnedSize(width, height, deg);
    if (tw * th > MAX_SPRITE_PIXELS) return undefined;
    return cached(this.turned, `${width}x${height}@${deg}`, TURNED_CACHE_SIZE, () => turn(this.sprite(width, height), deg));
  }
}

/** Bytes one cache of an image's sprites may hold (a few sprites of the largest size). */
const SPRITE_CACHE_BYTES = 64 * 1024 * 1024;
const spriteBytes = (s: Sprite) => s.y.length * 6;

/** An LRU map lookup: least recently used first; bounded in entries and in bytes. */
function cached(map: Map<string, Sprite>, key: string, max: number, make: () => Sprite): Sprite {
  let s = map.get(key);
  if (s) {
    map.delete(key);
  } else {
    s = make();
    let bytes = spriteBytes(s);
    for (const v of map.values()) bytes += spriteBytes(v);
    for (const [k, v] of map) {
      if (map.size < max && bytes <= SPRITE_CACHE_BYTES) break;
      map.delete(k);
      bytes -= spriteBytes(v);
    }
  }
  map.set(key, s);
  return s;
}

/**
 * Bilinear resampling of every plane; taps outside the sprite are transparent. U·α and V·α are
 * premultiplied, so they interpolate as they are; luma is straight, so it is weighted by α (a
 * transparent tap must not darken the edge). One tight loop: a tilting head needs a new turn
 * every degree (measured ~2.5 ms for a 144 px hat, so turns are cached).
 */
function turnedSize(sw: number, sh: number, deg: number): { width: number; height: number } {
  const t = (deg * Math.PI) / 180;
  const cos = Math.abs(Math.cos(t));
  const sin = Math.abs(Math.sin(t));
  return { width: Math.ceil(sw * cos + sh * sin), height: Math.ceil(sw * sin + sh * cos) };
}

function turn(s: Sprite, deg: number): Sprite {
  const t = (deg * Math.PI) / 180;
  const cos = Math.cos(t);
  const sin = Math.sin(t);
  const sw = s.width;
  const sh = s.height;
  const { width, height } = turnedSize(sw, sh, deg);
  const n = width * height;
  const out: Sprite = { width, height, y: new Uint8Array(n), a: new Uint8Array(n), ua: new Uint16Array(n), va: new Uint16Array(n) };
  const { y: sy0, a: sa0, ua: su0, va: sv0 } = s;
  for (let j = 0; j < height; j++) {
    const dy = j + 0.5 - height / 2;
    for (let i = 0; i < width; i++) {
      const dx = i + 0.5 - width / 2;
      const sx = cos * dx + sin * dy + sw / 2 - 0.5;
      const sy = -sin * dx + cos * dy + sh / 2 - 0.5;
      if (sx <= -1 || sy <= -1 || sx >= sw || sy >= sh) continue;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      let a = 0, ya = 0, u = 0, v = 0;
      for (let k = 0; k < 4; k++) {
        const x = x0 + (k & 1);
        const y = y0 + (k >> 1);
        if (x < 0 || y < 0 || x >= sw || y >= sh) continue;
        const w = ((k & 1) ? fx : 1 - fx) * ((k >> 1) ? fy : 1 - fy);
        const si = y * sw + x;
        const ta = sa0[si]! * w;
        a += ta;
        ya += ta * sy0[si]!;
        u += su0[si]! * w;
        v += sv0[si]! * w;
      }
      if (a < 0.5) continue;
      const o = j * width + i;
      out.a[o] = a + 0.5;
      out.y[o] = ya / a + 0.5;
      out.ua[o] = u + 0.5;
      out.va[o] = v + 0.5;
    }
  }
  return out;
}

/**
 * What the image is placed by. 'face' (KMS): the face box alone — the rect starts at
 * box.x + offsetX·width, box.y + offsetY·height and turns about the box's centre. 'eyes' (the
 * Magic Mirror app's glasses and masks, filter tag ANCHOR_TAG): the same four numbers, still
 * fractions of the face box as KMS reads them, are taken as relative to where the eyes are in a
 * typical face (TYPICAL_EYES) and moved and scaled to where this face's eyes are, turning
 * about their midpoint. Without landmarks both give the same rect, so glasses placed for the
 * engine sit about right on a real KMS too.
 */
export type OverlayAnchor = 'face' | 'eyes';

/**
 * Where the eyes are in a typical face's Haar box (and so where a face without landmarks is
 * taken to have them). Measured with the landmark net on astronaut.png at 320×240, 640×480 and
 * 1280×720: midpoint x 0.52–0.57 (that face is turned a little), y 0.34–0.40, span 0.40–0.42;
 * x is taken as 0.5, a face looking straight on.
 */
export const TYPICAL_EYES: EyeLine = { x: 0.5, y: 0.38, span: 0.4 };

/**
 * Draws the image on every face, in place: with the 'face' anchor exactly where KMS would (see
 * the top of this file). A face with a roll (FaceBox.rollDeg, to the whole degree) gets the
 * same rect turned with it about the anchor's pivot.
 */
export function composite(frame: VideoFrame, boxes: readonly FaceBox[], image: OverlayImage, params: OverlayParams, anchor: OverlayAnchor = 'face'): void {
  if (params.widthPercent === 0 || params.heightPercent === 0) return;
  for (const box of boxes) {
    const place = anchor === 'eyes' ? eyesPlacement(box, params) : facePlacement(box, params);
    const { x, y, w, h, pivotX, pivotY } = place;
    if (w <= 0 || h <= 0 || w * h > MAX_SPRITE_PIXELS) continue;
    const deg = Math.round(box.rollDeg ?? 0);
    if (deg === 0) {
      if (x >= frame.width || y >= frame.height || x + w <= 0 || y + h <= 0) continue;
      blend(frame, image.sprite(w, h), x, y);
      continue;
    }
    // Tilted with the head: the rect turned about the pivot.
    const sprite = image.turnedSprite(w, h, deg);
    if (!sprite) continue;
    const t = (deg * Math.PI) / 180;
    const ux = x + w / 2 - pivotX;
    const uy = y + h / 2 - pivotY;
    const cx = pivotX + ux * Math.cos(t) - uy * Math.sin(t);
    const cy = pivotY + ux * Math.sin(t) + uy * Math.cos(t);
    const left = Math.round(cx - sprite.width / 2);
    const top = Math.round(cy - sprite.height / 2);
    if (left >= frame.width || top >= frame.height || left + sprite.width <= 0 || top + sprite.height <= 0) continue;
    blend(frame, sprite, left, top);
  }
}

interface Placement {
  x: number;
  y: number;
  w: number;
  h: number;
  pivotX: number;
  pivotY: number;
}

/** KMS's formula (truncated like its integer maths), turning about the face's centre. */
function facePlacement(box: FaceBox, p: OverlayParams): Placement {
  return {
    x: Math.trunc(box.x + box.width * p.offsetXPercent),
    y: Math.trunc(box.y + box.height * p.offsetYPercent),
    w: Math.trunc(box.width * p.widthPercent),
    h: Math.trunc(box.height * p.heightPercent),
    pivotX: box.x + box.width / 2,
    pivotY: box.y + box.height / 2,
  };
}

/** KMS's rect relative to the typical eyes, moved and scaled onto this face's eyes; turning about them. */
function eyesPlacement(box: FaceBox, p: OverlayParams): Placement {
  const eyes = box.eyes ?? TYPICAL_EYES;
  const k = eyes.span / TYPICAL_EYES.span;
  const pivotX = box.x + eyes.x * box.width;
  const pivotY = box.y + eyes.y * box.height;
  return {
    x: Math.trunc(pivotX + (p.offsetXPercent - TYPICAL_EYES.x) * box.width * k),
    y: Math.trunc(pivotY + (p.offsetYPercent - TYPICAL_EYES.y) * box.height * k),
    w: Math.trunc(box.width * p.widthPercent * k),
    h: Math.trunc(box.height * p.heightPercent * k),
    pivotX,
    pivotY,
  };
}

/** OpenCV's INTER_LINEAR: pixel centres aligned, source taps clamped at the edges. */
function resizeBilinear(src: OverlayImage, dw: number, dh: number): Uint8Array {
  const xs = taps(src.width, dw);
  const ys = taps(src.height, dh);
  const s = src.rgba;
  const out = new Uint8Array(dw * dh * 4);
  let o = 0;
  for (let y = 0; y < dh; y++) {
    const r0 = ys.i0[y] * src.width * 4;
    const r1 = ys.i1[y] * src.width * 4;
    const fy = ys.f[y];
    for (let x = 0; x < dw; x++) {
      const c0 = xs.i0[x] * 4;
      const c1 = xs.i1[x] * 4;
      const fx = xs.f[x];
      for (let c = 0; c < 4; c++) {
        const top = s[r0 + c0 + c] + (s[r0 + c1 + c] - s[r0 + c0 + c]) * fx;
        const bottom = s[r1 + c0 + c] + (s[r1 + c1 + c] - s[r1 + c0 + c]) * fx;
        out[o++] = top + (bottom - top) * fy + 0.5;
      }
    }
  }
  return out;
}

function taps(srcSize: number, dstSize: number): { i0: Int32Array; i1: Int32Array; f: Float64Array } {
  const i0 = new Int32Array(dstSize);
  const i1 = new Int32Array(dstSize);
  const f = new Float64Array(dstSize);
  const scale = srcSize / dstSize;
  for (let d = 0; d < dstSize; d++) {
    const pos = (d + 0.5) * scale - 0.5;
    let i = Math.floor(pos);
    let frac = pos - i;
    if (i < 0) { i = 0; frac = 0; }
    if (i >= srcSize - 1) { i = srcSize - 1; frac = 0; }
    i0[d] = i;
    i1[d] = Math.min(i + 1, srcSize - 1);
    f[d] = frac;
  }
  return { i0, i1, f };
}

/** RGBA → Y, α, U·α, V·α with BT.601 limited-range coefficients (libyuv's, as WebRTC uses). */
function toSprite(rgba: Uint8Array, width: number, height: number): Sprite {
  const n = width * height;
  const s: Sprite = {
    width, height, y: new Uint8Array(n), a: new Uint8Array(n), ua: new Uint16Array(n), va: new Uint16Array(n),
  };
  for (let i = 0, p = 0; i < n; i++, p += 4) {
    const r = rgba[p];
    const g = rgba[p + 1];
    const b = rgba[p + 2];
    const a = rgba[p + 3];
    s.y[i] = ((66 * r + 129 * g + 25 * b + 128) >> 8) + 16;
    s.a[i] = a;
    s.ua[i] = (((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128) * a;
    s.va[i] = (((112 * r - 94 * g - 18 * b + 128) >> 8) + 128) * a;
  }
  return s;
}

/** Alpha-blends the sprite with its top-left corner at (x, y), clipped to the frame. */
function blend(frame: VideoFrame, s: Sprite, x: number, y: number): void {
  const { width: fw, height: fh, data } = frame;
  const x0 = Math.max(0, x);
  const y0 = Math.max(0, y);
  const x1 = Math.min(fw, x + s.width);
  const y1 = Math.min(fh, y + s.height);

  for (let py = y0; py < y1; py++) {
    let si = (py - y) * s.width + (x0 - x);
    let fi = py * fw + x0;
    for (let px = x0; px < x1; px++, si++, fi++) {
      const a = s.a[si];
      if (a !== 0) data[fi] = (s.y[si] * a + data[fi] * (255 - a) + 127) / 255;
    }
  }

  // Each chroma sample covers up to 2×2 frame pixels; pixels of the block outside the sprite
  // count as transparent, so the sample keeps its own value in proportion.
  const cw = (fw + 1) >> 1;
  const uBase = fw * fh;
  const vBase = uBase + cw * ((fh + 1) >> 1);
  for (let cy = y0 >> 1; cy <= (y1 - 1) >> 1; cy++) {
    const blockH = Math.min(2, fh - 2 * cy);
    for (let cx = x0 >> 1; cx <= (x1 - 1) >> 1; cx++) {
      let sa = 0;
      let su = 0;
      let sv = 0;
      for (let py = Math.max(2 * cy, y0); py < Math.min(2 * cy + 2, y1); py++) {
        for (let px = Math.max(2 * cx, x0); px < Math.min(2 * cx + 2, x1); px++) {
          const si = (py - y) * s.width + (px - x);
          sa += s.a[si];
          su += s.ua[si];
          sv += s.va[si];
        }
      }
      if (sa === 0) continue;
      const full = Math.min(2, fw - 2 * cx) * blockH * 255;
      const ci = cy * cw + cx;
      data[uBase + ci] = (su + data[uBase + ci] * (full - sa) + (full >> 1)) / full;
      data[vBase + ci] = (sv + data[vBase + ci] * (full - sa) + (full >> 1)) / full;
    }
  }
}
