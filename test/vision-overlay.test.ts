/**
 * The hat overlay on real I420 pixels: a synthetic 4-quadrant hat (red, green / blue, yellow,
 * with a transparent hole in the middle) composited onto a grey frame; and loading the PNG
 * from file://, http:// and unreachable URIs.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { i420Size, type VideoFrame } from '../engine/media/frames.js';
import { ImageLoadError, loadOverlayImage, MAX_CONCURRENT_LOADS, MAX_IMAGE_BYTES, MAX_QUEUED_LOADS, REMOTE_FAILURE } from '../engine/vision/image-loader.js';
import { composite, OverlayImage, type OverlayParams } from '../engine/vision/overlay.js';
import { findKeyBlobs, keyHatPng } from '../bench/motion.js';

const HAT = 40;
/** The hole: HOLE_FROM ≤ x, y < HOLE_TO in hat pixels. */
const HOLE_FROM = 14;
const HOLE_TO = 26;
/** BT.601 limited-range Y, U, V of the quadrant colours. */
const RED = [81, 90, 240];
const GREEN = [145, 54, 34];
const BLUE = [41, 240, 110];
const YELLOW = [210, 16, 146];
const GREY = [128, 128, 128];

function hatRgba(): Uint8Array {
  const rgba = new Uint8Array(HAT * HAT * 4);
  for (let y = 0; y < HAT; y++) {
    for (let x = 0; x < HAT; x++) {
      const right = x >= HAT / 2;
      const bottom = y >= HAT / 2;
      const rgb = bottom ? (right ? [255, 255, 0] : [0, 0, 255]) : (right ? [0, 255, 0] : [255, 0, 0]);
      const hole = x >= HOLE_FROM && x < HOLE_TO && y >= HOLE_FROM && y < HOLE_TO;
      rgba.set([...rgb, hole ? 0 : 255], (y * HAT + x) * 4);
    }
  }
  return rgba;
}

function greyFrame(width = 640, height = 480): VideoFrame {
  return { width, height, data: new Uint8Array(i420Size(width, height)).fill(128) };
}

/** [Y, U, V] at pixel (x, y). */
function yuvAt(frame: VideoFrame, fx: number, fy: number): number[] {
  const { width, height, data } = frame;
  const [x, y] = [Math.floor(fx), Math.floor(fy)];
  const cw = Math.ceil(width / 2);
  const c = (y >> 1) * cw + (x >> 1);
  return [data[y * width + x], data[width * height + c], data[width * height + cw * Math.ceil(height / 2) + c]];
}

function assertColour(frame: VideoFrame, x: number, y: number, expected: number[], what: string): void {
  const got = yuvAt(frame, x, y);
  assert.ok(got.every((v, i) => Math.abs(v - expected[i]) <= 2), `${what} at (${x}, ${y}): YUV ${got}, expected ${expected}`);
}

const assertGrey = (frame: VideoFrame, x: number, y: number, what: string) => assertColour(frame, x, y, GREY, what);

describe('composite', () => {
  const hat = new OverlayImage(HAT, HAT, hatRgba());

  it('stretches and places the image as KMS does, quadrants and hole where the formula says', () => {
    const frame = greyFrame();
    // x' = trunc(201 − 25.25) = 175, y' = trunc(151 − 54.45) = 96, w' = trunc(151.5) = 151, h' = trunc(108.9) = 108
    const params: OverlayParams = { offsetXPercent: -0.25, offsetYPercent: -0.55, widthPercent: 1.5, heightPercent: 1.1 };
    composite(frame, [{ x: 201, y: 151, width: 101, height: 99 }], hat, params);
    const [x, y, w, h] = [175, 96, 151, 108];
    assertColour(frame, x + w / 4, y + h / 4, RED, 'top-left quadrant');
    assertColour(frame, x + (3 * w) / 4, y + h / 4, GREEN, 'top-right quadrant');
    assertColour(frame, x + w / 4, y + (3 * h) / 4, BLUE, 'bottom-left quadrant');
    assertColour(frame, x + (3 * w) / 4, y + (3 * h) / 4, YELLOW, 'bottom-right quadrant');
    assertGrey(frame, x + w / 2, y + h / 2, 'the transparent hole');
    // Exact edges (pixels on even coordinates, so the chroma sample is not shared with the hat).
    assertColour(frame, x + 1, y + 1, RED, 'first column/row');
    assert.equal(yuvAt(frame, x - 1, y + 10)[0], 128, 'column left of the hat');
    assert.equal(yuvAt(frame, x + 10, y - 1)[0], 128, 'row above the hat');
    assert.notEqual(yuvAt(frame, x + w - 1, y + 10)[0], 128, 'last column');
    assert.equal(yuvAt(frame, x + w, y + 10)[0], 128, 'column right of the hat');
    assert.notEqual(yuvAt(frame, x + 10, y + h - 1)[0], 128, 'last row');
    assertGrey(frame, x + 10, y + h, 'row below the hat');
  });

  it('draws on every face', () => {
    const frame = greyFrame();
    const params: OverlayParams = { offsetXPercent: 0, offsetYPercent: 0, widthPercent: 1, heightPercent: 1 };
    composite(frame, [{ x: 10, y: 10, width: 40, height: 40 }, { x: 400, y: 300, width: 80, height: 80 }], hat, params);
    assertColour(frame, 20, 20, RED, 'first face');
    assertColour(frame, 420, 320, RED, 'second face');
  });

  it('clips at the top edge, truncating a negative position toward zero as C does', () => {
    const frame = greyFrame();
    // y' = trunc(20 − 72.9) = −52 (not −53), h' = 81: rows −52..28 of which 0..28 are visible.
    const params: OverlayParams = { offsetXPercent: 0, offsetYPercent: -0.9, widthPercent: 1, heightPercent: 1 };
    assert.doesNotThrow(() => composite(frame, [{ x: 300, y: 20, width: 81, height: 81 }], hat, params));
    assertColour(frame, 310, 0, BLUE, 'bottom-left quadrant on the top row');
    assertColour(frame, 370, 0, YELLOW, 'bottom-right quadrant on the top row');
    assert.notEqual(yuvAt(frame, 310, 28)[0], 128, 'last hat row');
    assert.equal(yuvAt(frame, 310, 29)[0], 128, 'row below the hat');
  });

  it('clips at the other edges and skips a hat entirely off the frame', () => {
    const frame = greyFrame(321, 241); // odd sizes: partial chroma blocks on the last row and column
    const params: OverlayParams = { offsetXPercent: 0.5, offsetYPercent: 0.5, widthPercent: 1, heightPercent: 1 };
    composite(frame, [
      { x: 280, y: 200, width: 80, height: 80 },
      { x: -500, y: -500, width: 80, height: 80 },
    ], hat, params);
    assertColour(frame, 320, 240, RED, 'bottom-right corner pixel');
    assertGrey(frame, 10, 10, 'far from any hat');
  });

  it('draws nothing for a zero width or height', () => {
    for (const params of [
      { offsetXPercent: 0, offsetYPercent: 0, widthPercent: 0, heightPercent: 1 },
      { offsetXPercent: 0, offsetYPercent: 0, widthPercent: 1, heightPercent: 0 },
      { offsetXPercent: 0, offsetYPercent: 0, widthPercent: 0.001, heightPercent: 1 }, // truncates to 0 px
    ]) {
      const frame = greyFrame();
      composite(frame, [{ x: 100, y: 100, width: 100, height: 100 }], hat, params);
      assert.deepEqual(frame.data, greyFrame().data, JSON.stringify(params));
    }
  });

  it('converts the image once per size', () => {
    assert.equal(hat.sprite(33, 21), hat.sprite(33, 21));
    assert.notEqual(hat.sprite(33, 21), hat.sprite(34, 21));
  });
});

describe('composite with a tilted head', () => {
  const key = PNG.sync.read(keyHatPng());
  const image = new OverlayImage(key.width, key.height, new Uint8Array(key.data));
  const params = { offsetXPercent: -0.35, offsetYPercent: -1.2, widthPercent: 1.6, heightPercent: 1.6 };
  const face = { x: 270, y: 250, width: 100, height: 100 };
  /** The key half's centre, turned about the face's centre as the hat must be. */
  const keyCentre = (deg: number) => {
    const t = (deg * Math.PI) / 180;
    const [fx, fy] = [face.x + 50, face.y + 50];
    const [ux, uy] = [face.x - 35 + 80 - fx, face.y - 120 + 40 - fy];
    return { x: fx + ux * Math.cos(t) - uy * Math.sin(t), y: fy + ux * Math.sin(t) + uy * Math.cos(t) };
  };

  it('turns the hat with the roll about the face centre; no roll draws exactly what KMS draws', () => {
    for (const deg of [-20, -7, 12, 25]) {
      const frame = greyFrame();
      composite(frame, [{ ...face, rollDeg: deg }], image, params);
      const blobs = findKeyBlobs(frame, 1000);
      assert.equal(blobs.length, 1, `one hat at ${deg}°`);
      const want = keyCentre(deg);
      assert.ok(Math.abs(blobs[0]!.angleDeg - deg) <= 1, `${deg}°: drawn at ${blobs[0]!.angleDeg.toFixed(1)}°`);
      assert.ok(Math.hypot(blobs[0]!.x - want.x, blobs[0]!.y - want.y) <= 2, `${deg}°: centre (${blobs[0]!.x.toFixed(1)}, ${blobs[0]!.y.toFixed(1)}), expected (${want.x.toFixed(1)}, ${want.y.toFixed(1)})`);
    }
    const upright = greyFrame();
    composite(upright, [face], image, params);
    const zero = greyFrame();
    composite(zero, [{ ...face, rollDeg: 0.3 }], image, params);
    assert.deepEqual(zero.data, upright.data, 'a roll under half a degree is upright');
  });
});

describe('loadOverlayImage', () => {
  const png = PNG.sync.write(Object.assign(new PNG({ width: HAT, height: HAT }), { data: Buffer.from(hatRgba()) }));
  const jpg = jpeg.encode({ width: HAT, height: HAT, data: Buffer.from(hatRgba()) }, 95).data;
  let dir: string;
  let server: http.Server;
  let base: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'vision-overlay-'));
    server = http.createServer((req, res) => {
      if (req.url === '/hat.png') res.writeHead(200, { 'content-type': 'image/png' }).end(png);
      else if (req.url === '/moved.png') res.writeHead(302, { location: '/hat.png' }).end();
      else if (req.url === '/to-file.png') res.writeHead(302, { location: 'file:///etc/passwd' }).end();
      else if (req.url === '/slow.png') res.writeHead(200).write(png.subarray(0, 10)); // never ends
      else if (req.url === '/hat.jpg') res.writeHead(200, { 'content-type': 'image/jpeg' }).end(jpg);
      else if (req.url === '/huge.png') {
        // A PNG signature, then more zeros than the limit, sent as fast as the client reads.
        res.writeHead(200).write(png.subarray(0, 8));
        const chunk = Buffer.alloc(1024 * 1024);
        let sent = 0;
        const more = () => {
          while (sent <= MAX_IMAGE_BYTES && !res.destroyed) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', more);
          }
          res.end();
        };
        res.on('error', () => undefined);
        more();
      }
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  const assertIsHat = (img: OverlayImage) => {
    assert.equal(img.width, HAT);
    assert.equal(img.height, HAT);
    assert.deepEqual(img.rgba, hatRgba());
  };

  it(`loads at most ${MAX_CONCURRENT_LOADS} images at once, queues ${MAX_QUEUED_LOADS} more and refuses the rest; one URI asked for by many is loaded once`, async () => {
    let open = 0;
    let most = 0;
    let served = 0;
    const slow = http.createServer((req, res) => {
      open++;
      served++;
      most = Math.max(most, open);
      setTimeout(() => {
        open--;
        res.writeHead(200).end(png);
      }, 30);
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
    try {
      const n = MAX_CONCURRENT_LOADS + MAX_QUEUED_LOADS + 3;
      const results = await Promise.allSettled(Array.from({ length: n }, (_, i) => loadOverlayImage(`${url}/hat-${i}.png`)));
      const refused = results.filter((r) => r.status === 'rejected');
      assert.equal(most, MAX_CONCURRENT_LOADS, 'downloads at once');
      assert.equal(refused.length, 3, 'beyond the queue');
      for (const r of refused) assert.match(String((r as PromiseRejectedResult).reason), /too many images are loading at once/);
      served = 0;
      const same = await Promise.all(Array.from({ length: 20 }, () => loadOverlayImage(`${url}/shared.png`)));
      assert.equal(served, 1, 'one download for twenty asks');
      assert.ok(same.every((img) => img === same[0]), 'one decoded image shared');
    } finally {
      slow.closeAllConnections();
      await new Promise((resolve) => slow.close(resolve));
    }
  });

  it('loads a file:// URI', async () => {
    const file = path.join(dir, 'hat.png');
    await writeFile(file, png);
    assertIsHat(await loadOverlayImage(pathToFileURL(file).href));
  });

  it('loads an http:// URI, following a redirect', async () => {
    assertIsHat(await loadOverlayImage(`${base}/hat.png`));
    assertIsHat(await loadOverlayImage(`${base}/moved.png`));
  });

  /** A remote failure tells the client only that the image could not be loaded; the log gets why. */
  const rejectsRemotely = (p: Promise<unknown>, uri: string, detail: RegExp) =>
    assert.rejects(p, (err: unknown) => {
      assert.ok(err instanceof ImageLoadError, String(err));
      assert.equal(err.message, `Could not load overlay image ${uri}: ${REMOTE_FAILURE}`);
      assert.match(err.detail, detail);
      return true;
    });

  it('rejects an unreachable URL with a clear message that says nothing of what the network answered', async () => {
    await rejectsRemotely(loadOverlayImage('http://127.0.0.1:1/x.png'), 'http://127.0.0.1:1/x.png', /ECONNREFUSED/);
  });

  it('loads a JPEG as KMS does (OpenCV gives 3 channels): its colours, drawn opaque', async () => {
    const img = await loadOverlayImage(`${base}/hat.jpg`);
    assert.equal(img.width, HAT);
    assert.equal(img.height, HAT);
    for (let i = 3; i < img.rgba.length; i += 4) assert.equal(img.rgba[i], 255, `alpha of pixel ${(i - 3) / 4}`);
    const rgbAt = (x: number, y: number) => [...img.rgba.subarray((y * HAT + x) * 4, (y * HAT + x) * 4 + 3)];
    const near = (got: number[], want: number[], what: string) =>
      assert.ok(got.every((v, i) => Math.abs(v - want[i]!) <= 24), `${what}: RGB ${got}, expected about ${want}`);
    near(rgbAt(5, 5), [255, 0, 0], 'top left');
    near(rgbAt(34, 5), [0, 255, 0], 'top right');
    near(rgbAt(5, 34), [0, 0, 255], 'bottom left');
    near(rgbAt(34, 34), [255, 255, 0], 'bottom right');

    // The PNG's transparent hole is opaque in the JPEG: the frame under it is covered.
    const frame = greyFrame();
    composite(frame, [{ x: 200, y: 200, width: 40, height: 40 }], img, { offsetXPercent: 0, offsetYPercent: 0, widthPercent: 1, heightPercent: 1 });
    const y = yuvAt(frame, 200 + HOLE_FROM + 2, 200 + HOLE_FROM + 2)[0]!;
    assert.ok(Math.abs(y - GREY[0]!) > 20, `the hole's pixels should be drawn (Y ${y}, grey is ${GREY[0]})`);
  });

  it('refuses an image declaring more than 4.2 megapixels, and a download over 32 MiB, before using the memory', async () => {
    const tiny = PNG.sync.write(new PNG({ width: 1, height: 1 }));
    tiny.writeUInt32BE(10_000, 16);
    tiny.writeUInt32BE(10_000, 20);
    const bomb = path.join(dir, 'bomb.png');
    await writeFile(bomb, tiny);
    await assert.rejects(loadOverlayImage(pathToFileURL(bomb).href), { message: /: the image is 10000×10000 pixels, more than the 4\.2 megapixels accepted$/ });
    await rejectsRemotely(loadOverlayImage(`${base}/huge.png`), `${base}/huge.png`, /^the download is larger than 32 MiB$/);
  });

  it('rejects an HTTP error, a stalled download, a redirect off http, a non-PNG and an unknown scheme', async () => {
    await rejectsRemotely(loadOverlayImage(`${base}/missing.png`), `${base}/missing.png`, /^HTTP 404 Not Found$/);
    await rejectsRemotely(loadOverlayImage(`${base}/slow.png`, 200), `${base}/slow.png`, /^timed out after 200 ms$/);
    await rejectsRemotely(loadOverlayImage(`${base}/to-file.png`), `${base}/to-file.png`, /redirected to file:/);
    const junk = path.join(dir, 'junk.png');
    await writeFile(junk, 'not a png');
    await assert.rejects(loadOverlayImage(pathToFileURL(junk).href), { message: /: not a readable PNG/ });
    await assert.rejects(loadOverlayImage('ftp://example.invalid/hat.png'), { message: /only http:\/\/, https:\/\/ and file:\/\/ URIs/ });
    await assert.rejects(loadOverlayImage(pathToFileURL(path.join(dir, 'absent.png')).href), { message: /: the file could not be read$/ });
  });
});
