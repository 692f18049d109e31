/**
 * Web mode is fair (issue 23, item 5): page sockets that send `start` and then nothing cannot
 * lock other visitors out, a start with no media ends, the total is capped with a "busy, try
 * again in a moment" error to the newcomer, ICE candidates are checked before they reach the
 * media server, and 50 mirrors on one KmsConnection raise no listener warning. Real
 * kurento-client against the real built-in engine, wrtc FakeCameraPeers as browsers, idle
 * visitors sending one recorded wrtc offer. After every test the engine has no pipeline and no
 * peer connection left.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, afterEach, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { parseClientMessage, type ServerMessage } from '../common/mirror-protocol.js';
import { KmsRegistry } from '../main/kms/kms-registry.js';
import { MirrorSession } from '../main/mirror/session.js';
import { startWebMode, type WebMode, type WebModeOptions } from '../main/web/web-mode.js';
import { engineCounts } from './helpers/engine-counts.js';
import { FakeCameraPeer } from './helpers/fake-camera-peer.js';
import { makeHatDir } from './helpers/hat-fixture.js';
import { exitAfterTests } from './helpers/process-exit.js';
import { TutorialPage, isId } from './helpers/tutorial-page.js';
import { waitFor } from './helpers/wait.js';

exitAfterTests();

const quiet = () => {};
let web: WebMode;
let engineUri: string;
let tmp: string;
let hatDir: { dir: string; remove: () => Promise<void> };
/** One real wrtc offer (audio + video, no candidates), sent by every idle visitor. */
let recordedOffer: string;

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'mirror-fair-'));
  await writeFile(path.join(tmp, 'index.html'), '<!doctype html><title>mirror</title>');
  hatDir = await makeHatDir();
  web = await startWebMode({ asUri: 'http://127.0.0.1:0/', wsUri: 'builtin', hats: { dir: hatDir.dir }, rendererDir: tmp, configDir: tmp, engineLog: process.env.ENGINE_LOG ? 'inherit' : quiet });
  engineUri = (await web.registry.get('builtin')).uri; // starts the built-in engine, as given (with whatever secret it carries)
  const peer = new FakeCameraPeer({ background: 'none', width: 320, height: 240 });
  try {
    recordedOffer = (await peer.createOffer()).split('\r\n').filter((l) => !l.startsWith('a=candidate:') && l !== 'a=end-of-candidates').join('\r\n');
  } finally {
    peer.close();
  }
});
after(async () => {
  await web?.close();
  await hatDir?.remove();
  await rm(tmp, { recursive: true, force: true });
});
afterEach(async () => {
  // Released pipelines take a moment when many ended at once.
  await waitFor(async () => (await engineCounts(engineUri)).pipelines === 0, 15_000, 'no pipeline left on the engine');
  await waitFor(async () => (await engineCounts(engineUri)).peerConnections === 0, 5000, 'no peer connection left on the engine');
});

const socketUrl = (w: WebMode) => `${w.url.replace(/^http/, 'ws')}magicmirror`;
const origin = (w: WebMode) => new URL(w.url).origin;
const pipelines = async () => (await engineCounts(engineUri)).pipelines;

/** Another web mode on the test engine, with its own options. */
function webMode(options: Partial<WebModeOptions> = {}): Promise<WebMode> {
  return startWebMode({ asUri: 'http://127.0.0.1:0/', wsUri: engineUri, hats: { dir: hatDir.dir }, rendererDir: tmp, configDir: tmp, ...options });
}

/** A socket on /magicmirror that keeps every message it gets. */
async function openSocket(w: WebMode, localAddress?: string) {
  const ws = new WebSocket(socketUrl(w), { origin: origin(w), localAddress });
  const received: ServerMessage[] = [];
  ws.on('message', (data) => received.push(JSON.parse(String(data)) as ServerMessage));
  await once(ws, 'open');
  return { ws, received, send: (m: object) => ws.send(JSON.stringify(m)) };
}

/** A visitor that sends `start` with a real offer and then nothing: no candidate, no media. */
async function idleStart(w: WebMode, localAddress?: string) {
  const s = await openSocket(w, localAddress);
  s.send({ id: 'start', sdpOffer: recordedOffer });
  return s;
}

/** A real visitor: its socket, a wrtc camera, the tutorial page's logic. */
async function openTab(w: WebMode) {
  const ws = new WebSocket(socketUrl(w), { origin: origin(w) });
  await once(ws, 'open');
  const peer = new FakeCameraPeer({ background: 'none', width: 320, height: 240 });
  const page = new TutorialPage(peer, (m) => ws.send(JSON.stringify(m)));
  ws.on('message', (data) => page.receive(JSON.parse(String(data)) as ServerMessage));
  return { ws, peer, page, close: () => (peer.close(), ws.terminate()) };
}

/** Starts a tab's mirror and waits for hatted frames back; resolves with the seconds that took. */
async function mirrorLive(tab: Awaited<ReturnType<typeof openTab>>, frames = 10): Promise<number> {
  const t0 = performance.now();
  await tab.page.start();
  await tab.page.waitFor(isId('startResponse'), 15_000);
  await tab.peer.connected();
  await tab.peer.start();
  await tab.peer.received.waitForCounters(frames, 15_000);
  return (performance.now() - t0) / 1000;
}

/** The idle sockets, then web mode (the engine stops sending), then the tab's peer (the wrtc pitfall). */
async function closeAll(w: WebMode, tab: Awaited<ReturnType<typeof openTab>>, idle: { ws: WebSocket }[]): Promise<void> {
  for (const s of idle) s.ws.terminate();
  try {
    await w.close();
  } finally {
    tab.close();
  }
}

const errors = (received: readonly ServerMessage[]) => received.filter((m): m is Extract<ServerMessage, { id: 'error' }> => m.id === 'error');

describe('web mode is fair', () => {
  test("80 idle starts (start, then nothing) do not stop a new visitor's mirror", async () => {
    const w = await webMode();
    const idle: Awaited<ReturnType<typeof idleStart>>[] = [];
    const tab = await openTab(w);
    let peak = 0;
    try {
      // In batches of 8, each answered before the next (all at once, many would fail on the
      // engine's object limit and release what they made; paced, they all get a mirror).
      for (let batch = 0; batch < 10; batch++) {
        const sockets = await Promise.all(Array.from({ length: 8 }, () => idleStart(w)));
        idle.push(...sockets);
        await waitFor(async () => {
          peak = Math.max(peak, await pipelines());
          return sockets.every((s) => s.received.some((m) => m.id === 'startResponse' || m.id === 'error'));
        }, 30_000, `idle batch ${batch} answered`);
      }
      await new Promise((r) => setTimeout(r, 1000)); // the flood's releases settle
      const seconds = await mirrorLive(tab, 30);
      const busy = idle.flatMap((s) => errors(s.received)).filter((e) => e.code === 'busy');
      console.log(`80 idle starts, then a new visitor: hatted frames after ${seconds.toFixed(2)} s; ${peak} pipelines at most during the flood; ${busy.length} idle starts pushed out (busy)`);
      assert.ok(peak <= 8, `the idle starts are bounded on the engine: ${peak} pipelines at once`);
      assert.ok(busy.length >= 70, `the idle starts pushed out were told the mirror is busy (${busy.length})`);
      assert.match(busy[0]!.message, /try again in a moment/i);
    } finally {
      await closeAll(w, tab, idle);
    }
  });

  test('a flood of idle starts that goes on while a visitor starts, from another address, pushes out its own starts, not the visitor', async () => {
    const w = await webMode();
    const idle: Awaited<ReturnType<typeof idleStart>>[] = [];
    const tab = await openTab(w); // from 127.0.0.1; the flood comes from 127.0.0.2
    let flooding = true;
    const flood = (async () => {
      while (flooding) {
        const sockets = await Promise.all(Array.from({ length: 8 }, () => idleStart(w, '127.0.0.2')));
        idle.push(...sockets);
        await waitFor(() => !flooding || sockets.every((s) => s.received.some((m) => m.id === 'startResponse' || m.id === 'error')), 30_000, 'an idle batch answered');
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      await waitFor(() => idle.length >= 16, 30_000, 'the flood under way');
      const seconds = await mirrorLive(tab, 30);
      const during = idle.length;
      await waitFor(() => idle.length >= during + 16, 30_000, 'the flood goes on after the visitor is live');
      await tab.peer.received.waitForCounters(60, 15_000); // still mirroring under the flood
      const throttled = idle.flatMap((s) => errors(s.received)).filter((e) => /started from your network/.test(e.message)).length;
      console.log(`a visitor during a sustained flood (${idle.length} idle starts from another address, ${throttled} of them told to slow down): hatted frames after ${seconds.toFixed(2)} s`);
      assert.deepEqual(errors(tab.page.received), [], "the visitor was never pushed out");
    } finally {
      flooding = false;
      await flood.catch(() => undefined);
      await closeAll(w, tab, idle);
    }
  });

  test('a start that has no media within the deadline ends with a clear error and its pipeline is released', async () => {
    const w = await webMode({ startMediaMs: 1500 });
    try {
      const s = await idleStart(w);
      const t0 = performance.now();
      await waitFor(() => s.received.some(isId('startResponse')), 10_000, 'the answer');
      assert.equal(await pipelines(), 1);
      await waitFor(() => errors(s.received).length > 0, 8000, 'the start ended');
      const ended = (performance.now() - t0) / 1000;
      const [error] = errors(s.received);
      assert.equal(error!.code, 'no-media');
      assert.match(error!.message, /No video from your camera reached the media server within 1\.5 s/);
      await waitFor(async () => (await pipelines()) === 0, 5000, 'its pipeline released');
      console.log(`an idle start ended ${ended.toFixed(2)} s after start (deadline 1.5 s)`);
      assert.ok(ended < 5, `ended in ${ended} s`);
      assert.equal(s.ws.readyState, WebSocket.OPEN, 'the socket stays open: the page can start again');
    } finally {
      await w.close();
    }
  });

  test('the deadline is 20 s by default, and a mirror with media is not ended by it', async () => {
    const { MIRROR_ADMISSION } = await import('../main/defaults.js');
    assert.equal(MIRROR_ADMISSION.startMediaMs, 20_000);
    const w = await webMode({ startMediaMs: 1500 });
    const tab = await openTab(w);
    try {
      await mirrorLive(tab);
      const seen = tab.peer.received.counters.size;
      await new Promise((r) => setTimeout(r, 2500));
      await tab.peer.received.waitForCounters(seen + 30, 10_000);
      assert.deepEqual(errors(tab.page.received), []);
    } finally {
      await closeAll(w, tab, []);
    }
  });

  test('the cap: a newcomer gets "busy, try again in a moment" while the running mirrors go on', async () => {
    const w = await webMode({ maxMirrors: 2 });
    const a = await openTab(w);
    const b = await openTab(w);
    const newcomer = await openTab(w);
    try {
      await Promise.all([mirrorLive(a), mirrorLive(b)]);
      await newcomer.page.start();
      const busy = await newcomer.page.waitFor((m): m is Extract<ServerMessage, { id: 'error' }> => m.id === 'error', 10_000);
      assert.equal(busy.code, 'busy');
      assert.match(busy.message, /busy.*try again in a moment/i);
      assert.ok(!newcomer.page.received.some(isId('startResponse')), 'no mirror for the newcomer');
      assert.equal(await pipelines(), 2);
      const [sa, sb] = [a.peer.received.counters.size, b.peer.received.counters.size];
      await Promise.all([a.peer.received.waitForCounters(sa + 20, 10_000), b.peer.received.waitForCounters(sb + 20, 10_000)]);
      assert.deepEqual([...a.page.received, ...b.page.received].filter((m) => m.id === 'error'), []);

      // A place frees up: the newcomer's next try works.
      a.page.stop();
      await waitFor(async () => (await pipelines()) === 1, 5000, "a's pipeline released");
      newcomer.page.received.length = 0;
      await mirrorLive(newcomer);
    } finally {
      try {
        await w.close();
      } finally {
        for (const t of [a, b, newcomer]) t.close();
      }
    }
  });

  test('ICE candidates are checked: a 250 KB candidate and malformed ones are refused with an error, not forwarded', async () => {
    const line = 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host';
    const bad = [
      { candidate: `${line} ${'x'.repeat(250 * 1024)}`, sdpMid: '0', sdpMLineIndex: 0 },
      { candidate: line, sdpMid: 'm'.repeat(10_000), sdpMLineIndex: 0 },
      { candidate: line, sdpMid: 0, sdpMLineIndex: 0 },
      { candidate: line, sdpMid: '0', sdpMLineIndex: '0' },
      { candidate: line, sdpMid: '0', sdpMLineIndex: -1 },
      { candidate: line, sdpMid: '0', sdpMLineIndex: 1.5 },
      { candidate: line, sdpMid: '0', sdpMLineIndex: 1e9 },
      { candidate: 5, sdpMid: '0', sdpMLineIndex: 0 },
      { candidate: line, sdpMid: { toString: 1 }, sdpMLineIndex: 0 },
    ];
    for (const candidate of bad) {
      assert.ok(parseClientMessage(JSON.stringify({ id: 'onIceCandidate', candidate })) === undefined, `refused: ${JSON.stringify(candidate).slice(0, 120)}`);
    }
    // What browsers send passes: RTCIceCandidate.toJSON() (with usernameFragment), the end-of-candidates marker, nulls.
    for (const candidate of [
      { candidate: line, sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'abcd' },
      { candidate: '', sdpMid: '0', sdpMLineIndex: 0 },
      { candidate: line, sdpMid: null, sdpMLineIndex: null },
      { candidate: line },
    ]) {
      assert.ok(parseClientMessage(JSON.stringify({ id: 'onIceCandidate', candidate })), JSON.stringify(candidate));
    }

    const lines: string[] = [];
    const w = await webMode({ log: (l) => lines.push(l) });
    const tab = await openTab(w);
    try {
      await mirrorLive(tab);
      const before = tab.page.received.length;
      for (const candidate of bad) tab.ws.send(JSON.stringify({ id: 'onIceCandidate', candidate }));
      await waitFor(() => errors(tab.page.received.slice(before)).length === bad.length, 5000, 'one error per bad candidate');
      for (const e of errors(tab.page.received.slice(before))) assert.match(e.message, /^Refused an ICE candidate: /);
      assert.match(errors(tab.page.received.slice(before))[0]!.message, /at most 2048 characters/);
      assert.ok(errors(tab.page.received.slice(before))[0]!.message.length < 300, 'the error does not echo the candidate');
      // None reached the media server (it would have refused them in the log), and the mirror goes on.
      await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual(lines.filter((l) => /refused an ICE candidate/.test(l)), []);
      const seen = tab.peer.received.counters.size;
      await tab.peer.received.waitForCounters(seen + 20, 10_000);
    } finally {
      await closeAll(w, tab, []);
    }
  });

  test('50 mirrors on one KmsConnection raise no MaxListenersExceededWarning', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    const registry = new KmsRegistry({ log: quiet });
    const sent: ServerMessage[] = [];
    const sessions = Array.from({ length: 50 }, () => new MirrorSession({ connect: () => registry.get(engineUri), hatUri: 'http://127.0.0.1:1/hat.png', send: (m) => sent.push(m) }));
    try {
      await Promise.all(sessions.map((s) => s.start(recordedOffer)));
      assert.equal(sessions.filter((s) => s.active).length, 50, `all 50 mirrors started (${JSON.stringify(errors(sent).slice(0, 2))})`);
      assert.equal(await pipelines(), 50);
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
      assert.deepEqual(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message), []);
    } finally {
      process.off('warning', onWarning);
      await Promise.all(sessions.map((s) => s.close()));
      await registry.close();
    }
  });
});
