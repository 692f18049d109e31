/**
 * FrameBurst: the engine's "newest frames win" hand-off between wrtc's frame dispatch and the
 * media graph (engine/media/frame-burst.ts). Its effect under load is measured by npm run bench
 * ("stale frames skipped/s"; docs/performance.md).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrameBurst } from '../engine/media/frame-burst.js';

const turn = () => new Promise((resolve) => setImmediate(resolve));

test('a burst of frames in one turn: only the newest two are passed on, after the burst, in order', async () => {
  const delivered: number[] = [];
  let drops = 0;
  const burst = new FrameBurst<number>((n) => delivered.push(n), 2, () => drops++);
  for (let n = 0; n < 10; n++) burst.push(n);
  assert.deepEqual(delivered, [], 'nothing is passed on while the burst is still being dispatched');
  await turn();
  assert.deepEqual(delivered, [8, 9]);
  assert.equal(drops, 8);
});

test('frames arriving one per turn, or two together (jitter), are all passed on', async () => {
  const delivered: number[] = [];
  let drops = 0;
  const burst = new FrameBurst<number>((n) => delivered.push(n), 2, () => drops++);
  for (let n = 0; n < 5; n++) {
    burst.push(n);
    await turn();
  }
  burst.push(5);
  burst.push(6);
  await turn();
  assert.deepEqual(delivered, [0, 1, 2, 3, 4, 5, 6]);
  assert.equal(drops, 0);
});

test('keep = 1 passes on only the newest; keep < 1 is refused', async () => {
  const delivered: number[] = [];
  let drops = 0;
  const burst = new FrameBurst<number>((n) => delivered.push(n), 1, () => drops++);
  burst.push(1);
  burst.push(2);
  burst.push(3);
  await turn();
  burst.push(4);
  await turn();
  assert.deepEqual(delivered, [3, 4]);
  assert.equal(drops, 2);
  assert.throws(() => new FrameBurst<number>(() => undefined, 0, () => undefined), RangeError);
});
