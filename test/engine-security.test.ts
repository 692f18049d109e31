/**
 * The engine as an attacker meets it (issue 23, docs/security.md), each attack against a real
 * engine process: a web page's socket, a socket without the per-launch secret, fresh session
 * ids, more sockets than allowed, error texts as a port scanner, 1,000 random placements and
 * tags with media flowing, and hostile images (/dev/zero, FIFOs, PNG bombs) — each refused,
 * the engine's memory bounded, a ping from another socket answered meanwhile, and the engine
 * still serving a mirror afterwards.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { createDeflate } from 'node:zlib';
import kurento from 'kurento-client';
import { PNG } from 'pngjs';
import { WebSocket } from 'ws';
import { ANCHOR_TAG, EACH_FACE_TAG, TILT_TAG } from '../common/filter-tags.js';
import { renderClip } from '../bench/motion-clips.js';
import { serveEngine } from '../engine/server.js';
import { startEngine, type EngineProcess } from '../engine/start.js';
import { REMOTE_FAILURE } from '../engine/vision/image-loader.js';
import { connectFakeCamera, kurentoClient } from './helpers/kurento.js';
import { FakeCameraPeer } from './helpers/fake-camera-peer.js';
import { launchChromium, serveStatic } from './helpers/chromium.js';
import { connectRaw, type RawClient } from './helpers/rpc-client.js';
import { engineCounts } from './helpers/engine-counts.js';
import { testHatPng } from './helpers/hat-pixels.js';
import { exitAfterTests } from './helpers/process-exit.js';
import { waitFor } from './helpers/wait.js';

exitAfterTests();

const TUTORIAL = [-0.35, -1.2, 1.6, 1.6] as const;
let engine: EngineProcess;
let hats: { url: string; close(): Promise<void> };
let dir: string;

before(async () => {
  engine = await startEngine({ log: process.env.ENGINE_LOG ? 'inherit' : () => undefined });
  dir = await mkdtemp(path.join(os.tmpdir(), 'engine-security-'));
  hats = await serveStatic({ '/hat.png': testHatPng(), '/bomb.png': await pngBomb({ width: 1024, height: 1024, interlaced: false }) });
});
after(async () => {
  await hats?.close();
  await engine?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Opens a socket and resolves 'open', or the HTTP status the server refused it with. */
function tryOpen(uri: string, headers: Record<string, string> = {}): Promise<'open' | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(uri, { headers });
    ws.once('open', () => {
      ws.terminate();
      resolve('open');
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', () => resolve(0));
  });
}

/** The engine's path without its secret: what a program that only knows the port would try. */
const withoutSecret = (uri: string) => uri.replace(/\/kurento\/.*$/, '/kurento');

describe('who can reach the engine', () => {
  test('the uri from startEngine carries a per-launch secret; the plain path, a wrong secret and another launch\'s secret are refused', async () => {
    assert.match(engine.uri, /^ws:\/\/127\.0\.0\.1:\d+\/kurento\/[A-Za-z0-9_-]{32}$/);
    assert.equal(await tryOpen(engine.uri), 'open');
    assert.equal(await tryOpen(withoutSecret(engine.uri)), 404);
    assert.equal(await tryOpen(`${withoutSecret(engine.uri)}/${'A'.repeat(32)}`), 404);
    const other = await startEngine({ log: () => undefined });
    try {
      assert.notEqual(other.uri.split('/').pop(), engine.uri.split('/').pop(), 'each launch has its own secret');
      assert.equal(await tryOpen(other.uri.replace(/:\d+\//, `:${new URL(engine.uri).port}/`)), 404);
    } finally {
      await other.close();
    }
  });

  test('a socket that carries an Origin header (every browser page) is refused, with or without the secret', async () => {
    assert.equal(await tryOpen(engine.uri, { Origin: 'https://evil.example' }), 403);
    assert.equal(await tryOpen(engine.uri, { Origin: 'null' }), 403);
    // The standalone engine (npm run engine, no secret) keeps KMS's /kurento, and refuses pages too.
    const plain = await startEngine({ secret: false, log: () => undefined });
    try {
      assert.match(plain.uri, /\/kurento$/);
      assert.equal(await tryOpen(plain.uri), 'open');
      assert.equal(await tryOpen(plain.uri, { Origin: 'http://localhost:8443' }), 403);
    } finally {
      await plain.close();
    }
  });

  test('a real page in Chromium cannot open the engine\'s socket, even knowing its full uri', async () => {
    const page = await serveStatic({ '/index.html': { body: '<!doctype html><title>x</title>', type: 'text/html' } });
    const chromium = await launchChromium();
    try {
      const tab = await chromium.page(`${page.url}/index.html`);
      const outcome = await tab.evaluate((uri) => new Promise<string>((resolve) => {
        const ws = new WebSocket(uri);
        ws.onopen = () => resolve('open');
        ws.onerror = () => resolve('refused');
        setTimeout(() => resolve('timeout'), 5000);
      }), engine.uri);
      assert.equal(outcome, 'refused');
    } finally {
      await chromium.close();
      await page.close();
    }
  });

  test('a socket cannot start sessions without limit by naming fresh session ids', async () => {
    const c = await connectRaw(engine.uri);
    try {
      const answers: string[] = [];
      for (let i = 0; i < 20; i++) {
        const r = await c.request('create', { type: 'MediaPipeline', constructorParams: {}, properties: {}, sessionId: `fresh-${i}` });
        answers.push(r.error ? String(r.error.code) : 'ok');
      }
      assert.deepEqual(answers.slice(0, 4), ['ok', 'ok', 'ok', 'ok']);
      assert.deepEqual(new Set(answers.slice(4)), new Set(['40009']), answers.join(' '));
      assert.equal((await engineCounts(engine.uri)).pipelines, 4);
    } finally {
      await c.close();
    }
    // A new socket is not tied to the refused ones' limit; the grace period then releases all.
    const again = await connectRaw(engine.uri);
    try {
      assert.equal((await again.request('ping', { interval: 0 })).result?.value, 'pong');
    } finally {
      await again.close();
    }
  });

  test('sockets and peer connections are bounded engine-wide: past the limits a socket gets 503 and a WebRtcEndpoint 40009', async () => {
    const small = await serveEngine({ port: 0, secret: true, maxConnections: 3, maxWebRtcEndpoints: 2, log: () => undefined });
    const clients: RawClient[] = [];
    try {
      for (let i = 0; i < 3; i++) clients.push(await connectRaw(small.uri));
      assert.equal(await tryOpen(small.uri), 503);
      const pipeline = (await clients[0]!.request('create', { type: 'MediaPipeline', constructorParams: {}, properties: {} })).result!.value as string;
      const endpoint = () => clients[1]!.request('create', { type: 'WebRtcEndpoint', constructorParams: { mediaPipeline: pipeline }, properties: {} });
      assert.ok((await endpoint()).result?.value);
      assert.ok((await endpoint()).result?.value);
      const third = await endpoint();
      assert.equal(third.error?.code, 40009, JSON.stringify(third));
      assert.match(third.error!.message, /Too many WebRtcEndpoints in this media server \(limit 2\)/);
      await clients.pop()!.close();
      await waitFor(async () => (await tryOpen(small.uri)) === 'open', 5000, 'a socket again once one closed');
    } finally {
      for (const c of clients) await c.close();
      await small.close();
    }
  });

  test('error texts do not tell what listens where: a refused port, an HTTP server that is not an image server, and a 404 read alike', async () => {
    const client = await kurentoClient(engine.uri);
    const pipeline = await client.create('MediaPipeline');
    try {
      const filter = await pipeline.create('FaceOverlayFilter');
      const errors: string[] = [];
      filter.on('Error', (e: { description: string }) => errors.push(e.description));
      const engineHttp = `http://127.0.0.1:${new URL(engine.uri).port}/`; // answers 426
      const uris = ['http://127.0.0.1:1/x.png', engineHttp, `${hats.url}/missing.png`];
      for (const [i, uri] of uris.entries()) {
        await filter.setOverlayedImage(uri, ...TUTORIAL);
        await waitFor(() => errors.length > i, 10_000, `the Error event for ${uri}`);
      }
      assert.deepEqual(errors, uris.map((u) => `Could not load overlay image ${u}: ${REMOTE_FAILURE}`));
      for (const e of errors) assert.doesNotMatch(e, /ECONNREFUSED|426|404|HTTP/);
    } finally {
      await pipeline.release();
      client.close();
    }
  });
});

describe('the frame path never dies', () => {
  test('the placement that used to kill the engine (width 40000, height 0.01, tilted) is refused and the mirror goes on', async () => {
    const m = await mirror();
    try {
      await m.peer.received.waitForCounters(20, 20_000);
      await m.filter.addTag(TILT_TAG, 'on');
      // Callback form: kurento-client 7.2's promise form resolves undefined on a server error.
      const refusal = await new Promise<Error | undefined>((resolve) =>
        m.filter.setOverlayedImage(`${hats.url}/hat.png`, 0, 0, 40000, 0.01, (err) => resolve(err ?? undefined)));
      assert.match(String(refusal), /widthPercent must be a number from 0 to 10/);
      await assertStillMirroring(m.peer);
    } finally {
      await m.close();
    }
  });

  test('1,000 random placements and tags with media flowing: the engine lives, each mirror gets frames or an Error event', async (t) => {
    // A head tilted 20° (the roll clip), so tilted hats are turned: the path that died.
    const tilted = (await renderClip('roll', 320, 240))[30]!;
    const painter = (dst: Uint8Array) => dst.set(tilted);
    const mirrors = [await mirror(painter), await mirror(painter)];
    const errorEvents: string[] = [];
    for (const m of mirrors) m.filter.on('Error', (e: { description: string }) => errorEvents.push(e.description));
    const raw = await connectRaw(engine.uri);
    let seed = 23;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    // Literal JSON numbers, so 1e309 (Infinity once parsed), -0 and huge values reach the engine as sent.
    const numbers = ['0', '-0', '0.5', '1.6', '-1.2', '10', '-10', '10.0001', '40000', '0.01', '1e-300', '1e309', '-1e309', '2e9', '"1.6"', 'null', 'true', '[1]'];
    // Sizes lean to the extremes: a width of thousands of faces on a sliver of height, tilted, killed the engine.
    const widths = ['40000', '40000', '2e9', '10', '1.6', '0.01', '1e309', '"1.6"'];
    const heights = ['0.01', '0.02', '0.03', '1e-300', '0.5', '1.6', '10', 'null'];
    const tags: [string, string[]][] = [
      [TILT_TAG, ['on', 'on', 'on', 'off', '', 'x'.repeat(1000)]],
      [ANCHOR_TAG, ['eyes', 'face', 'nose', '']],
      [EACH_FACE_TAG, ['', `${hats.url}/hat.png`, `${hats.url}/hat.png http://127.0.0.1:1/a.png`, Array.from({ length: 50 }, (_, i) => `${hats.url}/hat.png?${i}`).join(' '), 'file:///dev/zero', 'not a uri']],
    ];
    let refused = 0;
    let accepted = 0;
    try {
      await Promise.all(mirrors.map((m) => m.peer.received.waitForCounters(20, 20_000)));
      for (let i = 0; i < 1000; i++) {
        const m = pick(mirrors);
        const id = 7_000_000 + i;
        const op = random();
        let params: string;
        if (op < 0.6) {
          const [x, y, w, h] = [pick(numbers), pick(numbers), pick(widths), pick(heights)];
          params = `{"uri":"${hats.url}/hat.png","offsetXPercent":${x},"offsetYPercent":${y},"widthPercent":${w},"heightPercent":${h}}`;
          raw.send(`{"jsonrpc":"2.0","id":${id},"method":"invoke","params":{"object":"${m.filter.id}","operation":"setOverlayedImage","operationParams":${params}}}`);
        } else if (op < 0.95) {
          const [key, values] = pick(tags);
          raw.send({ jsonrpc: '2.0', id, method: 'invoke', params: { object: m.filter.id, operation: 'addTag', operationParams: { key, value: pick(values) } } });
        } else {
          raw.send({ jsonrpc: '2.0', id, method: 'invoke', params: { object: m.filter.id, operation: 'unsetOverlayedImage', operationParams: {} } });
        }
        const reply = await raw.replyTo(id);
        if (reply.error) refused++;
        else accepted++;
        // Let a few frames go through each placement (the image loads, then it is drawn).
        if (op < 0.6) await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(refused > 100 && accepted > 300, `${accepted} accepted, ${refused} refused`);
      t.diagnostic(`1000 operations: ${accepted} accepted, ${refused} refused; Error events: ${errorEvents.length}`);
      assert.equal((await raw.request('ping', { interval: 0 })).result?.value, 'pong', 'the engine still answers');
      for (const m of mirrors) await assertStillMirroring(m.peer);
      // And a sane placement draws again.
      await mirrors[0]!.filter.setOverlayedImage(`${hats.url}/hat.png`, ...TUTORIAL);
      await assertStillMirroring(mirrors[0]!.peer);
    } finally {
      await raw.close();
      for (const m of mirrors) await m.close();
    }
  });
});

describe('hostile images', () => {
  test('/dev/zero, FIFOs, a host form and PNG bombs are refused within 10 s; memory stays bounded and pings are answered meanwhile', async (t) => {
    const fifos = [1, 2, 3, 4].map((i) => path.join(dir, `fifo-${i}.png`));
    for (const f of fifos) execFileSync('mkfifo', [f]);
    const interlacedBomb = path.join(dir, 'bomb-1x1.png');
    await writeFile(interlacedBomb, await pngBomb({ width: 1, height: 1, interlaced: true }));
    const wideBomb = path.join(dir, 'bomb-1024.png');
    await writeFile(wideBomb, await readFileOf(`${hats.url}/bomb.png`));
    const file = (p: string) => pathToFileURL(p).href;
    const attacks: [string, RegExp][] = [
      ['file:///dev/zero', /: not a regular file$/],
      ...fifos.map((f) => [file(f), /: not a regular file$/] as [string, RegExp]),
      ['file://fileserver/share/hat.png', /no host/],
      [file(interlacedBomb), /inflates to more than the \d+ bytes its 1×1 header implies/],
      [file(wideBomb), /inflates to more than the \d+ bytes its 1024×1024 header implies/],
      [`${hats.url}/bomb.png`, new RegExp(`: ${REMOTE_FAILURE.replace(/[().]/g, '\\$&')}$`)],
    ];

    const client = await kurentoClient(engine.uri);
    const pipeline = await client.create('MediaPipeline');
    const pinger = await connectRaw(engine.uri);
    const rss = peakRss(engine.pid);
    let slowestPing = 0;
    let pinging = true;
    const pings = (async () => {
      while (pinging) {
        const t0 = performance.now();
        await pinger.request('ping', { interval: 0 });
        slowestPing = Math.max(slowestPing, performance.now() - t0);
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    try {
      const t0 = Date.now();
      const results = await Promise.all(attacks.map(async ([uri]) => {
        const filter = await pipeline.create('FaceOverlayFilter');
        const errors: string[] = [];
        filter.on('Error', (e: { description: string }) => errors.push(e.description));
        await filter.setOverlayedImage(uri, ...TUTORIAL);
        await waitFor(() => errors.length > 0, 10_000, `the Error event for ${uri}`);
        return errors[0]!;
      }));
      const took = Date.now() - t0;
      for (const [i, [uri, want]] of attacks.entries()) assert.match(results[i]!, want, uri);
      assert.ok(took < 10_000, `all refused in ${took} ms`);
      const grew = rss.stop();
      assert.ok(grew < 150, `the engine's peak RSS grew ${grew.toFixed(0)} MB (bound 150)`);
      pinging = false;
      await pings;
      assert.ok(slowestPing < 500, `slowest ping meanwhile: ${slowestPing.toFixed(0)} ms`);
      t.diagnostic(`${attacks.length} hostile images refused in ${took} ms; engine peak RSS +${grew.toFixed(1)} MB; slowest ping ${slowestPing.toFixed(0)} ms`);
      // The thread pool is not held by the FIFOs: a real hat still loads and is drawn.
      const m = await mirror();
      try {
        await m.peer.received.waitForCounters(20, 20_000);
        await assertStillMirroring(m.peer);
      } finally {
        await m.close();
      }
    } finally {
      pinging = false;
      await pings.catch(() => undefined);
      await pinger.close();
      await pipeline.release();
      client.close();
    }
  });
});

// ---- helpers ----

async function mirror(painter?: (dst: Uint8Array, index: number) => void) {
  const client = await kurentoClient(engine.uri);
  const peer = new FakeCameraPeer({ width: 320, height: 240, fps: 30, ...(painter ? { painter } : { background: 'moving-face' }) });
  const pipeline = await client.create('MediaPipeline');
  const endpoint = await pipeline.create('WebRtcEndpoint');
  const filter = await pipeline.create('FaceOverlayFilter');
  await filter.setOverlayedImage(`${hats.url}/hat.png`, ...TUTORIAL);
  await endpoint.connect(filter);
  await filter.connect(endpoint);
  await connectFakeCamera(endpoint, peer);
  return {
    peer,
    filter: filter as kurento.FaceOverlayFilter & { id: string },
    async close() {
      await pipeline.release();
      peer.close();
      client.close();
    },
  };
}

/** Frames keep coming back: 15 more within 10 s. */
async function assertStillMirroring(peer: FakeCameraPeer): Promise<void> {
  const from = peer.received.frameCount;
  await waitFor(() => peer.received.frameCount >= from + 15, 10_000, `frames after ${from}`);
}

/**
 * How much a process's peak RSS grows from now until stop(), in MB: the kernel's own high-water
 * mark, reset first (/proc/<pid>/clear_refs 5), so no peak between two samples is missed.
 */
function peakRss(pid: number): { stop(): number } {
  const read = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
  const base = read('VmRSS');
  return { stop: () => read('VmHWM') - base };
}

async function readFileOf(url: string): Promise<Buffer> {
  const res = await fetch(url);
  return Buffer.from(await res.arrayBuffer());
}

/**
 * A PNG whose IDAT inflates to 1 GiB of zeros (about 1 MB on disk) behind a small header:
 * 1×1 interlaced (pngjs inflated those without a bound), or width×height plain.
 */
async function pngBomb(o: { width: number; height: number; interlaced: boolean }): Promise<Buffer> {
  const deflate = createDeflate({ level: 9 });
  const parts: Buffer[] = [];
  deflate.on('data', (b: Buffer) => parts.push(b));
  const zeros = Buffer.alloc(16 * 1024 * 1024);
  for (let i = 0; i < 64; i++) if (!deflate.write(zeros)) await once(deflate, 'drain');
  deflate.end();
  await once(deflate, 'end');
  const idat = Buffer.concat(parts);
  const png = PNG.sync.write(Object.assign(new PNG({ width: o.width, height: o.height }), { data: Buffer.alloc(o.width * o.height * 4) }));
  // Keep the signature and IHDR (8 + 25 bytes), set interlace, and put the bomb in as the only IDAT.
  const ihdr = Buffer.from(png.subarray(8, 33));
  ihdr[8 + 12] = o.interlaced ? 1 : 0;
  ihdr.writeInt32BE(crc32(ihdr.subarray(4, 21)), 21);
  return Buffer.concat([png.subarray(0, 8), ihdr, chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeInt32BE(crc32(Buffer.concat([head.subarray(4), data])));
  return Buffer.concat([head, data, crc]);
}

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const byte of buf) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c | 0;
}
