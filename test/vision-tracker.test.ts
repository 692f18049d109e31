/**
 * BoxTracker: faces carried and smoothed between detections, matched frame to frame, dropped
 * only after several detections in a row miss them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BoxTracker } from '../engine/vision/box-tracker.js';

const box = (x: number, y: number, size = 100) => ({ x, y, width: size, height: size });

describe('BoxTracker', () => {
  it('shows a new face at once, then moves it part way towards each new detection', () => {
    const tracker = new BoxTracker({ smoothing: 0.5 });
    assert.deepEqual(tracker.update([box(100, 100)]), [box(100, 100)]);
    assert.deepEqual(tracker.update([box(120, 80, 120)]), [box(110, 90, 110)]);
    assert.deepEqual(tracker.update([box(120, 80, 120)]), [box(115, 85, 115)]);
    assert.deepEqual(tracker.boxes, [box(115, 85, 115)], 'between detections the boxes stand still');
  });

  it('damps detector jitter', () => {
    const tracker = new BoxTracker();
    tracker.update([box(200, 100)]);
    const xs: number[] = [];
    for (let i = 0; i < 20; i++) xs.push(tracker.update([box(i % 2 ? 206 : 194, 100)])[0].x);
    const spread = Math.max(...xs.slice(5)) - Math.min(...xs.slice(5));
    assert.ok(spread <= 6, `output swings ${spread} px where the input swings 12 px`);
  });

  it('keeps a face through a few missed detections, then drops it', () => {
    const tracker = new BoxTracker({ maxMissed: 3 });
    tracker.update([box(100, 100)]);
    for (let i = 0; i < 3; i++) assert.deepEqual(tracker.update([]), [box(100, 100)], `miss ${i + 1}`);
    assert.deepEqual(tracker.update([]), []);
  });

  it('a detection resets the miss count', () => {
    const tracker = new BoxTracker({ maxMissed: 1, smoothing: 1 });
    tracker.update([box(100, 100)]);
    tracker.update([]);
    tracker.update([box(100, 100)]);
    assert.equal(tracker.update([]).length, 1);
    assert.equal(tracker.update([]).length, 0);
  });

  it('matches each detection to its own face whatever the order', () => {
    const tracker = new BoxTracker({ smoothing: 0.5 });
    tracker.update([box(0, 100), box(400, 100)]);
    assert.deepEqual(tracker.update([box(410, 100), box(10, 100)]), [box(5, 100), box(405, 100)]);
  });

  it('treats a far jump as a new face (and lets the old one fade out)', () => {
    const tracker = new BoxTracker({ maxMissed: 1 });
    tracker.update([box(0, 100)]);
    assert.deepEqual(tracker.update([box(400, 100)]), [box(0, 100), box(400, 100)]);
    assert.deepEqual(tracker.update([box(400, 100)]), [box(400, 100)]);
  });

  it('rejects a smoothing weight outside (0, 1]', () => {
    assert.throws(() => new BoxTracker({ smoothing: 0 }), RangeError);
    assert.throws(() => new BoxTracker({ smoothing: 1.5 }), RangeError);
  });
});
