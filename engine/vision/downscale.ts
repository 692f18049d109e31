/**
 * I420 → small packed RGB, the detector's input. Runs on the caller's thread, so it is kept to
 * one pass over the output pixels (~1 ms for 640×480 → 320×240).
 */
import type { VideoFrame } from '../media/frames.js';

export interface RgbImage {
  width: number;
  height: number;
  /** width*height*3 bytes, R G B, in a buffer of its own (so it can be transferred). */
  data: Uint8Array<ArrayBuffer>;
}

/**
 * Shrinks the frame by the smallest integer factor that makes it at most `maxWidth` wide:
 * luma is averaged over each factor×factor block, chroma is sampled at the block centre, then
 * BT.601 limited-range YUV → RGB (what WebRTC's I420 carries).
 */
export function downscaleI420ToRgb(frame: VideoFrame, maxWidth: number): RgbImage {
  const { width, height, data } = frame;
  const f = Math.max(1, Math.ceil(width / maxWidth));
  const ow = Math.floor(width / f);
  const oh = Math.floor(height / f);
  const cw = Math.ceil(width / 2);
  const uBase = width * height;
  const vBase = uBase + cw * Math.ceil(height / 2);
  const area = f * f;
  const out = new Uint8Array(ow * oh * 3);
  let o = 0;
  for (let oy = 0; oy < oh; oy++) {
    const y0 = oy * f;
    const crow = ((y0 + (f >> 1)) >> 1) * cw;
    for (let ox = 0; ox < ow; ox++) {
      const x0 = ox * f;
      let sum = 0;
      for (let dy = 0; dy < f; dy++) {
        const row = (y0 + dy) * width + x0;
        for (let dx = 0; dx < f; dx++) sum += data[row + dx];
      }
      const c = crow + ((x0 + (f >> 1)) >> 1);
      const y = 1.164 * (sum / area - 16);
      const u = data[uBase + c] - 128;
      const v = data[vBase + c] - 128;
      out[o++] = clamp(y + 1.596 * v);
      out[o++] = clamp(y - 0.392 * u - 0.813 * v);
      out[o++] = clamp(y + 2.017 * u);
    }
  }
  return { width: ow, height: oh, data: out };
}

/** A Uint8Array wraps out-of-range values and truncates, so clamp and round first. */
function clamp(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v + 0.5;
}
