/**
 * The motion bench end to end, short: the still clip through the embedded engine, scored from
 * the returned pixels — from a wrtc camera in Node, and as the real page in Chromium presents it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { expectedKey, measureMotion, scoreMotion, type MotionRun, type Scored } from '../bench/motion.js';
import { FAST_CLIP_NAMES, peakSpeed, posesAt } from '../bench/motion-clips.js';
import { parseStress } from '../bench/stress.js';
import { measureMotionChromium } from '../bench/motion-browser.js';
import { openServer } from '../bench/server.js';
import type { ServerUnderTest } from '../bench/server.js';
import { exitAfterTests } from './helpers/process-exit.js';

exitAfterTests();

const OPTIONS = { clips: ['still' as const], seconds: 2, warmupSeconds: 1, width: 640, height: 480 };

/** A still face wears its hat where KMS puts it, in (nearly) every frame, without jitter. */
function assertStillRun(run: MotionRun): void {
  assert.equal(run.error, undefined, run.error);
  assert.ok(run.frames >= 20, `${run.frames} frames scored`);
  assert.ok(run.fps >= 10, `${run.fps} fps`);
  assert.equal(run.missing + run.doubled, 0, `missing ${run.missing}, doubled ${run.doubled}`);
  // The detector's box differs from KMS's Haar box by a few px (docs/performance.md: 6–7 px p50 on this clip).
  assert.ok(run.hatErrorPx.p95 !== null && run.hatErrorPx.p95 <= 15, `hat error p95 ${run.hatErrorPx.p95} px`);
  // The ≤ 2 px target is the bench's (`npm run bench -- --motion`: 0–1.0 px on a quiet machine and
  // under 2 CPU hogs, 2026-12-07); here only that the hat holds still, with room for a full
  // suite on 2 cores (2.6 px in one CI run).
  assert.ok(run.jitterPx?.p95 !== null && run.jitterPx!.p95! <= 4, `jitter p95 ${run.jitterPx?.p95} px`);
}

describe('bench --motion: scoring two faces, each its own hat', () => {
  /** Frame n as drawn: the magenta hat where face `magentaOn`'s belongs, the green one on the other. */
  const frame = (n: number, magentaOn: number): Scored => {
    const keys = posesAt('crossing', n, 640, 480).map(expectedKey);
    return { counter: n, blobs: [{ ...keys[magentaOn]!, key: 'magenta' }, { ...keys[1 - magentaOn]!, key: 'green' }] };
  };

  test('hats that stay on their faces through the crossing: no swap, no error', () => {
    const r = scoreMotion('crossing', [Array.from({ length: 60 }, (_, i) => frame(100 + i, 1))], 640, 480);
    assert.equal(r.swapped, 0);
    assert.equal(r.missing + r.doubled, 0);
    assert.ok(r.hatErrorPx.p95! < 0.5, `error p95 ${r.hatErrorPx.p95}`);
  });

  test('hats that change faces after the crossing count as swapped, and as far off', () => {
    const frames = Array.from({ length: 60 }, (_, i) => frame(100 + i, i < 30 ? 0 : 1));
    const r = scoreMotion('crossing', [frames], 640, 480);
    // Frames 130–159: the faces are 126 px apart vertically, so even at the crossing (frame 120) each hat's face is plain.
    assert.equal(r.swapped, 30);
    assert.ok(r.hatErrorPx.p95! > 50, `error p95 ${r.hatErrorPx.p95}`);
    const lost = scoreMotion('crossing', [frames.map((f) => ({ ...f, blobs: f.blobs.slice(0, 1) }))], 640, 480);
    assert.equal(lost.missing, 60, 'a face without its hat is missing');
  });
});

describe('bench --motion: the fast clips scored for two hats, no hat and stray hats', () => {
  const at = (clip: Parameters<typeof posesAt>[0], n: number, fps = 30) => expectedKey(posesAt(clip, n, 640, 480, fps)[0]!);

  test('peak speeds of at least 4 and 7.5 face widths a second', () => {
    for (const clip of FAST_CLIP_NAMES.filter((c) => c.startsWith('fast-'))) {
      const v = peakSpeed(clip);
      assert.ok(clip.endsWith('4') ? v >= 4 : v >= 7.5, `${clip}: ${v.toFixed(2)} face widths/s`);
    }
  });

  test('a hat on the face, a second one left beside it, and a face without any', () => {
    const frames = Array.from({ length: 40 }, (_, i) => 10 + i);
    const on = scoreMotion('fast-h7', [frames.map((n) => ({ counter: n, blobs: [at('fast-h7', n)] }))], 640, 480);
    assert.deepEqual([on.doubled, on.noHat, on.stray, on.twoHatsPct, on.noHatPct], [0, 0, 0, 0, 0]);
    // A second hat where the face was 10 frames before (up to ~200 px behind, less near the turns): two hats, and a stray one.
    const two = scoreMotion('fast-h7', [frames.map((n) => ({ counter: n, blobs: [at('fast-h7', n), at('fast-h7', n - 10)] }))], 640, 480);
    assert.equal(two.doubled, 40);
    assert.equal(two.twoHatsPct, 100);
    assert.ok(two.stray! >= 20, `stray ${two.stray}`);
    // Only the stale hat: the face has no hat (within a face side), though a hat is in the frame.
    const beside = scoreMotion('fast-h7', [frames.map((n) => ({ counter: n, blobs: [at('fast-h7', n - 10)] }))], 640, 480);
    assert.equal(beside.missing, 0);
    assert.ok(beside.noHat! >= 20 && beside.noHatPct! >= 50, `no hat ${beside.noHat} (${beside.noHatPct} %)`);
  });

  test('asks for no hat while the face is out of the frame, and counts one drawn there as stray', () => {
    // exit: the face is out of the frame around u = 60 (right) and u = 180 (left).
    const out = Array.from({ length: 20 }, (_, i) => 50 + i);
    const none = scoreMotion('exit', [out.map((n) => ({ counter: n, blobs: [] }))], 640, 480);
    assert.equal(none.missing, 0);
    assert.equal(none.noHat, 0);
    const ghost = scoreMotion('exit', [out.map((n) => ({ counter: n, blobs: [{ x: 600, y: 150, area: 5000, angleDeg: 0 }] }))], 640, 480);
    assert.ok(ghost.stray! >= 15, `stray ${ghost.stray}`);
  });

  test('scores a 15 fps camera on the same seconds: frame n at 15 fps is frame 2n at 30', () => {
    const p15 = posesAt('fast-d7', 7, 640, 480, 15)[0]!;
    const p30 = posesAt('fast-d7', 14, 640, 480, 30)[0]!;
    assert.ok(Math.abs(p15.cx - p30.cx) < 1e-9 && Math.abs(p15.cy - p30.cy) < 1e-9);
    const r = scoreMotion('fast-d7', [[{ counter: 7, blobs: [expectedKey(p15)] }]], 640, 480, 15);
    assert.ok(r.hatErrorPx.p50! < 0.01);
  });

  test('--stress: hogs and sessions', () => {
    assert.deepEqual(parseStress('hogs:3,sessions:2'), { hogs: 3, sessions: 2 });
    assert.equal(parseStress('hogs').sessions, 0);
    assert.ok(parseStress('hogs').hogs >= 2);
    assert.throws(() => parseStress('lots'));
  });
});

describe('bench --motion', () => {
  let server: ServerUnderTest;
  before(async () => {
    server = await openServer({});
  });
  after(() => server?.close());

  test('wrtc camera: the still clip scored from the returned frames', async () => {
    const { runs } = await measureMotion(server, { ...OPTIONS, sessions: [1] });
    assert.equal(runs.length, 1);
    assert.equal(runs[0]!.client, 'wrtc');
    assertStillRun(runs[0]!);
  });

  test('wrtc camera: two faces crossing keep each their own hat', { timeout: 120_000 }, async () => {
    // 5 s = 150 frames: the faces pass each other every 120 frames, so at least once.
    const { runs } = await measureMotion(server, { ...OPTIONS, clips: ['crossing'], seconds: 5, sessions: [1] });
    const run = runs[0]!;
    assert.equal(run.error, undefined, run.error);
    assert.ok(run.frames >= 50, `${run.frames} frames scored`);
    assert.equal(run.swapped, 0, 'no face wore the other\'s hat');
    assert.ok(run.missing + run.doubled <= run.frames * 0.02, `missing ${run.missing}, doubled ${run.doubled} of ${run.frames}`);
    assert.ok(run.hatErrorPx.p95 !== null && run.hatErrorPx.p95 <= 20, `hat error p95 ${run.hatErrorPx.p95} px`);
  });

  test('Chromium: the still clip scored from the frames the mirror page presents', { timeout: 120_000 }, async () => {
    const runs = await measureMotionChromium(OPTIONS);
    assert.equal(runs.length, 1);
    assert.equal(runs[0]!.client, 'chromium');
    assertStillRun(runs[0]!);
  });
});
