/**
 * How far a face moved between two consecutive frames, from their luma: block matching of the
 * face's central region on half-resolution luma (sum of absolute differences over a ±SEARCH
 * window around the face's last move, every other pixel of the region), refined to a fraction
 * of a pixel by a parabola through the best match and its neighbours. A few hundred microseconds
 * per face per frame at 640×480 (the detector takes ~50 ms and runs ~13 times a second), so the
 * hat can move with the face on every frame instead of jumping at each detection.
 */
import type { VideoFrame } from '../media/frames.js';

export interface Luma {
  width: number;
  height: number;
  data: Uint8Array;
  /** The part computed (half-res px); the rest is stale. */
  valid: Rect;
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Half-resolution search radius each way at 30 fps: 8 half-res px = 16 frame px a frame
 * (480 px/s). Frames further apart (a loaded machine drops them) get a wider search.
 */
export const SEARCH = 8;
const MAX_SEARCH = 3 * SEARCH;

/** The search radius for frames `gapMs` apart. */
export function searchFor(gapMs: number): number {
  return Math.max(SEARCH, Math.min(MAX_SEARCH, Math.ceil((SEARCH * gapMs) / (1000 / 30))));
}
/** The part of the face box matched: its centre, away from the background at its edges. */
const REGION_FRACTION = 0.7;
/** Regions smaller than this (half-res px a side) carry too little texture to match. */
const MIN_REGION = 8;

/** Half-res px around a face that `faceShift` reads: its region, the search, and the next frame's move. */
export function lumaNeeded(box: Rect, predicted: { dx: number; dy: number }, search = MAX_SEARCH): Rect {
  const m = 2 * search + 2 + Math.ceil(Math.max(Math.abs(predicted.dx), Math.abs(predicted.dy)) / 2);
  const x = Math.floor(box.x / 2) - m;
  const y = Math.floor(box.y / 2) - m;
  return { x, y, width: Math.ceil(box.width / 2) + 2 * m, height: Math.ceil(box.height / 2) + 2 * m };
}

/** The frame's luma at half resolution (2×2 means), within `region` (half-res px; all by default). */
export function halfLuma(frame: VideoFrame, region?: Rect, reuse?: Luma): Luma {
  const { width, height, data } = frame;
  const w = width >> 1;
  const h = height >> 1;
  const x0 = Math.max(0, region ? region.x : 0);
  const y0 = Math.max(0, region ? region.y : 0);
  const x1 = Math.min(w, region ? region.x + region.width : w);
  const y1 = Math.min(h, region ? region.y + region.height : h);
  const valid = { x: x0, y: y0, width: Math.max(0, x1 - x0), height: Math.max(0, y1 - y0) };
  const out = reuse && reuse.width === w && reuse.height === h ? Object.assign(reuse, { valid }) : { width: w, height: h, data: new Uint8Array(w * h), valid };
  const o = out.data;
  for (let y = y0; y < y1; y++) {
    const r0 = 2 * y * width;
    const r1 = r0 + width;
    for (let x = x0; x < x1; x++) {
      const c = 2 * x;
      o[y * w + x] = (data[r0 + c]! + data[r0 + c + 1]! + data[r1 + c]! + data[r1 + c + 1]! + 2) >> 2;
    }
  }
  return out;
}

/** What faceShift found. */
export interface Shift {
  /** The face's move, frame px. */
  dx: number;
  dy: number;
  /** A minimum lower than its neighbours both ways: the region has texture to match by. */
  sharp: boolean;
  /**
   * How well it matched: the best offset's differences over the region's own texture (its mean
   * absolute deviation; 0 = exactly, 1 = no better than a flat guess, and 1 for a flat region).
   * A face still in the window matches at ≲ 0.3; one that moved out of it, or changed (turned
   * away), ≳ 0.5.
   */
  quality: number;
  /** The best offset lies on the search window's border (the face may have moved further). */
  atBorder: boolean;
  /** The best offset's mean absolute difference per sample (luma levels), to compare two searches. */
  sad: number;
  /**
   * How much worse a half-res px up or down matches (the minimum's curvature, over the region's
   * texture): a region whose texture runs up and down (an outline's side) matches as well a px
   * higher or lower, and its vertical move means nothing.
   */
  curveY: number;
}

/** What a half-res px of change from the predicted move costs in the search, in luma levels a sample. */
const MOVE_COST = 0.25;
/** A region whose luma varies less than this (mean absolute deviation, levels) has no texture to match by: a flat wall, black. */
export const MIN_TEXTURE = 3;

/**
 * The face's move (frame pixels) from `prev` to `cur`, given its box in `prev` (frame pixels)
 * and its previous move as the centre of a ±search (half-res px) window; null where the face
 * region is too small, outside what was computed of `prev`, or where no displaced copy of it
 * lies in what was computed of `cur`. Near the frame's edges the window is cut to what lies
 * inside (a face leaving the frame is followed until its region reaches the edge).
 */
export function faceShift(prev: Luma, cur: Luma, box: Rect, predicted: { dx: number; dy: number }, search = SEARCH, moveCost = MOVE_COST): Shift | null {
  const side = Math.floor((Math.min(box.width, box.height) / 2) * REGION_FRACTION);
  if (side < MIN_REGION) return null;
  const px = Math.round(predicted.dx / 2);
  const py = Math.round(predicted.dy / 2);
  const rx = Math.round((box.x + box.width / 2) / 2 - side / 2);
  const ry = Math.round((box.y + box.height / 2) / 2 - side / 2);
  // The region must lie in what was computed of `prev`; its displaced copies are cut to what was computed of `cur`.
  if (!inside(prev.valid, rx, ry, side, side)) return null;
  const lim = search + 2;
  const iLo = Math.max(-lim, cur.valid.x - (rx + px));
  const iHi = Math.min(lim, cur.valid.x + cur.valid.width - side - (rx + px));
  const jLo = Math.max(-lim, cur.valid.y - (ry + py));
  const jHi = Math.min(lim, cur.valid.y + cur.valid.height - side - (ry + py));
  // Every offset of the window (less the refinement's ±2) must be possible, or the window is cut to where it is.
  const sLoI = Math.max(-search, iLo);
  const sHiI = Math.min(search, iHi);
  const sLoJ = Math.max(-search, jLo);
  const sHiJ = Math.min(search, jHi);
  if (sLoI > sHiI || sLoJ > sHiJ) return null;

  const w = prev.width;
  const a = prev.data;
  const b = cur.data;
  // The region's own texture: nothing to match by on a flat one (any offset fits it).
  let total = 0;
  let count = 0;
  for (let y = 0; y < side; y += 2) for (let x = 0; x < side; x += 2) (total += a[(ry + y) * w + rx + x]!), count++;
  const level = total / count;
  let deviation = 0;
  for (let y = 0; y < side; y += 2) for (let x = 0; x < side; x += 2) deviation += Math.abs(a[(ry + y) * w + rx + x]! - level);
  const flat = deviation / count < MIN_TEXTURE;
  const span = 2 * lim + 1; // offsets −lim … lim from the prediction
  const sad = new Float64Array(span * span).fill(-1);
  const at = (i: number, j: number): number => {
    if (i < iLo || i > iHi || j < jLo || j > jHi) return Infinity;
    const k = (j + lim) * span + i + lim;
    if (sad[k]! >= 0) return sad[k]!;
    let s = 0;
    for (let y = 0; y < side; y += 2) {
      const ra = (ry + y) * w + rx;
      const rb = (ry + y + py + j) * w + rx + px + i;
      for (let x = 0; x < side; x += 2) {
        const d = a[ra + x]! - b[rb + x]!;
        s += d < 0 ? -d : d;
      }
    }
    return (sad[k] = s);
  };
  // Coarse to fine: every other offset first, then the best one's neighbours, until none is better.
  // Each half-res px away from the prediction costs MOVE_COST levels a sample: of two near-equal
  // matches (a face with little texture one way, turned to a sliver) the smaller change of motion wins.
  const samples = Math.ceil(side / 2) ** 2;
  const cost = (i: number, j: number) => at(i, j) + moveCost * samples * (Math.abs(i) + Math.abs(j));
  let bi = Math.max(sLoI, Math.min(sHiI, 0));
  let bj = Math.max(sLoJ, Math.min(sHiJ, 0));
  for (let j = sLoJ; j <= sHiJ; j += 2) for (let i = sLoI; i <= sHiI; i += 2) {
    if (cost(i, j) < cost(bi, bj)) (bi = i), (bj = j);
  }
  for (let moved = true; moved; ) {
    moved = false;
    const [ci, cj] = [bi, bj];
    for (let j = cj - 1; j <= cj + 1; j++) for (let i = ci - 1; i <= ci + 1; i++) {
      if (Math.abs(i) > search + 1 || Math.abs(j) > search + 1) continue;
      if (cost(i, j) < cost(bi, bj)) (bi = i), (bj = j), (moved = true);
    }
  }
  const best = at(bi, bj);
  const refine = (l: number, r: number) => (Number.isFinite(l) && Number.isFinite(r) ? parabola(l, best, r) : 0);
  const fx = bi + refine(at(bi - 1, bj), at(bi + 1, bj));
  const fy = bj + refine(at(bi, bj - 1), at(bi, bj + 1));
  const up = at(bi, bj - 1);
  const down = at(bi, bj + 1);
  const sharp = at(bi - 1, bj) + at(bi + 1, bj) > 2 * best && up + down > 2 * best;
  // The border of the whole window, not of a window cut by the frame's edge (the face cannot be beyond it).
  const atBorder = (bi <= -search + 1 && sLoI === -search) || (bi >= search - 1 && sHiI === search) || (bj <= -search + 1 && sLoJ === -search) || (bj >= search - 1 && sHiJ === search);
  // Against the region's own texture, so two windows' matches compare (flat: no evidence, the worst).
  const quality = flat ? 1 : Math.min(1, best / deviation);
  const curveY = flat || !Number.isFinite(up + down) ? 0 : (up + down - 2 * best) / deviation;
  return { dx: 2 * (px + fx), dy: 2 * (py + fy), sharp, quality, atBorder, sad: best / count, curveY };
}


/**
 * How far the face turned (degrees, clockwise on screen) from `prev` to `cur`: two patches
 * either side of the nose (centres 0.4 of the box apart, each 0.3 of it wide) matched within
 * ±search half-res px around the face's whole move; their vertical moves differ by the turn. Null where either patch
 * cannot be matched or has no texture to match by (the turn is then left to the detections).
 */
export function faceTurn(prev: Luma, cur: Luma, box: Rect, move: { dx: number; dy: number }, search: number): number | null {
  // faceShift matches the central REGION_FRACTION of the box it is given: boxes sized so the patch is 0.3 of the face.
  const side = (0.3 * box.width) / REGION_FRACTION;
  const cy = box.y + 0.45 * box.height - side / 2;
  const left = faceShift(prev, cur, { x: box.x + 0.3 * box.width - side / 2, y: cy, width: side, height: side }, move, search);
  const right = faceShift(prev, cur, { x: box.x + 0.7 * box.width - side / 2, y: cy, width: side, height: side }, move, search);
  if (!trusted(left) || !trusted(right)) return null;
  return (Math.atan2(right.dy - left.dy, 0.4 * box.width + right.dx - left.dx) * 180) / Math.PI;
}

/**
 * A cheek patch's match that measures its move: a sharp minimum, of a patch with texture (quality
 * < 1), inside the search window, and one a px up or down would not match as well (curveY). A
 * flat patch (the back of a head turned away) has a "sharp" minimum in codec noise; a match on
 * the window's border is where the search stopped, not where the patch went; and a patch on the
 * side of a head's outline matches as well a few px up or down (bench motion turn in Chromium,
 * traced: both patches matched at 0.03 with their vertical moves 6.6 px apart, an 11° "roll").
 * bench/motion-replay.ts turn --fps 15 --vp8 1000 turned the hat 17° while the head was away.
 */
function trusted(s: Shift | null): s is Shift {
  return !!s && s.sharp && s.quality < 1 && !s.atBorder && s.curveY >= MIN_CURVE_Y;
}
/**
 * A face's cheek patches have curveY ≥ 0.47 frame to frame (p5 0.71; turn, roll and zoom clips,
 * raw and through VP8 at 0.3–1 Mbit/s), a head turned away 0.012–0.07 (p50). Against a reference
 * 10 frames back a rolling face's is lower: 0.3 cost the replayed roll clip 1–2 px of p95.
 */
const MIN_CURVE_Y = 0.15;

function inside(r: Rect, x: number, y: number, width: number, height: number): boolean {
  return x >= r.x && y >= r.y && x + width <= r.x + r.width && y + height <= r.y + r.height;
}

/** The minimum's offset in (−0.5, 0.5) of the parabola through three equally spaced samples. */
function parabola(left: number, centre: number, right: number): number {
  const d = left - 2 * centre + right;
  return d > 0 ? Math.max(-0.5, Math.min(0.5, (left - right) / (2 * d))) : 0;
}
