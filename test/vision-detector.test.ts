/**
 * FaceDetector on real pixels: the fixtures rendered to I420 by ffmpeg, the real model in its
 * real worker thread. The model is loaded once for the file.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { i420Size, type VideoFrame } from '../engine/media/frames.js';
import { downscaleI420ToRgb } from '../engine/vision/downscale.js';
import { FaceDetector, toHaarBox, type FaceBox } from '../engine/vision/face-detector.js';
import { FIXTURES_DIR, loadBackgroundI420 } from './helpers/video-fixtures.js';
import { boxOf, poseAt, renderClip, type ClipName } from '../bench/motion-clips.js';

/** KMS 7's Haar box for the 'face' background (astronaut 480×480 at x=80 on 640×480). */
const KMS_FACE = { x: 238, y: 57, width: 101, height: 101 };

const centre = (b: FaceBox) => ({ x: b.x + b.width / 2, y: b.y + b.height / 2 });

function assertNear(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual}, expected ${expected} ± ${tolerance}`);
}

/** One 640×480 I420 frame of astronaut.png through an ffmpeg filter. */
async function astronautFrame(filter: string): Promise<VideoFrame> {
  const { stdout } = await promisify(execFile)('ffmpeg', [
    '-v', 'error', '-i', path.join(FIXTURES_DIR, 'astronaut.png'), '-vf', filter,
    '-frames:v', '1', '-pix_fmt', 'yuv420p', '-f', 'rawvideo', 'pipe:1',
  ], { encoding: 'buffer', maxBuffer: 16 << 20 });
  assert.equal(stdout.length, i420Size(640, 480));
  return { width: 640, height: 480, data: new Uint8Array(stdout) };
}

describe('FaceDetector', () => {
  let detector: FaceDetector;
  before(async () => { detector = await FaceDetector.create(); });
  after(() => detector.close());

  it('with landmarks, gives each face the head\'s roll (the fixture turned −20° … +20°); without, none', async () => {
    const frames = await renderClip('roll', 640, 480);
    for (const n of [0, 30, 90]) { // applied roll 0, +20, −20 (4 s period)
      const truth = poseAt('roll', n, 640, 480).headRollDeg;
      const [box] = await detector.detect({ width: 640, height: 480, data: frames[n]! }, { landmarks: true });
      assert.ok(box?.rollDeg !== undefined, `frame ${n}: a face with a roll`);
      assertNear(box.rollDeg, truth, 2.5, `frame ${n} roll`);
    }
    const [plain] = await detector.detect({ width: 640, height: 480, data: frames[30]! });
    assert.equal(plain?.rollDeg, undefined);
  });

  it('with landmarks, places the box by the eyes: within 2.5 px of the face, its side within 3 px, wherever the face is (the network\'s box alone: 4.5–8 px)', async (t) => {
    for (const clip of ['fast-v4', 'roll'] as ClipName[]) {
      const frames = await renderClip(clip, 640, 480);
      let [centreOff, sideOff] = [0, 0];
      for (let n = 0; n < 120; n += 3) {
        const [b] = await detector.detect({ width: 640, height: 480, data: frames[n]! }, { landmarks: true });
        assert.ok(b?.eyes, `${clip} frame ${n}: a face with eyes`);
        const want = boxOf(poseAt(clip, n, 640, 480));
        centreOff = Math.max(centreOff, Math.hypot(b.x + b.width / 2 - want.x - want.width / 2, b.y + b.height / 2 - want.y - want.height / 2));
        sideOff = Math.max(sideOff, Math.abs(b.width - want.width));
      }
      t.diagnostic(`${clip}: centre up to ${centreOff.toFixed(2)} px off, side up to ${sideOff.toFixed(2)} px`);
      assert.ok(centreOff <= 2.5, `${clip}: centre up to ${centreOff.toFixed(2)} px off`);
      assert.ok(sideOff <= 3, `${clip}: side up to ${sideOff.toFixed(2)} px off`);
    }
  });

  it('sizes the box by the larger of the eyes\' span and the mouth\'s distance (a head turned sideways), and keeps the network\'s where the landmarks disagree with it', () => {
    // The calibration frame's network box (Haar side 101) and landmarks, then the same with the eyes closed up or everything shrunk.
    const network = { x: 224.15, y: 70.61, width: 126.91, height: 104.95, rollDeg: 0 };
    const eyes = (half: number) => ({ left: [290.31 - half, 95.4] as const, right: [290.31 + half, 95.4] as const });
    const frontal = toHaarBox({ ...network, eyesPx: eyes(20), mouthPx: [290.31, 95.4 + 39.96] });
    const turned = toHaarBox({ ...network, eyesPx: eyes(12), mouthPx: [290.31, 95.4 + 39.96] });
    const missed = toHaarBox({ ...network, eyesPx: eyes(10), mouthPx: [290.31, 95.4 + 20] });
    const plain = toHaarBox(network);
    assert.deepEqual([frontal.width, frontal.sizeUnsure], [101, undefined], 'frontal: the landmarks\' size');
    assert.deepEqual([turned.width, turned.sizeUnsure], [101, undefined], 'eyes closed up to 0.6: the mouth\'s size');
    assert.deepEqual({ ...missed, eyes: undefined }, { ...plain, eyes: undefined, sizeUnsure: true }, 'landmarks half the size: the network\'s box, unsure');
  });

  it('finds the astronaut where KMS\'s Haar cascade does', async () => {
    const boxes = await detector.detect(await loadBackgroundI420('face'));
    assert.equal(boxes.length, 1, JSON.stringify(boxes));
    for (const k of ['x', 'y', 'width', 'height'] as const) assertNear(boxes[0][k], KMS_FACE[k], 15, k);
    assert.equal(boxes[0].width, boxes[0].height, 'Haar boxes are square');
  });

  it('finds a face taller than half the frame (which KMS skips)', async () => {
    // astronaut.png at 1600×1600 (its face ≈ 336 px in Haar terms), cropped around the face.
    const boxes = await detector.detect(await astronautFrame('scale=1600:1600,crop=640:480:373:150'));
    assert.equal(boxes.length, 1, JSON.stringify(boxes));
    assert.ok(boxes[0].height > 240, `face height ${boxes[0].height} should be > half the frame`);
    const c = centre(boxes[0]);
    assertNear(c.x, 320, 20, 'centre x');
    assertNear(c.y, 206, 20, 'centre y');
  });

  it('finds both of two astronauts side by side', async () => {
    const boxes = await detector.detect(await loadBackgroundI420('two-faces'));
    assert.equal(boxes.length, 2, JSON.stringify(boxes));
    // KMS's box scaled to 320×320 astronauts at (0, 80) and (320, 80): centres (139, 152) and (459, 152).
    const centres = boxes.map(centre).sort((a, b) => a.x - b.x);
    for (const [i, expectedX] of [139, 459].entries()) {
      assertNear(centres[i].x, expectedX, 15, `face ${i} centre x`);
      assertNear(centres[i].y, 152, 15, `face ${i} centre y`);
    }
  });

  it('sees no face in the cat or the coffee', async () => {
    assert.deepEqual(await detector.detect(await loadBackgroundI420('cat')), []);
    assert.deepEqual(await detector.detect(await loadBackgroundI420('coffee')), []);
  });

  it('keeps one detection in flight: a call while busy shares it', async () => {
    const frame = await loadBackgroundI420('face');
    const first = detector.detect(frame);
    assert.equal(detector.busy, true);
    const second = detector.detect(frame);
    assert.equal(second, first);
    await first;
    assert.equal(detector.busy, false);
  });

  it('handles frame sizes other than 640×480', async () => {
    const frame = await loadBackgroundI420('face', 1280, 720);
    const boxes = await detector.detect(frame);
    assert.equal(boxes.length, 1, JSON.stringify(boxes));
    // astronaut 720×720 at x=280: KMS's box scaled by 1.5.
    const c = centre(boxes[0]);
    assertNear(c.x, 280 + (KMS_FACE.x - 80 + 50.5) * 1.5, 20, 'centre x');
    assertNear(c.y, (KMS_FACE.y + 50.5) * 1.5, 20, 'centre y');
  });
});

describe('FaceDetector.close', () => {
  it('stops the worker; later calls resolve with no faces', async () => {
    const detector = await FaceDetector.create();
    const inFlight = detector.detect(await loadBackgroundI420('face'));
    await detector.close();
    assert.deepEqual(await inFlight, []);
    assert.deepEqual(await detector.detect(await loadBackgroundI420('face')), []);
    await detector.close();
  });
});

describe('downscaleI420ToRgb', () => {
  it('halves 640×480 to 320×240 and converts BT.601 limited-range colour', () => {
    // Pure red in BT.601 limited range: Y 81, U 90, V 240.
    const frame: VideoFrame = { width: 640, height: 480, data: new Uint8Array(i420Size(640, 480)) };
    frame.data.fill(81, 0, 640 * 480);
    frame.data.fill(90, 640 * 480, 640 * 480 + 320 * 240);
    frame.data.fill(240, 640 * 480 + 320 * 240);
    const img = downscaleI420ToRgb(frame, 320);
    assert.equal(img.width, 320);
    assert.equal(img.height, 240);
    const [r, g, b] = img.data.subarray(0, 3);
    assertNear(r, 255, 2, 'R');
    assertNear(g, 0, 2, 'G');
    assertNear(b, 0, 2, 'B');
  });
});
