/**
 * Web mode end to end: the Kurento tutorial's page protocol over a real WebSocket to
 * startWebMode, a wrtc FakeCameraPeer as the browser, the built-in engine (started on demand
 * by the registry, as `npm run serve` does). After every test the engine has no pipeline and
 * no peer connection left.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import type { ServerMessage } from '../common/mirror-protocol.js';
import { contentSecurityPolicy } from '../main/content-security-policy.js';
import { startWebMode, type WebMode } from '../main/web/web-mode.js';
import { engineCounts } from './helpers/engine-counts.js';
import { FakeCameraPeer, type FakeCameraOptions } from './helpers/fake-camera-peer.js';
import { changedMask, columnGroups, expectedHatRect } from './helpers/hat-pixels.js';
import { stillFaceBox } from './helpers/face-clip.js';
import { loadBackgroundI420 } from './helpers/video-fixtures.js';
import { makeHatDir } from './helpers/hat-fixture.js';
import { exitAfterTests } from './helpers/process-exit.js';
import { TutorialPage, isId, type TutorialPageOptions } from './helpers/tutorial-page.js';
import { waitFor } from './helpers/wait.js';

exitAfterTests();

const quiet = () => {};
let web: WebMode;
let engineUri: string;
let tmp: string;
let removeHats: () => Promise<void>;
const INDEX = '<!doctype html><title>mirror</title><script type="module" src="./app.js"></script>';

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'mirror-web-'));
  await writeFile(path.join(tmp, 'index.html'), INDEX);
  await writeFile(path.join(tmp, 'app.js'), 'console.log("mirror")');
  const hatDir = await makeHatDir();
  removeHats = hatDir.remove;
  web = await startWebMode({
    asUri: 'http://127.0.0.1:0/',
    wsUri: 'builtin',
    hats: { dir: hatDir.dir },
    rendererDir: tmp,
    configDir: tmp,
    engineLog: process.env.ENGINE_LOG ? 'inherit' : quiet,
  });
  engineUri = (await web.registry.get('builtin')).uri; // starts the built-in engine
});
after(async () => {
  await web?.close();
  await removeHats?.();
  await rm(tmp, { recursive: true, force: true });
});
afterEach(async () => {
  const counts = await engineCounts(engineUri);
  assert.equal(counts.pipelines, 0, 'pipelines left on the engine');
  assert.equal(counts.peerConnections, 0, 'peer connections left on the engine');
});

const socketUrl = (w = web) => `${w.url.replace(/^http/, 'ws')}magicmirror`;
const origin = (w = web) => new URL(w.url).origin;

/** A browser tab: its WebSocket to /magicmirror, its camera, and the tutorial's page logic. */
async function openTab(options: TutorialPageOptions = {}, w = web, camera: FakeCameraOptions = { background: 'none', width: 320, height: 240 }) {
  const ws = new WebSocket(socketUrl(w), { origin: origin(w) });
  await once(ws, 'open');
  const peer = new FakeCameraPeer(camera);
  const page = new TutorialPage(peer, (m) => ws.send(JSON.stringify(m)), options);
  ws.on('message', (data) => page.receive(JSON.parse(String(data)) as ServerMessage));
  return {
    ws,
    peer,
    page,
    close() {
      peer.close();
      ws.terminate();
    },
  };
}

const pipelines = async () => (await engineCounts(engineUri)).pipelines;

/** Web mode started with `--hat hat` on the test engine, and a 640×480 tab of `background` mirrored through it (60 frames back). */
async function mirrorWith(hat: string, background: FakeCameraOptions['background']) {
  const w = await startWebMode({ asUri: 'http://127.0.0.1:0/', wsUri: engineUri, hat, rendererDir: tmp, configDir: tmp });
  const tab = await openTab({}, w, { background, width: 640, height: 480, keepFrames: 5 });
  // The remote side first: a wrtc peer closed while media still arrives leaves native work in
  // flight (docs/STATUS.md, wrtc pitfalls); closing web mode releases the pipeline, so the engine
  // stops sending before the tab's peer closes.
  const close = async () => {
    try {
      await w.close();
    } finally {
      tab.close();
    }
  };
  try {
    await tab.page.start();
    await tab.page.waitFor(isId('startResponse'));
    await tab.peer.connected();
    await tab.peer.start();
    await tab.peer.received.waitForCounters(60, 20_000);
  } catch (err) {
    await close();
    throw err;
  }
  return { tab, close };
}

describe('web mode', () => {
  test("the tutorial's page protocol, message for message: hatted video comes back, stop releases", async () => {
    const tab = await openTab();
    try {
      await tab.page.start(); // {id: 'start', sdpOffer}, then {id: 'onIceCandidate', candidate} as they come
      const answer = await tab.page.waitFor(isId('startResponse'));
      assert.deepEqual(Object.keys(answer).sort(), ['id', 'sdpAnswer']);
      await tab.peer.connected();
      await tab.peer.start();
      await tab.peer.received.waitForCounters(30, 15_000);
      const candidate = await tab.page.waitFor(isId('iceCandidate'));
      assert.deepEqual(Object.keys(candidate.candidate).sort(), ['candidate', 'sdpMLineIndex', 'sdpMid']);
      assert.deepEqual(new Set(tab.page.received.map((m) => m.id)), new Set(['startResponse', 'iceCandidate']), 'only tutorial messages');
      assert.equal(await pipelines(), 1);

      tab.page.stop(); // {id: 'stop'}
      await waitFor(async () => (await pipelines()) === 0, 5000, 'pipeline released after stop');
      assert.equal(tab.ws.readyState, WebSocket.OPEN, 'the socket stays open after stop');
    } finally {
      tab.close();
    }
  });

  test('--hat glasses: the built-in sunglasses sit on the eyes (anchored to them), no hat above the face', async () => {
    const { tab, close } = await mirrorWith('glasses', 'face');
    try {
      const sent = await loadBackgroundI420('face', 640, 480);
      // The fixture's pupils at 640×480 (bench/motion-clips.ts SOURCE_PUPILS on the centred 480 px face).
      const pupils = [[270.6, 94.3], [311.0, 97.3]] as const;
      const hat = expectedHatRect(stillFaceBox(640, 480));
      const hatAbove = { ...hat, height: stillFaceBox(640, 480).y - hat.y }; // where a hat would be, above the box
      const frames = tab.peer.received.frames.slice(-3);
      assert.ok(frames.length > 0, 'frames came back');
      for (const frame of frames) {
        for (const [x, y] of pupils) {
          const lens = { x: x - 7, y: y - 5, width: 14, height: 10 };
          const { count } = changedMask(frame, sent, lens);
          assert.ok(count >= 0.5 * 140, `a lens over the eye at (${x}, ${y}): ${count} of 140 px changed`);
        }
        const { count } = changedMask(frame, sent, hatAbove);
        assert.ok(count <= 0.02 * hatAbove.width * hatAbove.height, `no hat above the face: ${count} px changed`);
      }
    } finally {
      await close();
    }
  });

  test('--hat each-face: two faces, two different built-in hats', async () => {
    const { tab, close } = await mirrorWith('each-face', 'two-faces');
    try {
      const sent = await loadBackgroundI420('two-faces', 640, 480);
      const frame = tab.peer.received.frames.at(-1)!;
      const { mask } = changedMask(frame, sent);
      const groups = columnGroups(mask, 640, 480);
      assert.equal(groups.length, 2, `two hats: ${JSON.stringify(groups)}`);
      // The top hat is dark, the party hat bright: the mean luma of what each face got.
      const meanLuma = ([x0, x1]: readonly [number, number]) => {
        let sum = 0;
        let n = 0;
        for (let y = 0; y < 480; y++) for (let x = x0; x <= x1; x++) if (mask[y * 640 + x]) (sum += frame.data[y * 640 + x]!), n++;
        return sum / n;
      };
      const [a, b] = groups.map(meanLuma) as [number, number];
      assert.ok(Math.abs(a - b) >= 30, `different hats: mean luma ${a.toFixed(0)} vs ${b.toFixed(0)}`);
    } finally {
      await close();
    }
  });

  test('two sockets are two independent sessions', async () => {
    const a = await openTab();
    const b = await openTab();
    try {
      await Promise.all([a.page.start(), b.page.start()]);
      await Promise.all([a.peer.connected(), b.peer.connected()]);
      await Promise.all([a.peer.start(), b.peer.start()]);
      await Promise.all([a.peer.received.waitForCounters(10, 15_000), b.peer.received.waitForCounters(10, 15_000)]);
      assert.equal(await pipelines(), 2);

      a.page.stop();
      await waitFor(async () => (await pipelines()) === 1, 5000, "a's pipeline released");
      const seen = b.peer.received.counters.size;
      await b.peer.received.waitForCounters(seen + 10, 10_000); // b is untouched
      b.page.stop();
      await waitFor(async () => (await pipelines()) === 0, 5000, "b's pipeline released");
    } finally {
      a.close();
      b.close();
    }
  });

  test('a socket dropped mid-session, or mid-start, releases its session', async () => {
    const running = await openTab();
    try {
      await running.page.start();
      await running.page.waitFor(isId('startResponse'));
      assert.equal(await pipelines(), 1);
      running.ws.terminate(); // no close handshake: a crashed tab
      await waitFor(async () => (await pipelines()) === 0, 5000, 'released after the socket dropped');
    } finally {
      running.close();
    }

    const starting = await openTab();
    try {
      await starting.page.start();
      starting.ws.terminate();
      await new Promise((r) => setTimeout(r, 500));
      await waitFor(async () => (await pipelines()) === 0, 5000, 'released after the socket dropped mid-start');
    } finally {
      starting.close();
    }
  });

  test('bad messages get an error message and the socket stays usable', async () => {
    const tab = await openTab();
    try {
      for (const bad of ['{not json', '{"id":"dance"}', '{"id":"start"}', '[]']) tab.ws.send(bad);
      await waitFor(() => tab.page.received.length === 4, 5000, 'four error replies');
      for (const m of tab.page.received) {
        assert.equal(m.id, 'error');
        assert.match((m as { message: string }).message, /^Invalid message: /);
      }
      assert.equal(tab.ws.readyState, WebSocket.OPEN);
      await tab.page.start();
      await tab.page.waitFor(isId('startResponse'));
      tab.page.stop();
      await waitFor(async () => (await pipelines()) === 0, 5000, 'released');
    } finally {
      tab.close();
    }
  });

  test('--ws_uri follows the settings\' rule: forms the URL parser would rewrite are refused with their reason, before anything starts', async () => {
    for (const [uri, reason] of [['ws:///kurento', /"ws:\/\/\/kurento":.*host/], ['ws://user:pw@kms:8888/kurento', /credentials|user/i], ['http://kms:8888/kurento', /ws:\/\/ or wss:\/\//]] as const) {
      await assert.rejects(startWebMode({ asUri: 'http://127.0.0.1:0/', wsUri: uri, rendererDir: tmp, configDir: tmp }), { message: reason }, uri);
    }
  });

  test('WebSockets from a foreign origin, to another path or for a foreign host are refused', async () => {
    const port = new URL(web.url).port;
    const status = async (url: string, headers: { origin?: string; host?: string }) => {
      const ws = new WebSocket(url, { origin: headers.origin, headers: headers.host ? { host: headers.host } : {} });
      const [, res] = (await Promise.race([once(ws, 'unexpected-response'), once(ws, 'open').then(() => [undefined, { statusCode: 101 }])])) as [unknown, { statusCode: number }];
      ws.terminate();
      return res.statusCode;
    };
    assert.equal(await status(socketUrl(), { origin: 'http://evil.example' }), 403);
    assert.equal(await status(socketUrl(), { origin: `http://127.0.0.1:${Number(port) + 1}` }), 403);
    assert.equal(await status(socketUrl(), { origin: origin(), host: `rebound.example:${port}` }), 403);
    assert.equal(await status(socketUrl().replace('/magicmirror', '/kurento'), { origin: origin() }), 404);
    // The same port under another loopback name is the same machine: allowed.
    assert.equal(await status(socketUrl(), { origin: `http://localhost:${port}` }), 101);
  });

  test('the renderer is served under the strict CSP; nothing outside it; a clear page while unbuilt', async () => {
    const res = await fetch(web.url);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), INDEX);
    const port = new URL(web.url).port;
    assert.equal(
      res.headers.get('content-security-policy'),
      `default-src 'self'; connect-src 'self' ws://127.0.0.1:${port}; img-src 'self' data: blob:; media-src 'self' blob: mediastream:; ` +
        "script-src 'self'; style-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    );
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal((await fetch(`${web.url}app.js`)).headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal((await fetch(`${web.url}..%2f..%2f..%2fetc%2fpasswd`)).status, 404);
    assert.equal((await fetch(`${web.url}nope.js`)).status, 404);
    assert.equal((await fetch(web.url, { method: 'POST' })).status, 405);
    assert.equal(contentSecurityPolicy(['wss://h:1']).includes("connect-src 'self' wss://h:1;"), true);

    const unbuilt = await startWebMode({ asUri: 'http://localhost:0/', rendererDir: path.join(tmp, 'missing'), hats: { dir: tmp }, hat: `http://127.0.0.1:${port}/x.png` });
    try {
      const page = await fetch(unbuilt.url);
      assert.equal(page.status, 503);
      assert.match(await page.text(), /npm run build:renderer/);
      assert.ok(page.headers.get('content-security-policy')?.includes(`ws://localhost:${new URL(unbuilt.url).port}`));
    } finally {
      await unbuilt.close();
    }
  });

  test('a non-loopback host is served over HTTPS with a self-signed certificate, made once and kept', async () => {
    const configDir = path.join(tmp, 'config');
    const starts: { created: boolean; fingerprint: string }[] = [];
    for (let i = 0; i < 2; i++) {
      const remote = await startWebMode({ asUri: 'http://mirror.test:0/', rendererDir: tmp, configDir, hats: { dir: tmp }, hat: 'https://example.com/hat.png' });
      try {
        assert.match(remote.url, /^https:\/\/mirror\.test:\d+\/$/);
        assert.equal(remote.notes.some((n) => n.startsWith('Serving https:// rather than http://')), true);
        const { port } = new URL(remote.url);
        const cert = await new Promise<X509Certificate>((resolve, reject) => {
          const req = https.get({ host: '127.0.0.1', port, servername: 'mirror.test', headers: { host: `mirror.test:${port}` }, rejectUnauthorized: false }, (res) => {
            assert.equal(res.statusCode, 200);
            assert.ok(res.headers['content-security-policy']?.includes(`wss://mirror.test:${port}`));
            resolve(new X509Certificate((res.socket as import('node:tls').TLSSocket).getPeerX509Certificate()!.raw));
            res.resume();
          });
          req.on('error', reject);
        });
        assert.match(cert.subjectAltName ?? '', /DNS:mirror\.test/);
        starts.push({ created: remote.notes.some((n) => n.startsWith('Made a self-signed certificate')), fingerprint: cert.fingerprint256 });
      } finally {
        await remote.close();
      }
    }
    assert.deepEqual(starts.map((s) => s.created), [true, false]);
    assert.equal(starts[0]!.fingerprint, starts[1]!.fingerprint);
  });
});
