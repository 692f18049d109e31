/**
 * The motion bench's key-colour finder, on I420 (the wrtc client, in Node) and on RGBA (the
 * Chromium client, in the page): the same turned key rectangle gives the same blob either way.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rgbToI420 } from '../bench/motion-clips.js';
import { findKeyBlobs, findKeyBlobsRgba } from '../bench/key-blobs.js';

describe('key blobs', () => {
  it('finds a turned key rectangle at the same place and angle in I420 and in RGBA', () => {
    const [w, h] = [320, 240];
    const rgb = new Float32Array(w * h * 3);
    const rgba = new Uint8ClampedArray(w * h * 4);
    const t = (20 * Math.PI) / 180;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        // a 80 × 40 rectangle centred at (150, 110), turned 20° clockwise; the rest a grey-green face-ish colour
        const dx = x + 0.5 - 150;
        const dy = y + 0.5 - 110;
        const u = dx * Math.cos(t) + dy * Math.sin(t);
        const v = -dx * Math.sin(t) + dy * Math.cos(t);
        const key = Math.abs(u) <= 40 && Math.abs(v) <= 20;
        const c = key ? [255, 0, 255] : [190, 150, 120];
        rgb.set(c, (y * w + x) * 3);
        rgba.set([...c, 255], (y * w + x) * 4);
      }
    }
    const fromI420 = findKeyBlobs({ width: w, height: h, data: rgbToI420(rgb, w, h) }, 200);
    const fromRgba = findKeyBlobsRgba(rgba, w, h, 200);
    assert.equal(fromI420.length, 1);
    assert.equal(fromRgba.length, 1);
    for (const b of [fromI420[0]!, fromRgba[0]!]) {
      assert.ok(Math.hypot(b.x - 150, b.y - 110) <= 1.5, `centre (${b.x}, ${b.y})`);
      assert.ok(Math.abs(b.angleDeg - 20) <= 1.5, `angle ${b.angleDeg}`);
      assert.ok(Math.abs(b.area - 3200) <= 320, `area ${b.area}`);
    }
  });
});
