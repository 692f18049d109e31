/**
 * A face that left the frame, found again while it comes back in over the edge it left by,
 * before a detector can see it (issue 25, bench clip `exit`). The detector finds a face once
 * ~93 % of it is in, and on a loaded machine its answer comes ~300 ms later: a face coming back
 * at 3 face widths a second was in the frame without a hat for 6–31 % of the time it was there.
 *
 * The tracker keeps each face's look (`FaceView`: the half-res luma of its box, from a frame
 * where all of it was inside); once the face has left, the strip along that edge is matched
 * against the part of the look that would be in at each depth and position along the edge
 * (`findEntry`): the left columns of the look at the right edge, and so on. Sums of absolute
 * differences on every other sample, as face-motion.ts matches, coarse to fine.
 */
import { MIN_TEXTURE, type Luma, type Rect } from './face-motion.js';

export type Edge = 'left' | 'right' | 'top' | 'bottom';

/** A face's look: the half-res luma of its box on a frame where all of it was inside. */
export interface FaceView {
  data: Uint8Array;
  /** Half-res px. */
  width: number;
  height: number;
  /** The box's size (frame px). */
  boxWidth: number;
  boxHeight: number;
}

/** The half-res luma under `box` (frame px), into `reuse`'s buffer where it fits; undefined where not all of it was computed. */
export function cropView(luma: Luma, box: Rect, reuse?: FaceView): FaceView | undefined {
  const x0 = Math.round(box.x / 2);
  const y0 = Math.round(box.y / 2);
  const w = Math.round(box.width / 2);
  const h = Math.round(box.height / 2);
  const v = luma.valid;
  if (w < 2 || h < 2 || x0 < v.x || y0 < v.y || x0 + w > v.x + v.width || y0 + h > v.y + v.height) return undefined;
  const data = reuse && reuse.data.length === w * h ? reuse.data : new Uint8Array(w * h);
  for (let y = 0; y < h; y++) data.set(luma.data.subarray((y0 + y) * luma.width + x0, (y0 + y) * luma.width + x0 + w), y * w);
  return { data, width: w, height: h, boxWidth: box.width, boxHeight: box.height };
}

/** The edge a box (frame px) went out by: the one its centre is beyond, else the one it reaches furthest over. */
export function edgeOf(box: Rect, frameWidth: number, frameHeight: number): Edge {
  const over: Array<[Edge, number]> = [
    ['left', -box.x],
    ['right', box.x + box.width - frameWidth],
    ['top', -box.y],
    ['bottom', box.y + box.height - frameHeight],
  ];
  return over.reduce((a, b) => (b[1] > a[1] ? b : a))[0];
}

/** The left and right edges run up and down: a box crosses them by its width and lies along them by its top. */
const isVertical = (edge: Edge) => edge === 'left' || edge === 'right';

/** Where a box (frame px) lies along an edge: its top for the left and right edges, its left for the others (half-res px). */
export function alongEdge(box: Rect, edge: Edge): number {
  return Math.round((isVertical(edge) ? box.y : box.x) / 2);
}

/** A look's size (half-res px) across an edge and along it. */
export function lookSpan(view: FaceView, edge: Edge): { across: number; length: number } {
  return isVertical(edge) ? { across: view.width, length: view.height } : { across: view.height, length: view.width };
}

export interface Entry {
  /** The face's box (frame px), partly outside the frame. */
  box: Rect;
  /** How much of the look is in (half-res px across the edge) and where along it. */
  depth: number;
  along: number;
  /** The best match's differences over the matched part's own texture (0 = exactly, as face-motion.ts Shift.quality). */
  quality: number;
}

/** Less than this share of the look in is too little to match by. */
const MIN_DEPTH = 0.3;

/**
 * Where the part of `view` that would be in lies in `cur`, as it comes back over `edge`: the
 * best depth (from MIN_DEPTH of the look to all of it) and position along the edge (within
 * ±range half-res px of `along`); null where nothing of it has texture to match by. `near`
 * narrows the search to a face already entering (its last depth and position, ±3 along it)
 * and lets it go on in, up to a look's width past all of it (depth − across inside the edge).
 */
export function findEntry(view: FaceView, edge: Edge, cur: Luma, along: number, range: number, near?: { depth: number; along: number }): Entry | null {
  const vertical = isVertical(edge);
  const { across, length } = lookSpan(view, edge);
  const curAcross = vertical ? cur.width : cur.height;
  const curAlong = vertical ? cur.height : cur.width;
  const v = cur.valid;
  const validAcross = vertical ? [v.x, v.x + v.width] : [v.y, v.y + v.height];
  const validAlong = vertical ? [v.y, v.y + v.height] : [v.x, v.x + v.width];
  const minDepth = Math.max(4, Math.ceil(MIN_DEPTH * across));
  // The look's cells against the frame's: (a, l) across/along the look → its index, and the frame's for depth d at position p.
  const viewAt = (a: number, l: number) => (vertical ? l * view.width + a : a * view.width + l);
  const curAt = (a: number, l: number) => (vertical ? l * cur.width + a : a * cur.width + l);
  // The frame's cell across the edge for the look's cell a at depth d.
  const farSide = edge === 'right' || edge === 'bottom';
  const curA = (a: number, d: number) => (farSide ? curAcross - d + a : a - (across - d));
  // The look's cells in at depth d: all of them once d ≥ across (it is then d − across inside the edge).
  const cols = (d: number) => Math.min(d, across);
  const viewA0 = (d: number) => (farSide ? 0 : across - cols(d));
  // A face entering may move a face width between two frames (5 fps on a loaded machine): all of it in, and on.
  const maxDepth = near ? 2 * across : across;
  const memo = new Map<number, number>();
  // Every `stride`-th sample each way: 4 for the coarse pass over every depth and position, 2 to refine.
  const score = (d: number, p: number, stride = 2): number => {
    if (d < minDepth || d > maxDepth) return Infinity;
    const key = (d * 65536 + (p + 32768)) * 8 + stride;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    // The rows along the edge that are in the frame (and were computed).
    const l0 = Math.max(0, validAlong[0]! - p);
    const l1 = Math.min(length, validAlong[1]! - p, curAlong - p);
    const a0 = viewA0(d);
    const a1 = a0 + cols(d);
    if (l1 - l0 < minDepth || curA(a0, d) < validAcross[0]! || curA(a1 - 1, d) >= validAcross[1]!) {
      memo.set(key, Infinity);
      return Infinity;
    }
    let total = 0;
    let count = 0;
    for (let l = l0; l < l1; l += stride) for (let a = a0; a < a1; a += stride) (total += view.data[viewAt(a, l)]!), count++;
    const level = total / count;
    let deviation = 0;
    let sad = 0;
    for (let l = l0; l < l1; l += stride) {
      for (let a = a0; a < a1; a += stride) {
        const t = view.data[viewAt(a, l)]!;
        deviation += Math.abs(t - level);
        sad += Math.abs(t - cur.data[curAt(curA(a, d), l + p)]!);
      }
    }
    const q = deviation / count < MIN_TEXTURE ? Infinity : sad / deviation;
    memo.set(key, q);
    return q;
  };
  const [dLo, dHi] = near ? [Math.max(minDepth, near.depth - 4), Math.min(maxDepth, near.depth + across)] : [minDepth, across];
  const [pLo, pHi] = near ? [near.along - 3, near.along + 3] : [along - range, along + range];
  let bd = -1;
  let bp = 0;
  let best = Infinity;
  const [step, stride] = near ? [1, 2] : [2, 4];
  for (let d = dLo; d <= dHi; d += step) for (let p = pLo; p <= pHi; p += step) {
    const q = score(d, p, stride);
    if (q < best) [best, bd, bp] = [q, d, p];
  }
  if (bd < 0) return null;
  best = score(bd, bp);
  for (let moved = true; moved; ) {
    moved = false;
    const [cd, cp] = [bd, bp];
    for (let d = cd - 1; d <= cd + 1; d++) for (let p = cp - 1; p <= cp + 1; p++) {
      const q = score(d, p);
      if (q < best) [best, bd, bp, moved] = [q, d, p, true];
    }
  }
  // The box (frame px): the look's edge at depth bd inside the frame.
  const acrossPx = farSide ? 2 * (curAcross - bd) : 2 * (bd - across);
  const box = vertical
    ? { x: acrossPx, y: 2 * bp, width: view.boxWidth, height: view.boxHeight }
    : { x: 2 * bp, y: acrossPx, width: view.boxWidth, height: view.boxHeight };
  return { box, depth: bd, along: bp, quality: best };
}
