/**
 * Self-tests of the shared test-media helpers, on real media: the frame counter through a real
 * VP8 encode/decode (wrtc ↔ wrtc) and through Chromium's fake camera + canvas.
 */
import assert from 'node:assert/strict';
import { open } from 'node:fs/promises';
import { describe, test } from 'node:test';
import wrtc from '@roamhq/wrtc';
import { i420Size, type VideoFrame } from '../engine/media/frames.js';
import { grabVideoFrameRgba, launchChromium, measureAudioRms, serveStatic } from './helpers/chromium.js';
import { FakeCameraPeer } from './helpers/fake-camera-peer.js';
import { counterStripRect, readCounterI420, readCounterRgba, stampCounter } from './helpers/frame-counter.js';
import { exitAfterTests } from './helpers/process-exit.js';
import { FIXTURES_DIR, loadBackgroundI420, makeY4m, type BackgroundKind } from './helpers/video-fixtures.js';

exitAfterTests();

const KINDS: BackgroundKind[] = ['face', 'two-faces', 'moving-face', 'cat', 'coffee', 'none'];

function copyFrame(f: VideoFrame): VideoFrame {
  return { width: f.width, height: f.height, data: f.data.slice() };
}

/** 2:1 box downscale of an I420 frame with even dimensions (what an encoder's scaler does, roughly). */
function halve(f: VideoFrame): VideoFrame {
  const w = f.width / 2;
  const h = f.height / 2;
  const out = new Uint8Array(i420Size(w, h));
  const planes = [
    { src: 0, sw: f.width, dst: 0, dw: w, dh: h },
    { src: f.width * f.height, sw: f.width / 2, dst: w * h, dw: w / 2, dh: h / 2 },
    { src: (f.width * f.height * 5) / 4, sw: f.width / 2, dst: (w * h * 5) / 4, dw: w / 2, dh: h / 2 },
  ];
  for (const p of planes) {
    for (let y = 0; y < p.dh; y++) {
      for (let x = 0; x < p.dw; x++) {
        const s = p.src + 2 * y * p.sw + 2 * x;
        out[p.dst + y * p.dw + x] = (f.data[s]! + f.data[s + 1]! + f.data[s + p.sw]! + f.data[s + p.sw + 1]! + 2) >> 2;
      }
    }
  }
  return { width: w, height: h, data: out };
}

/** Mean absolute Y difference between two same-size frames inside a rectangle. */
function meanAbsDiffY(a: VideoFrame, b: VideoFrame, x0: number, y0: number, x1: number, y1: number): number {
  let sum = 0;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) sum += Math.abs(a.data[y * a.width + x]! - b.data[y * b.width + x]!);
  return sum / ((x1 - x0) * (y1 - y0));
}

describe('frame counter on raw frames', () => {
  test('stamp → read round trip at several sizes and values', async () => {
    const face = await loadBackgroundI420('face');
    for (const n of [0, 1, 2, 0x5555, 0xaaaa, 12345, 65535]) {
      const f = copyFrame(face);
      stampCounter(f, n);
      assert.equal(readCounterI420(f), n);
      assert.equal(readCounterI420(halve(f)), n, `counter ${n} after 2:1 downscale`);
      assert.equal(readCounterI420(halve(halve(f))), n, `counter ${n} after 4:1 downscale`);
    }
    for (const [w, h] of [[320, 240], [1280, 720], [641, 361], [160, 120]] as const) {
      const f: VideoFrame = { width: w, height: h, data: new Uint8Array(i420Size(w, h)).fill(128) };
      stampCounter(f, 40_000);
      assert.equal(readCounterI420(f), 40_000, `${w}×${h}`);
    }
    const f = copyFrame(face);
    stampCounter(f, 65536 + 7);
    assert.equal(readCounterI420(f), 7, 'counters wrap at 65536');
  });

  test('frames without a (valid) counter read as null', async () => {
    for (const kind of KINDS) assert.equal(readCounterI420(await loadBackgroundI420(kind)), null, kind);
    // Overwrites cell i (32 px wide at 640×480) of a stamped frame with luma y.
    const paintCell = (f: VideoFrame, i: number, y: number) => {
      for (let row = counterStripRect(640, 480).y; row < 480; row++) f.data.fill(y, row * 640 + i * 32, row * 640 + (i + 1) * 32);
    };
    const face = await loadBackgroundI420('face');
    const flipped = copyFrame(face);
    stampCounter(flipped, 0b1111_0000_1111_0000);
    paintCell(flipped, 2, 16); // first data bit 1 → 0: the parity no longer matches
    assert.equal(readCounterI420(flipped), null, 'one flipped bit');

    const grey = copyFrame(face);
    stampCounter(grey, 1000);
    paintCell(grey, 10, 128);
    assert.equal(readCounterI420(grey), null, 'a grey cell');
  });

  test('readCounterRgba reads wrtc i420ToRgba output', async () => {
    const f = await loadBackgroundI420('two-faces');
    stampCounter(f, 4321);
    const rgba = new Uint8Array(640 * 480 * 4);
    wrtc.nonstandard.i420ToRgba(f, { width: 640, height: 480, data: rgba });
    assert.equal(readCounterRgba(rgba, 640, 480), 4321);
    assert.equal(readCounterRgba(new Uint8Array(640 * 480 * 4), 640, 480), null, 'all black');
  });
});

test('makeY4m writes a counter-stamped, cached y4m', async () => {
  const frames = 40;
  const path = await makeY4m({ background: 'moving-face', frames });
  const frameBytes = i420Size(640, 480);
  const fh = await open(path);
  try {
    const header = 'YUV4MPEG2 W640 H480 F30:1 Ip A1:1 C420jpeg\n';
    assert.equal((await fh.stat()).size, header.length + frames * (6 + frameBytes));
    const head = Buffer.alloc(header.length);
    await fh.read(head, 0, head.length, 0);
    assert.equal(head.toString('latin1'), header);
    const firstFaces: VideoFrame[] = [];
    for (const i of [0, 1, 20, 39]) {
      const buf = Buffer.alloc(6 + frameBytes);
      await fh.read(buf, 0, buf.length, header.length + i * buf.length);
      assert.equal(buf.subarray(0, 6).toString('latin1'), 'FRAME\n');
      const frame = { width: 640, height: 480, data: buf.subarray(6) };
      assert.equal(readCounterI420(frame), i);
      firstFaces.push(frame);
    }
    assert.ok(meanAbsDiffY(firstFaces[0]!, firstFaces[2]!, 0, 0, 640, 400) > 20, 'the face moves');
  } finally {
    await fh.close();
  }
  const t = performance.now();
  assert.equal(await makeY4m({ background: 'moving-face', frames }), path);
  assert.ok(performance.now() - t < 100, 'second call is served from the cache');
});

test('FakeCameraPeer: counters survive a real VP8 round trip (wrtc loopback)', async (t) => {
  // The far side: a plain wrtc peer that sends every decoded frame / audio chunk straight back.
  const { RTCPeerConnection, nonstandard } = wrtc;
  const cam = new FakeCameraPeer({ background: 'face' });
  const echo = new RTCPeerConnection();
  const videoSource = new nonstandard.RTCVideoSource();
  const audioSource = new nonstandard.RTCAudioSource();
  const echoTracks = [audioSource.createTrack(), videoSource.createTrack()];
  const echoSinks: { stop(): void }[] = [];
  t.after(() => {
    cam.close();
    for (const s of echoSinks) s.stop();
    for (const tr of echoTracks) tr.stop();
    echo.close();
  });
  echo.ontrack = ({ track }) => {
    if (track.kind === 'video') {
      const sink = new nonstandard.RTCVideoSink(track);
      sink.onframe = ({ frame }: { frame: VideoFrame }) => videoSource.onFrame(frame);
      echoSinks.push(sink);
    } else {
      const sink = new nonstandard.RTCAudioSink(track);
      sink.ondata = (data: Parameters<typeof audioSource.onData>[0]) => audioSource.onData(data);
      echoSinks.push(sink);
    }
  };
  echo.onicecandidate = ({ candidate }) => {
    if (candidate) void cam.addIceCandidate(candidate);
  };
  cam.on('iceCandidate', (c) => void echo.addIceCandidate(c));

  await echo.setRemoteDescription({ type: 'offer', sdp: await cam.createOffer() });
  for (const track of echoTracks) echo.addTrack(track); // reuses the offered transceivers: sendrecv
  await echo.setLocalDescription(await echo.createAnswer());
  await cam.processAnswer(echo.localDescription!.sdp);
  assert.match(echo.localDescription!.sdp, /m=audio[\s\S]*a=sendrecv[\s\S]*m=video[\s\S]*a=sendrecv/);

  const latencies: number[] = [];
  cam.received.onFrame((_frame, n) => {
    const sent = n === null ? undefined : cam.sentAt(n);
    if (sent !== undefined) latencies.push(performance.now() - sent);
  });
  await cam.start();
  await cam.connected();
  await cam.received.waitForCounters(60, 15_000);

  const { received } = cam;
  const last = received.frames.at(-1)!;
  assert.equal(last.width, 640);
  assert.equal(last.height, 480);
  const reference = await loadBackgroundI420('face');
  // Real pixels came back: the picture (face and all) matches the source within codec noise.
  assert.ok(meanAbsDiffY(last, reference, 80, 0, 560, 440) < 12, 'returned picture ≈ source picture');
  assert.ok(received.audioRms() > 0.1, `tone came back (rms ${received.audioRms().toFixed(3)})`);
  latencies.sort((a, b) => a - b);
  t.diagnostic(`${received.counters.size} counters in ${received.frameCount} frames; ` +
    `round trip median ${latencies[latencies.length >> 1]!.toFixed(0)} ms; audio rms ${received.audioRms().toFixed(3)}`);
});

test('Chromium: fake camera y4m → getUserMedia → canvas grab carries the counters; fake mic is not silent', async (t) => {
  const y4m = await makeY4m({ background: 'face' });
  const server = await serveStatic({
    '/index.html': `<!doctype html><video autoplay muted playsinline></video><script>
      navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: true })
        .then((s) => { document.querySelector('video').srcObject = s; }, (e) => { throw e; });
    </script>`,
  });
  const chromium = await launchChromium({ fakeVideo: y4m });
  t.after(async () => {
    await chromium.close();
    await server.close();
  });
  const page = await chromium.page(`${server.url}/`);

  const seen = new Set<number>();
  let grabs = 0;
  let unreadable = 0;
  for (const deadline = Date.now() + 15_000; seen.size < 20 && Date.now() < deadline; grabs++) {
    const grab = await grabVideoFrameRgba(page, 'video');
    assert.deepEqual([grab.width, grab.height], [640, 480]);
    const n = readCounterRgba(Buffer.from(grab.rgba, 'base64'), grab.width, grab.height);
    if (n === null) unreadable++;
    else seen.add(n);
  }
  assert.ok(seen.size >= 20, `only ${seen.size} distinct counters in ${grabs} grabs`);
  assert.equal(unreadable, 0, 'every grabbed camera frame carries a readable counter');

  const rms = await measureAudioRms(page, 'video', 1200);
  assert.ok(rms > 0.01, `fake microphone rms ${rms}`);
  t.diagnostic(`${seen.size} counters in ${grabs} grabs; fake mic peak rms ${rms.toFixed(3)}`);
});

test('serveStatic serves a directory and nothing outside it', async (t) => {
  const server = await serveStatic(FIXTURES_DIR);
  t.after(() => server.close());
  const ok = await fetch(`${server.url}/astronaut.png`);
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('content-type'), 'image/png');
  assert.equal((await ok.arrayBuffer()).byteLength, 791555);
  assert.equal((await fetch(`${server.url}/..%2fhelpers.test.ts`)).status, 404);
  assert.equal((await fetch(`${server.url}/missing.html`)).status, 404);
});
