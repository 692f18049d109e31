/**
 * DetectionService: the one detector of the engine shared by every FaceOverlayFilter — turns
 * taken round robin, and all filters together kept within the detector's duty budget (so the
 * video keeps its share of the CPU). The real model in its real worker, real face pixels.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { VideoFrame } from '../engine/media/frames.js';
import { DetectionService, MAX_INTERVAL_MS, URGENT_MIN_MS, type DetectionClient } from '../engine/vision/detection-service.js';
import { DetectorBudget } from '../engine/vision/detector-budget.js';
import type { FaceBox } from '../engine/vision/face-detector.js';
import { waitFor } from './helpers/wait.js';
import { loadBackgroundI420 } from './helpers/video-fixtures.js';

class CountingClient implements DetectionClient {
  results: FaceBox[][] = [];
  errors: string[] = [];
  onFaces(boxes: FaceBox[]): void {
    this.results.push(boxes);
  }
  onDetectionError(message: string): void {
    this.errors.push(message);
  }
}

let face: VideoFrame | undefined;

/** A service on a fixed duty, its detector warm before the suite's tests (and closed after). */
function warmService(duty: number): DetectionService {
  const service = new DetectionService(15, { minDuty: duty, maxDuty: duty });
  before(async () => {
    face ??= await loadBackgroundI420('face');
    service.warmUp();
    await waitFor(() => service.state === 'ready', 60_000, 'detector warm');
  });
  after(() => service.close());
  return service;
}

describe('DetectionService', () => {
  const DUTY = 0.2;
  const service = warmService(DUTY);

  it('shares detections round robin and keeps the detector busy no more than its duty', async () => {
    const clients = [new CountingClient(), new CountingClient(), new CountingClient()];
    const before = { ...service.stats };
    const t0 = performance.now();
    // Three filters offering their newest frame at 30 fps for 3 s, as three sessions would.
    const camera = setInterval(() => { for (const c of clients) service.offer(c, face!); }, 33);
    await new Promise((r) => setTimeout(r, 3000));
    clearInterval(camera);
    const elapsedMs = performance.now() - t0;
    for (const c of clients) service.forget(c);

    const counts = clients.map((c) => c.results.length);
    const detections = service.stats.detections - before.detections;
    const busy = (service.stats.totalMs - before.totalMs) / elapsedMs;
    assert.deepEqual(clients.flatMap((c) => c.errors), []);
    assert.ok(Math.min(...counts) >= 1, `every filter got detections: ${counts}`);
    assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `round robin: ${counts}`);
    assert.ok(clients.every((c) => c.results.every((boxes) => boxes.length === 1)), 'one face found in each detection');
    // Unbudgeted, three filters at 15/s each would keep the detector busy all the time. Each
    // filter's first detection is exempt from the budget (its hat at once): three detections' time on top.
    const meanMs = (service.stats.totalMs - before.totalMs) / detections;
    const allowed = DUTY + (clients.length * meanMs) / elapsedMs;
    assert.ok(busy <= allowed + 0.05, `detector busy ${(busy * 100).toFixed(0)} % of the time (${detections} detections of ${meanMs.toFixed(0)} ms), budget ${DUTY * 100} % + the first detections = ${(allowed * 100).toFixed(0)} %`);
  });
});

describe('DetectionService on a starved budget', () => {
  // 1 % duty: after a ~40 ms detection the detector would rest ~4 s.
  const service = warmService(0.01);

  it(`still looks at every filter within ${MAX_INTERVAL_MS} ms (a face that arrives or leaves is seen)`, async () => {
    const clients = [new CountingClient(), new CountingClient()];
    const camera = setInterval(() => { for (const c of clients) service.offer(c, face!); }, 33);
    const windowMs = 2.5 * MAX_INTERVAL_MS;
    await new Promise((r) => setTimeout(r, windowMs));
    clearInterval(camera);
    for (const c of clients) service.forget(c);
    const counts = clients.map((c) => c.results.length);
    // First detections at once, then one per MAX_INTERVAL_MS each: 3 in 2.5 intervals.
    assert.ok(Math.min(...counts) >= 3, `detections per filter in ${windowMs} ms: ${counts}`);
    assert.ok(Math.max(...counts) <= 4, `the budget still holds the rest back: ${counts}`);
  });

  it(`runs the detections a tracker asks for outside the budget, at most one every ${URGENT_MIN_MS} ms`, async () => {
    // Two filters on the starved budget: one whose tracker lost its face (every frame asks), one whose tracker is fine.
    const lost = new CountingClient();
    const fine = new CountingClient();
    const camera = setInterval(() => {
      service.offer(lost, face!, 0, false, true);
      service.offer(fine, face!, 0, false, false);
    }, 33);
    const windowMs = 1500;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, windowMs));
    clearInterval(camera);
    const elapsed = performance.now() - t0;
    service.forget(lost);
    service.forget(fine);
    // The lost face's filter: its first, then one per URGENT_MIN_MS (or per detection, if slower); the other: its first only.
    assert.ok(lost.results.length >= 4, `asked-for detections in ${elapsed.toFixed(0)} ms: ${lost.results.length}`);
    assert.ok(lost.results.length <= Math.ceil(elapsed / URGENT_MIN_MS) + 1, `no more than one per ${URGENT_MIN_MS} ms: ${lost.results.length}`);
    assert.equal(fine.results.length, 1, 'the filter that did not ask still waits on the budget');
  });
});

describe('DetectorBudget', () => {
  it('gives the detector less of the time when the machine is short of CPU or serves more sessions, never below its floor', () => {
    const budget = new DetectorBudget({ minDuty: 0.25, maxDuty: 1 });
    assert.equal(budget.dutyFor(1), 1);
    assert.equal(budget.dutyFor(2), 0.5);
    assert.equal(budget.dutyFor(8), 0.25, 'floor');
    budget.adjust(0.02); // 2 % idle
    assert.ok(budget.dutyFor(1) < 1 && budget.dutyFor(1) > 0.25, `one step down: ${budget.dutyFor(1)}`);
    for (let i = 0; i < 20; i++) budget.adjust(0);
    assert.equal(budget.dutyFor(1), 0.25, 'saturated machine: the floor');
    budget.adjust(0.2); // inside the headroom band: no change
    assert.equal(budget.dutyFor(1), 0.25);
    for (let i = 0; i < 20; i++) budget.adjust(0.6);
    assert.equal(budget.dutyFor(1), 1, 'idle machine: full duty again');
    // Rest after a 40 ms detection: none at full duty, three times as long at a quarter.
    assert.equal(budget.restMs(40, 1), 0);
    assert.equal(budget.restMs(40, 4), 120);
  });
});
