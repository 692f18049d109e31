/**
 * A Start against an engine too busy to answer in time (8 sessions on 2 cores: replies came
 * 20–85 s late) must fail with a clear error, never hand garbage on as the SDP answer.
 *
 * The bug: kurento-client 7.2's promise form RESOLVES `undefined` when a request times out, and
 * the bench's Start (bench/session.ts) passed that to the camera's setRemoteDescription, which
 * threw wrtc's TypeError "Expect line: v=". Here the overload is made deterministic: the engine
 * process is stopped (SIGSTOP) while it answers processOffer, for longer than the client's
 * request timeout, then continued — it answers late, as a saturated engine does.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import kurento from 'kurento-client';
import { startEngine, type EngineProcess } from '../engine/start.js';
import { checkedAnswer, openSession, type OpenSession } from '../bench/session.js';
import { FakeCameraPeer } from './helpers/fake-camera-peer.js';
import { clientSocket, kurentoClient } from './helpers/kurento.js';
import { exitAfterTests } from './helpers/process-exit.js';

exitAfterTests();

/** The client's request timeout here (kurento-client's default is 20 s). */
const REQUEST_TIMEOUT_MS = 1000;
/** How long the engine is stopped while answering processOffer: well past the timeout. */
const STOPPED_MS = 2500;

let engine: EngineProcess;
before(async () => {
  engine = await startEngine({ graceMs: 300, log: () => undefined });
});
after(async () => {
  await engine?.close();
});

const camera = () => new FakeCameraPeer({ background: 'none', width: 160, height: 120, fps: 15 });

const stalls: NodeJS.Timeout[] = [];
function resumeEngine(): void {
  try {
    process.kill(engine.pid, 'SIGCONT');
  } catch {
    // already gone
  }
}

/**
 * Every processOffer request this client sends stops the engine (SIGSTOP) for STOPPED_MS as it
 * goes out: the engine answers after the client's request timeout, as a saturated one did.
 * Hooked on the WebSocket (kurento-client's reconnecting socket), so promise and callback form
 * alike are stalled.
 */
function stallEngineOnProcessOffer(client: kurento.KurentoClient): void {
  const socket = clientSocket(client);
  assert.ok(socket, "kurento-client's WebSocket not found");
  const send = socket.send.bind(socket);
  socket.send = (data: unknown, ...rest: unknown[]) => {
    if (String(data).includes('"operation":"processOffer"')) {
      process.kill(engine.pid, 'SIGSTOP');
      stalls.push(setTimeout(resumeEngine, STOPPED_MS));
    }
    return send(data, ...rest);
  };
}

test('a Start whose processOffer answer comes after the request timeout fails clearly (no "Expect line: v=")', async () => {
  const client = await kurentoClient(engine.uri, { socket: { objectMode: true }, request_timeout: REQUEST_TIMEOUT_MS });
  stallEngineOnProcessOffer(client);
  const peers: FakeCameraPeer[] = [];
  const sessions: OpenSession[] = [];
  try {
    // Two Starts one after the other (the bench opens its sessions so); each processOffer stalls the engine.
    for (let i = 0; i < 2; i++) {
      const peer = camera();
      peers.push(peer);
      const outcome = await openSession(client, peer, 'loopback', 'http://127.0.0.1:9/unused.png').then(
        (session) => (sessions.push(session), undefined),
        (error: Error) => error,
      );
      assert.ok(outcome, 'the stalled processOffer must time out');
      assert.ok(!(outcome instanceof TypeError), `garbage reached setRemoteDescription: ${outcome.stack}`);
      assert.doesNotMatch(outcome.message, /Expect line/);
      assert.match(outcome.message, /processOffer: Request has timed out/);
      assert.equal(peer.pc.remoteDescription, null, 'nothing was applied as the answer'); // null: nothing to serialize (see FakeCameraPeer.remoteSdp)
    }
  } finally {
    for (const t of stalls.splice(0)) clearTimeout(t);
    resumeEngine();
    for (const s of sessions) await s.release().catch(() => undefined);
    for (const p of peers) p.close();
    client.close();
  }
});

test('once the engine answers in time again, a Start gets a valid SDP answer and connects', async () => {
  const client = await kurentoClient(engine.uri, { socket: { objectMode: true }, request_timeout: 5000 });
  const peer = camera();
  try {
    await peer.start(); // the camera is live before Start, as in the app
    const session = await openSession(client, peer, 'loopback', 'http://127.0.0.1:9/unused.png');
    assert.match(peer.remoteSdp ?? '', /^v=0\r?\n/);
    assert.ok(session.timings.connected >= session.timings.answered);
    await peer.received.waitForCounters(3, 15_000);
    await session.release();
  } finally {
    peer.close();
    client.close();
  }
});

test('checkedAnswer and FakeCameraPeer.processAnswer refuse what is not an SDP with a clear error', async () => {
  for (const bad of [undefined, null, '', 'v', 'garbage', 42]) {
    assert.throws(() => checkedAnswer(bad), (e: Error) => !(e instanceof TypeError) && /processOffer answered no SDP/.test(e.message));
  }
  assert.equal(checkedAnswer('v=0\r\n'), 'v=0\r\n');
  const peer = camera();
  try {
    await peer.createOffer();
    for (const bad of [undefined, '']) {
      await assert.rejects(peer.processAnswer(bad as unknown as string), (e: Error) => !(e instanceof TypeError) && /not an SDP answer/.test(e.message));
    }
  } finally {
    peer.close();
  }
});
