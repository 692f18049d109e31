/**
 * The engine's FaceOverlayFilter, end to end with real WebRTC and real pixels: a wrtc peer
 * sends frames whose faces are known from how the video was made; the hat found in the
 * returned frames (pixels that differ from what was sent) must sit where KMS's formula puts
 * it, show its quadrants in order, let the face show through its hole, be clipped at the
 * frame edge, appear once per face and never without one. Plus the KMS-compatible failure
 * path: an unreachable hat URL answers success and raises the filter's Error event.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { PNG } from 'pngjs';
import { ANCHOR_TAG, EACH_FACE_TAG, TILT_TAG } from '../common/filter-tags.js';
import { findKeyBlobs, keyHatPng } from '../bench/motion.js';
import { EYE_PIECES } from '../common/settings.js';
import { eyesAt, poseAt, renderClip } from '../bench/motion-clips.js';
import { after, before, describe, test } from 'node:test';
import kurento from 'kurento-client';
import { startEngine, type EngineProcess } from '../engine/start.js';
import { REMOTE_FAILURE } from '../engine/vision/image-loader.js';
import type { VideoFrame } from '../engine/media/frames.js';
import { kurentoClient, connectFakeCamera } from './helpers/kurento.js';
import { FakeCameraPeer, type FakeCameraOptions } from './helpers/fake-camera-peer.js';
import { serveStatic, launchChromium } from './helpers/chromium.js';
import { loadBackgroundI420, makeY4m } from './helpers/video-fixtures.js';
import { CLIP_FRAMES, faceBoxAt, faceClipFrames, faceClipPainter } from './helpers/face-clip.js';
import {
  HAT_HOLE,
  changedMask,
  clipRect,
  colourOf,
  columnGroups,
  expectedHatRect,
  maskBounds,
  rgbAt,
  testHatPng,
} from './helpers/hat-pixels.js';
import { TARGETS } from '../bench/targets.js';
import { engineCounts } from './helpers/engine-counts.js';
import { loopbackPage } from './helpers/loopback-page.js';
import { exitAfterTests } from './helpers/process-exit.js';
import { waitFor } from './helpers/wait.js';

exitAfterTests();

const TUTORIAL = [-0.35, -1.2, 1.6, 1.6] as const;
let engine: EngineProcess;
let client: kurento.KurentoClient;
let hats: { url: string; close(): Promise<void> };

before(async () => {
  engine = await startEngine({ log: process.env.ENGINE_LOG ? 'inherit' : () => undefined });
  client = await kurentoClient(engine.uri);
  hats = await serveStatic({
    '/hat.png': testHatPng(),
    '/key-hat.png': keyHatPng(),
    '/top-hat.png': await readFile(new URL('../assets/hats/top-hat.png', import.meta.url)),
    '/glasses.png': await readFile(new URL('../assets/hats/glasses.png', import.meta.url)),
    '/mask.png': await readFile(new URL('../assets/hats/mask.png', import.meta.url)),
  });
});
after(async () => {
  client?.close();
  await hats?.close();
  await engine?.close();
});

/**
 * endpoint → FaceOverlayFilter → endpoint with a wrtc camera; `hat` false leaves the filter
 * without image, a string is the hat's path on the test server; `tilt` tags the filter as the
 * Magic Mirror app does.
 */
async function mirror(
  camera: FakeCameraOptions,
  hat: boolean | string = true,
  tilt = false,
  place: { offsets: readonly [number, number, number, number]; eyes: boolean } = { offsets: TUTORIAL, eyes: false },
) {
  const peer = new FakeCameraPeer({ width: 640, height: 480, fps: 30, keepFrames: 10, ...camera });
  const pipeline = await client.create('MediaPipeline');
  const endpoint = await pipeline.create('WebRtcEndpoint');
  const filter = await pipeline.create('FaceOverlayFilter');
  if (hat) await filter.setOverlayedImage(`${hats.url}${typeof hat === 'string' ? hat : '/hat.png'}`, ...place.offsets);
  if (tilt) await filter.addTag(TILT_TAG, 'on');
  if (place.eyes) await filter.addTag(ANCHOR_TAG, 'eyes');
  await endpoint.connect(filter);
  await filter.connect(endpoint);
  await connectFakeCamera(endpoint, peer);
  return {
    peer,
    filter,
    async close() {
      await pipeline.release();
      peer.close();
      assert.equal((await engineCounts(engine.uri)).pipelines, 0);
    },
  };
}

/** The next received frame whose counter satisfies `want`. */
function nextFrame(peer: FakeCameraPeer, want: (counter: number) => boolean, timeoutMs = 20_000): Promise<{ frame: VideoFrame; counter: number }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (off(), reject(new Error(`no wanted frame in ${timeoutMs} ms (${peer.received.counters.size} counters seen)`))), timeoutMs);
    const off = peer.received.onFrame((frame, counter) => {
      if (counter === null || !want(counter)) return;
      clearTimeout(timer);
      off();
      resolve({ frame, counter });
    });
  });
}

/** Scales a rect found in a received frame to the sent frame's 640×480 coordinates. */
function toSent(r: { x: number; y: number; width: number; height: number }, f: VideoFrame) {
  const sx = 640 / f.width;
  const sy = 480 / f.height;
  return { x: r.x * sx, y: r.y * sy, width: r.width * sx, height: r.height * sy };
}

/** Whether the hat in a returned frame sits where KMS's formula puts it for the clip's known face; a message if not. */
function checkHat(frame: VideoFrame, counter: number, sentData: Uint8Array, log: (line: string) => void): string | undefined {
  const found = maskBounds(changedMask(frame, { width: 640, height: 480, data: sentData }).mask, frame.width, frame.height);
  if (!found) return `frame ${counter}: no hat found`;
  const got = toSent(found, frame);
  const face = faceBoxAt(counter);
  const want = clipRect(expectedHatRect(face), 640, 480);
  log(`frame ${counter}: face ${JSON.stringify(face)} → hat expected ${JSON.stringify(want)}, found ${JSON.stringify(got)}`);
  // The detector's box may differ from KMS's Haar box by ~15 % of the face: allow 20 % of the hat.
  const tol = Math.max(12, 0.2 * expectedHatRect(face).width);
  const edges = [
    ['left', got.x, want.x],
    ['top', got.y, want.y],
    ['right', got.x + got.width, want.x + want.width],
    ['bottom', got.y + got.height, want.y + want.height],
  ] as const;
  for (const [edge, a, b] of edges) {
    if (Math.abs(a - b) > tol) return `frame ${counter}: hat ${edge} edge at ${a.toFixed(0)}, expected ${b} ± ${tol.toFixed(0)}`;
  }
  if (expectedHatRect(face).y < 0 && found.y !== 0) return `frame ${counter}: the hat should be clipped at the top edge`;
  return undefined;
}

describe('FaceOverlayFilter in the engine', () => {
  test('the hat follows a face that moves and grows past half the frame, where KMS would draw it', async (t) => {
    const clip = await faceClipFrames();
    const m = await mirror({ painter: await faceClipPainter() });
    try {
      // Two known times, each at the end of a still phase (the tracker has settled there):
      // frame 42 (small face on the left) and frame 118 (face taller than half the frame).
      // Each phase is tried on up to three loops of the clip: on a loaded machine detection
      // may be starved for a while and the hat lags; where it lands once settled is the point.
      for (const phase of [42, 118]) {
        let problem: string | undefined;
        for (let loop = 1; loop <= 3; loop++) {
          const { frame, counter } = await nextFrame(m.peer, (c) => c >= loop * CLIP_FRAMES && c % CLIP_FRAMES === phase, 30_000);
          problem = checkHat(frame, counter, clip[counter % CLIP_FRAMES]!, (line) => t.diagnostic(line));
          if (!problem) break;
        }
        assert.equal(problem, undefined);
      }
    } finally {
      await m.close();
    }
  });

  test('quadrants land in order above the face and the hole shows the face', async () => {
    const sent = await loadBackgroundI420('face');
    const m = await mirror({ background: 'face' });
    try {
      // Give detection and smoothing a second to settle on the still face.
      const { frame } = await nextFrame(m.peer, (c) => c >= 45);
      const found = maskBounds(changedMask(frame, sent).mask, frame.width, frame.height);
      assert.ok(found, 'hat drawn');
      // The hat is square and its top is clipped at the frame edge here: rebuild its full
      // rect from the unclipped bottom and sides, then sample in hat coordinates.
      const hat = { x: found.x, y: found.y + found.height - found.width, width: found.width, height: found.width };
      assert.ok(hat.y < 0, 'the hat is clipped at the top edge');
      const at = (fx: number, fy: number) => {
        const x = Math.round(hat.x + fx * hat.width);
        const y = Math.round(hat.y + fy * hat.height);
        return { x, y, colour: colourOf(rgbAt(frame, x, y)) };
      };
      assert.equal(at(0.25, 0.45).colour, 'red', 'top-left quadrant');
      assert.equal(at(0.75, 0.45).colour, 'green', 'top-right quadrant');
      assert.equal(at(0.2, 0.6).colour, 'blue', 'bottom-left quadrant');
      assert.equal(at(0.8, 0.6).colour, 'yellow', 'bottom-right quadrant');
      // Hole: the received pixels are the face's (as sent), within codec noise.
      const hole = at((HAT_HOLE.x0 + HAT_HOLE.x1) / 2, (HAT_HOLE.y0 + HAT_HOLE.y1) / 2);
      const [r, g, b] = rgbAt(frame, hole.x, hole.y);
      const [r0, g0, b0] = rgbAt(sent, Math.round((hole.x * 640) / frame.width), Math.round((hole.y * 480) / frame.height));
      assert.ok(Math.abs(r - r0) + Math.abs(g - g0) + Math.abs(b - b0) < 90, `hole shows the face: got ${[r, g, b]}, sent ${[r0, g0, b0]}`);
      // The hat's bottom overlaps the face: the hole lies inside the face box.
      const face = { x: 238, y: 57, width: 101, height: 101 };
      const holeSent = toSent({ x: hole.x, y: hole.y, width: 0, height: 0 }, frame);
      assert.ok(holeSent.y > face.y - 10 && holeSent.y < face.y + face.height, `hole at y ${holeSent.y.toFixed(0)} is over the face`);
    } finally {
      await m.close();
    }
  });

  test('two faces get two hats', async () => {
    const sent = await loadBackgroundI420('two-faces');
    const m = await mirror({ background: 'two-faces' });
    try {
      const { frame } = await nextFrame(m.peer, (c) => c >= 45);
      const groups = columnGroups(changedMask(frame, sent).mask, frame.width, frame.height);
      assert.equal(groups.length, 2, `hats at columns ${JSON.stringify(groups)}`);
      assert.ok(groups[0]![1] < frame.width / 2 && groups[1]![0] > frame.width / 2, 'one hat per face, left and right');
    } finally {
      await m.close();
    }
  });

  test('tagged with more images, each face gets its own; an image that cannot be loaded raises the Error event and is skipped', async () => {
    const sent = await loadBackgroundI420('two-faces');
    const m = await mirror({ background: 'two-faces' });
    const errors: string[] = [];
    m.filter.on('Error', (e: { description: string }) => errors.push(e.description));
    try {
      await m.filter.addTag(EACH_FACE_TAG, `${hats.url}/key-hat.png http://127.0.0.1:1/nothing.png`);
      const start = m.peer.sentFrames;
      await waitFor(() => errors.length > 0, 15_000, 'the Error event for the unreachable image');
      assert.match(errors[0]!, /nothing\.png/);
      const { frame } = await nextFrame(m.peer, (c) => c >= start + 30);
      // One face the key image, the other setOverlayedImage's hat: one key blob, two hats in all.
      const keys = findKeyBlobs(frame, 300);
      assert.equal(keys.length, 1, `one face wears the key image: ${JSON.stringify(keys)}`);
      const groups = columnGroups(changedMask(frame, sent).mask, frame.width, frame.height);
      assert.equal(groups.length, 2, `two hats: ${JSON.stringify(groups)}`);
      const keySide = keys[0]!.x < frame.width / 2 ? 0 : 1;
      const other = groups[1 - keySide]!;
      assert.equal(findKeyBlobs({ ...frame }, 300).filter((b) => b.x >= other[0] && b.x <= other[1]).length, 0, 'the other face wears the first image');
      assert.equal(errors.length, 1, `one Error event: ${errors.join('; ')}`);
    } finally {
      await m.close();
    }
  });

  for (const kind of ['cat', 'coffee', 'none'] as const) {
    test(`no face (${kind}) → no hat pixels`, async () => {
      const sent = await loadBackgroundI420(kind);
      const m = await mirror({ background: kind });
      try {
        const { frame } = await nextFrame(m.peer, (c) => c >= 45);
        const { count } = changedMask(frame, sent);
        assert.ok(count < frame.width * frame.height * 0.002, `${count} changed pixels`);
      } finally {
        await m.close();
      }
    });
  }

  test('without an overlay image, frames come back unchanged (within codec noise)', async () => {
    const sent = await loadBackgroundI420('face');
    const m = await mirror({ background: 'face' }, false);
    try {
      const { frame } = await nextFrame(m.peer, (c) => c >= 30);
      const { count } = changedMask(frame, sent);
      assert.ok(count < frame.width * frame.height * 0.002, `${count} changed pixels`);
      let sum = 0;
      for (let i = 0; i < frame.width * (frame.height - 40); i++) sum += Math.abs(frame.data[i]! - sent.data[i]!);
      const meanAbs = sum / (frame.width * (frame.height - 40));
      assert.ok(meanAbs < 6, `mean luma difference ${meanAbs.toFixed(2)}`);
    } finally {
      await m.close();
    }
  });

  test('unsetOverlayedImage stops drawing', async () => {
    const sent = await loadBackgroundI420('face');
    const m = await mirror({ background: 'face' });
    try {
      const { frame } = await nextFrame(m.peer, (c) => c >= 45);
      assert.ok(maskBounds(changedMask(frame, sent).mask, frame.width, frame.height), 'hat drawn first');
      await m.filter.unsetOverlayedImage();
      const start = m.peer.sentFrames;
      const { frame: after } = await nextFrame(m.peer, (c) => c >= start + 5);
      assert.ok(changedMask(after, sent).count < 640 * 480 * 0.002, 'no hat after unset');
    } finally {
      await m.close();
    }
  });

  test('an unreachable hat URL answers success (as KMS) and raises the filter Error event', async () => {
    const pipeline = await client.create('MediaPipeline');
    try {
      const filter = await pipeline.create('FaceOverlayFilter');
      const errors: { description: string; type: string }[] = [];
      filter.on('Error', (e: { description: string; type: string }) => errors.push(e));
      await filter.setOverlayedImage('http://127.0.0.1:1/nothing.png', ...TUTORIAL);
      await waitFor(() => errors.length > 0, 10_000, 'Error event');
      assert.equal(errors[0]!.description, `Could not load overlay image http://127.0.0.1:1/nothing.png: ${REMOTE_FAILURE}`);
    } finally {
      await pipeline.release();
    }
  });

  test('tagged as the app tags it, the hat tilts with the head; untagged (a plain Kurento app) it stays upright as KMS draws it (docs/tilted-hat.png)', async () => {
    const clip = await renderClip('roll', 640, 480);
    const tilted = clip[30]!; // the picture turned +20°
    const head = poseAt('roll', 30, 640, 480).headRollDeg;
    const painter = (dst: Uint8Array) => dst.set(tilted);
    const angleOf = async (tilt: boolean) => {
      const m = await mirror({ painter }, '/key-hat.png', tilt);
      try {
        await m.peer.received.waitForCounters(30, 20_000);
        const angles: number[] = [];
        for (let i = 0; i < 10; i++) {
          const { frame } = await nextFrame(m.peer, () => true);
          const blobs = findKeyBlobs(frame, 1500);
          assert.equal(blobs.length, 1, 'one hat');
          angles.push(blobs[0]!.angleDeg);
        }
        return angles.sort((a, b) => a - b)[5]!;
      } finally {
        await m.close();
      }
    };
    const withTilt = await angleOf(true);
    assert.ok(Math.abs(withTilt - head) <= 3, `tagged: hat at ${withTilt.toFixed(1)}°, head at ${head.toFixed(1)}°`);
    const upright = await angleOf(false);
    assert.ok(Math.abs(upright) <= 1, `untagged: hat at ${upright.toFixed(1)}°`);

    // The picture for the docs: the real top hat on the tilted head.
    const m = await mirror({ painter }, '/top-hat.png', true);
    try {
      await m.peer.received.waitForCounters(45, 20_000);
      const { frame } = await nextFrame(m.peer, () => true);
      await writeFile(new URL('../docs/tilted-hat.png', import.meta.url), i420ToPng(frame));
    } finally {
      await m.close();
    }
  });

  test('tagged to anchor on the eyes, an image sits on each face\'s eyes and turns with them (docs/glasses.png, docs/mask.png)', async (t) => {
    // The key image's opaque top half is centred on a typical face's eyes (TYPICAL_EYES: 0.5,
    // 0.38 of the box): on KMS, or untagged, it sits there; tagged, on this face's own eyes.
    const onTypicalEyes = [0.35, 0.305, 0.3, 0.3] as const;
    for (const [clip, n] of [['roll', 30], ['roll', 90], ['zoom', 30]] as const) {
      const frameData = (await renderClip(clip, 640, 480))[n]!;
      const eyes = eyesAt(clip, n, 640, 480);
      const head = poseAt(clip, n, 640, 480).headRollDeg;
      const m = await mirror({ painter: (dst: Uint8Array) => dst.set(frameData) }, '/key-hat.png', false, { offsets: onTypicalEyes, eyes: true });
      try {
        // 3 s of video first: the detector's landmarks are read off decoded frames, which are
        // blurred while the sender's bitrate ramps up (slower on a busy machine), and a roll read
        // off those stays in the tracker's filter.
        await m.peer.received.waitForCounters(90, 20_000);
        const found: Array<{ x: number; y: number; angleDeg: number }> = [];
        for (let i = 0; i < 7; i++) {
          const { frame } = await nextFrame(m.peer, () => true);
          const blobs = findKeyBlobs(frame, 100);
          assert.equal(blobs.length, 1, `${clip} ${n}: one image`);
          found.push(blobs[0]!);
        }
        const median = (k: 'x' | 'y' | 'angleDeg') => found.map((b) => b[k]).sort((a, b) => a - b)[3]!;
        const miss = Math.hypot(median('x') - eyes.x, median('y') - eyes.y);
        t.diagnostic(`${clip} ${n}: image centre ${miss.toFixed(1)} px from the eyes, at ${median('angleDeg').toFixed(1)}° for a head at ${head.toFixed(1)}°`);
        // Tagged: 0.8–3.6 px off in 14 runs under 2 CPU hogs (both trackers, 2026-12-07); untagged,
        // on the typical eyes: 12.5 px off on roll 30.
        assert.ok(miss <= Math.max(4, 0.15 * eyes.span), `${clip} ${n}: image centre ${miss.toFixed(1)} px from the eyes (${eyes.x.toFixed(1)}, ${eyes.y.toFixed(1)}), ${eyes.span.toFixed(1)} px apart`);
        // Within the roll target (TARGETS.motionRollP95Deg, 5°). Measured: 0.2–2.1° off in 14 runs
        // under 2 CPU hogs; in about 1 full-suite run of 3, roll 90 reads −19.0° for −15.8° (with
        // either tracker; the detector gives −16.0…−17.5° on that frame at every size from 640 to
        // 160 px wide, so not the sender's resolution: docs/STATUS.md). Untilted it would be 0°.
        assert.ok(Math.abs(median('angleDeg') - head) <= TARGETS.motionRollP95Deg, `${clip} ${n}: image at ${median('angleDeg').toFixed(1)}°, head at ${head.toFixed(1)}°`);
      } finally {
        await m.close();
      }
    }

    // The pictures for the docs: the built-in glasses and mask, placed as the app places them.
    const tilted = (await renderClip('roll', 640, 480))[30]!;
    for (const [name, offsets] of [['glasses', EYE_PIECES.glasses!], ['mask', EYE_PIECES.mask!]] as const) {
      const m = await mirror({ painter: (dst: Uint8Array) => dst.set(tilted) }, `/${name}.png`, true, {
        offsets: [offsets.offsetXPercent, offsets.offsetYPercent, offsets.widthPercent, offsets.heightPercent],
        eyes: true,
      });
      try {
        await m.peer.received.waitForCounters(45, 20_000);
        const { frame } = await nextFrame(m.peer, () => true);
        await writeFile(new URL(`../docs/${name}.png`, import.meta.url), i420ToPng(frame));
      } finally {
        await m.close();
      }
    }
  });

  test('Chromium fake camera → engine → hat on the face in the browser (docs/mirror.png)', async () => {
    const y4m = await makeY4m({ background: 'face' });
    const chromium = await launchChromium({ fakeVideo: y4m });
    const site = await serveStatic({ '/index.html': loopbackPage(RED_PIXELS_SCRIPT) });
    const pipeline = await client.create('MediaPipeline');
    try {
      const endpoint = await pipeline.create('WebRtcEndpoint');
      const filter = await pipeline.create('FaceOverlayFilter');
      await filter.setOverlayedImage(`${hats.url}/hat.png`, ...TUTORIAL);
      await endpoint.connect(filter);
      await filter.connect(endpoint);
      const page = await chromium.page();
      await page.exposeFunction('onLocalCandidate', (c: kurento.IceCandidate) => void endpoint.addIceCandidate(kurento.getComplexType('IceCandidate')(c)));
      await page.goto(`${site.url}/`);
      endpoint.on('IceCandidateFound', (e: { candidate: kurento.IceCandidate }) => void page.evaluate((c) => (window as any).addCandidate(c), e.candidate));
      const offer: string = await page.evaluate(() => (window as any).makeOffer());
      const answer = await endpoint.processOffer(offer);
      await page.evaluate((s) => (window as any).setAnswer(s), answer);
      await endpoint.gatherCandidates();
      // Wait until the mirror shows the hat: red top-left quadrant pixels above the face.
      await page.waitForFunction(() => (window as any).redPixels() > 500, undefined, { timeout: 20_000, polling: 200 });
      await mkdir(new URL('../docs/', import.meta.url), { recursive: true });
      const png = await page.locator('#remote').screenshot();
      await writeFile(new URL('../docs/mirror.png', import.meta.url), png);
    } finally {
      await pipeline.release();
      await chromium.close();
      await site.close();
    }
  });
});

/** Counts the test hat's red pixels in the upper half of the returned video. */
const RED_PIXELS_SCRIPT = `
  window.redPixels = () => {
    const v = document.querySelector('#remote');
    if (!v.videoWidth) return 0;
    const ctx = new OffscreenCanvas(v.videoWidth, v.videoHeight).getContext('2d');
    ctx.drawImage(v, 0, 0);
    const d = ctx.getImageData(0, 0, v.videoWidth, v.videoHeight / 2).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] > 170 && d[i + 1] < 70 && d[i + 2] < 70) n++;
    return n;
  };`;


/** An I420 frame as PNG bytes (BT.601 limited range). */
function i420ToPng(f: VideoFrame): Buffer {
  const png = new PNG({ width: f.width, height: f.height });
  for (let y = 0; y < f.height; y++) for (let x = 0; x < f.width; x++) {
    const [r, g, b] = rgbAt(f, x, y);
    png.data.set([r, g, b, 255], (y * f.width + x) * 4);
  }
  return PNG.sync.write(png);
}
