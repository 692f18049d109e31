/**
 * DetectionService: the one detector of the engine shared by every FaceOverlayFilter — turns
 * taken round robin, and all filters together kept within the detector's duty budget (so the
 * video keeps its share of the CPU). The real model in its real worker, real face pixels.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { VideoFrame } from '../engine/media/frames.js';
import { DetectionService, type DetectionClient } from '../engine/vision/detection-service.js';
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

describe('DetectionService', () => {
  const DUTY = 0.2;
  const service = new DetectionService(15, { minDuty: DUTY, maxDuty: DUTY });
  let face: VideoFrame;
  before(async () => {
    face = await loadBackgroundI420('face');
    service.warmUp();
    await waitFor(() => service.state === 'ready', 60_000, 'detector warm');
  });
  after(() => service.close());

  it('shares detections round robin and keeps the detector busy no more than its duty', async () => {
    const clients = [new CountingClient(), new CountingClient(), new CountingClient()];
    const before = { ...service.stats };
    const t0 = performance.now();
    // Three filters offering their newest frame at 30 fps for 3 s, as three sessions would.
    const camera = setInterval(() => { for (const c of clients) service.offer(c, face); }, 33);
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
    // Unbudgeted, three filters at 15/s each would keep the detector busy all the time.
    assert.ok(busy <= DUTY + 0.05, `detector busy ${(busy * 100).toFixed(0)} % of the time (${detections} detections), budget ${DUTY * 100} %`);
  });
});
