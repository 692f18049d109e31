/**
 * The session core against the real engine (child process), driven through the real
 * kurento-client, with a wrtc FakeCameraPeer playing the tutorial's page. After every test
 * the engine has no pipeline and no peer connection left.
 */
import { withoutEngineSecret } from '../common/kms-uri.js';
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, afterEach, before, describe, test } from 'node:test';
import { WebSocketServer } from 'ws';
import { parseClientMessage, type MirrorStatus, type ServerMessage } from '../common/mirror-protocol.js';
import { startEngine, type EngineProcess } from '../engine/start.js';
import { HatServer } from '../main/hats/hat-server.js';
import type { KmsTimeouts, SessionTimings } from '../main/defaults.js';
import { KmsRegistry } from '../main/kms/kms-registry.js';
import { MirrorSession } from '../main/mirror/session.js';
import { engineCounts } from './helpers/engine-counts.js';
import { FakeCameraPeer } from './helpers/fake-camera-peer.js';
import { makeHatDir } from './helpers/hat-fixture.js';
import { exitAfterTests } from './helpers/process-exit.js';
import { TutorialPage, isId } from './helpers/tutorial-page.js';
import { waitFor } from './helpers/wait.js';
import { startWsProxy } from './helpers/ws-proxy.js';

exitAfterTests();

const quiet = () => {};
let engine: EngineProcess;
let hats: HatServer;
let hatUri: string;
let removeHats: () => Promise<void>;

before(async () => {
  engine = await startEngine({ log: process.env.ENGINE_LOG ? 'inherit' : quiet });
  const hatDir = await makeHatDir();
  removeHats = hatDir.remove;
  hats = await HatServer.start({ dir: hatDir.dir });
  hatUri = await hats.uriFor(undefined, engine.uri);
});
after(async () => {
  await hats?.close();
  await removeHats?.();
  await engine?.close();
});
afterEach(async () => {
  const counts = await engineCounts(engine.uri);
  assert.equal(counts.pipelines, 0, 'pipelines left on the engine');
  assert.equal(counts.peerConnections, 0, 'peer connections left on the engine');
});

/** Everything one test needs: a registry, a session wired to a tutorial page with a wrtc camera, and cleanup. */
function mirror(options: {
  /** Share a registry (closed by its owner) instead of making one. */
  registry?: KmsRegistry;
  kmsUri?: string;
  hatUri?: string;
  timeouts?: Partial<KmsTimeouts>;
  timings?: Partial<SessionTimings>;
  mediaServer?: 'engine' | 'media-server';
  page?: ConstructorParameters<typeof TutorialPage>[2];
} = {}) {
  const registry = options.registry ?? new KmsRegistry({ timeouts: options.timeouts, log: quiet });
  const peer = new FakeCameraPeer({ background: 'none', width: 320, height: 240 });
  let page!: TutorialPage;
  const sent: ServerMessage[] = [];
  const session = new MirrorSession({
    connect: () => registry.get(options.kmsUri ?? engine.uri),
    hatUri: options.hatUri ?? hatUri,
    timings: options.timings,
    mediaServer: options.mediaServer,
    // Through JSON, as over a socket.
    send: (m) => {
      sent.push(m);
      page.receive(JSON.parse(JSON.stringify(m)) as ServerMessage);
    },
  });
  page = new TutorialPage(peer, (m) => void session.handle(parseClientMessage(JSON.stringify(m))!), { statusEvents: true, ...options.page });
  return {
    registry,
    peer,
    page,
    session,
    sent,
    statuses: () => sent.flatMap((m) => (m.id === 'status' ? [m.status] : [])),
    async close() {
      await session.close();
      peer.close();
      if (!options.registry) await registry.close();
    },
  };
}

const isProblem = (problem: string) => (m: ServerMessage) => m.id === 'status' && m.status.kind === 'problem' && m.status.problem === problem;
const isError = (code: string) => (m: ServerMessage): m is Extract<ServerMessage, { id: 'error' }> => m.id === 'error' && m.code === code;

describe('MirrorSession', () => {
  test('start → trickle ICE → hatted video comes back → stop releases everything', async () => {
    const m = mirror();
    try {
      await m.page.start();
      const answer = await m.page.waitFor(isId('startResponse'));
      assert.match(answer.sdpAnswer, /^v=0/);
      await m.peer.connected();
      await m.peer.start();
      await m.peer.received.waitForCounters(30, 15_000);
      assert.ok(m.page.received.some(isId('iceCandidate')), 'server candidates reached the page');
      await m.page.waitFor((x) => x.id === 'status' && x.status.kind === 'media-in' && x.status.flowing);
      const counts = await engineCounts(engine.uri);
      assert.equal(counts.pipelines, 1);
      assert.equal(counts.objects, 3, 'pipeline, endpoint, filter');
      assert.ok(m.statuses().some((s) => s.kind === 'ice' && s.state === 'CONNECTED'), JSON.stringify(m.statuses()));
      // The answer comes before any server candidate on the wire.
      assert.ok(m.sent.findIndex((x) => x.id === 'startResponse') < m.sent.findIndex((x) => x.id === 'iceCandidate'));

      m.page.stop();
      await waitFor(async () => (await engineCounts(engine.uri)).pipelines === 0, 5000, 'pipeline released after stop');
      assert.equal(m.session.active, false);
      assert.deepEqual(m.statuses().at(-1), { kind: 'stopped', reason: 'stop' });
      assert.ok(!m.sent.some((x) => x.id === 'error'), 'no error');
    } finally {
      await m.close();
    }
  });

  test('a Start that waits for the built-in engine to start says so first; one on a running engine does not', async () => {
    const registry = new KmsRegistry({ log: quiet, engineLog: quiet }); // its engine starts on first use
    try {
      for (const [i, expectWaiting] of [[1, true], [2, false]] as const) {
        const m = mirror({ registry, kmsUri: 'builtin', mediaServer: 'engine' });
        try {
          await m.page.start();
          await m.page.waitFor(isId('startResponse'));
          const waiting = m.sent.findIndex((x) => x.id === 'status' && x.status.kind === 'waiting');
          if (expectWaiting) {
            assert.deepEqual(m.statuses()[0], { kind: 'waiting', for: 'engine' }, `Start ${i}: the first status`);
            assert.ok(waiting < m.sent.findIndex(isId('startResponse')), `Start ${i}: said before the answer`);
          } else {
            assert.equal(waiting, -1, `Start ${i}: no waiting status once the engine runs: ${JSON.stringify(m.statuses())}`);
          }
          m.page.stop();
          await waitFor(() => !m.session.active, 5000, 'stopped');
        } finally {
          await m.close();
        }
      }
    } finally {
      await registry.close();
    }
  });

  test('candidates sent before start are queued and applied (ICE works with only those)', async () => {
    // The page ignores the server's candidates, so ICE can only connect if the server used ours.
    const m = mirror({ page: { candidatesBeforeStart: true, ignoreServerCandidates: true } });
    try {
      await m.page.start();
      assert.ok(m.page.sentCandidates.length > 0);
      await m.page.waitFor(isId('startResponse'));
      await m.peer.connected();
      await m.peer.start();
      await m.peer.received.waitForCounters(10, 15_000);
    } finally {
      await m.close();
    }
  });

  test('stop while starting, at every step: nothing is left on the media server', async () => {
    for (const delayMs of [0, 5, 15, 30, 60, 120]) {
      const m = mirror();
      try {
        const offer = await m.peer.createOffer();
        const starting = m.session.start(offer);
        await sleep(delayMs);
        await m.session.stop();
        await starting;
        assert.equal((await engineCounts(engine.uri)).pipelines, 0, `stopped ${delayMs} ms into start`);
        assert.ok(!m.sent.some((x) => x.id === 'error'), `a requested stop is not an error (${delayMs} ms)`);
        assert.equal(m.session.active, false);
      } finally {
        await m.close();
      }
    }
  });

  test('page gone mid-start: released, and nothing more is sent', async () => {
    for (const delayMs of [0, 20, 80]) {
      const m = mirror();
      try {
        const starting = m.session.start(await m.peer.createOffer());
        await sleep(delayMs);
        const sentBefore = m.sent.length;
        await m.session.close();
        await starting;
        assert.equal(m.sent.length, sentBefore, 'no message after close');
        assert.equal((await engineCounts(engine.uri)).pipelines, 0);
      } finally {
        await m.close();
      }
    }
  });

  test('double start: the second gets a busy error, the first carries on; stop releases its one pipeline', async () => {
    const m = mirror();
    try {
      const offer = await m.peer.createOffer();
      const first = m.session.start(offer, { statusEvents: true });
      await m.session.start(offer);
      const busy = await m.page.waitFor(isError('busy'));
      assert.match(busy.message, /already running/);
      await first;
      assert.equal(m.sent.filter(isId('startResponse')).length, 1);
      assert.equal((await engineCounts(engine.uri)).pipelines, 1);
      await m.session.stop();
    } finally {
      await m.close();
    }
  });

  test('bad SDP: a readable bad-offer error, and the pipeline is released', async () => {
    const m = mirror();
    try {
      await m.session.start('this is not an SDP offer');
      const error = await m.page.waitFor(isError('bad-offer'));
      assert.match(error.message, /rejected this browser's video offer: .+/);
      assert.equal(m.session.active, false);
      assert.ok(!m.sent.some(isId('startResponse')));
    } finally {
      await m.close();
    }
  });

  test('media server refuses connections: clear error within the timeout, and the process lives on', async () => {
    const port = await closedPort();
    const m = mirror({ kmsUri: `ws://127.0.0.1:${port}/kurento`, timeouts: { connectMs: 2000 } });
    try {
      const t0 = Date.now();
      await m.session.start(await m.peer.createOffer());
      const error = await m.page.waitFor(isError('kms-unreachable'), 100);
      assert.ok(Date.now() - t0 < 2000, `took ${Date.now() - t0} ms`);
      assert.equal(error.message, `Cannot reach the media server at ws://127.0.0.1:${port}/kurento: connection refused. Is Kurento Media Server running there?`);
      await sleep(300); // kurento-client's asynchronous 'error' events would have killed us by now
    } finally {
      await m.close();
    }
  });

  test('media server that accepts but never answers: kms-timeout (TCP only, and WebSocket)', async () => {
    const accepted = new Set<net.Socket>();
    const tcp = net.createServer((socket) => accepted.add(socket)).listen(0, '127.0.0.1');
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await Promise.all([new Promise((r) => tcp.once('listening', r)), new Promise((r) => wss.once('listening', r))]);
    try {
      for (const port of [(tcp.address() as net.AddressInfo).port, (wss.address() as net.AddressInfo).port]) {
        const uri = `ws://127.0.0.1:${port}/kurento`;
        const m = mirror({ kmsUri: uri, timeouts: { connectMs: 1000, callMs: 1000 } });
        try {
          const t0 = Date.now();
          await m.session.start(await m.peer.createOffer());
          const error = await m.page.waitFor(isError('kms-timeout'), 100);
          assert.equal(error.message, `The media server at ${uri} did not answer within 1 s.`);
          assert.ok(Date.now() - t0 < 2500, `took ${Date.now() - t0} ms`);
        } finally {
          await m.close();
        }
      }
    } finally {
      for (const c of wss.clients) c.terminate();
      for (const socket of accepted) socket.destroy();
      tcp.close();
      wss.close();
    }
  });

  test('a request the media server never answers: kms-timeout naming it, pipeline released', async () => {
    const proxy = await startWsProxy(engine.uri, (r) => r.params?.operation === 'processOffer');
    const m = mirror({ kmsUri: proxy.uri, timeouts: { callMs: 1000 } });
    try {
      await m.session.start(await m.peer.createOffer());
      const error = await m.page.waitFor(isError('kms-timeout'), 100);
      assert.equal(error.message, `The media server at ${proxy.uri} did not answer "processOffer" within 1 s.`);
      assert.deepEqual(proxy.swallowed, ['invoke processOffer']);
    } finally {
      await m.close();
      await proxy.close();
    }
  });

  test('hat URL the media server cannot load: a hat-failed status reaches the page, the mirror keeps running', async () => {
    const port = await closedPort();
    const badHat = `http://127.0.0.1:${port}/hats/nope.png`;
    const m = mirror({ hatUri: badHat });
    try {
      await m.page.start();
      const problem = await m.page.waitFor(isProblem('hat-failed'), 10_000);
      assert.match((problem as { status: Extract<MirrorStatus, { kind: 'problem' }> }).status.message, new RegExp(`^The media server could not load the hat image ${badHat}: .+`));
      await m.peer.connected();
      await m.peer.start();
      await m.peer.received.waitForCounters(10, 15_000);
    } finally {
      await m.close();
    }
  });

  test('no camera video: no-media problem, cleared when video arrives', async () => {
    const m = mirror({ timings: { noMediaMs: 800 } });
    try {
      await m.page.start();
      await m.peer.connected();
      await m.page.waitFor(isProblem('no-media'), 5000);
      await m.peer.start();
      await m.page.waitFor((x) => x.id === 'status' && x.status.kind === 'problem-cleared' && x.status.problem === 'no-media', 5000);
    } finally {
      await m.close();
    }
  });

  test('connection to the media server drops and comes back: the session survives', async () => {
    const proxy = await startWsProxy(engine.uri);
    const m = mirror({ kmsUri: proxy.uri });
    try {
      await m.page.start();
      await m.peer.connected();
      await m.peer.start();
      await m.peer.received.waitForCounters(5, 15_000);
      proxy.cutAll();
      await m.page.waitFor(isProblem('kms-lost'), 5000);
      await m.page.waitFor((x) => x.id === 'status' && x.status.kind === 'problem-cleared' && x.status.problem === 'kms-lost', 10_000);
      const seen = m.peer.received.counters.size;
      await m.peer.received.waitForCounters(seen + 10, 10_000);
      assert.equal(m.session.active, true);
      await m.session.stop(); // over the reconnected socket
    } finally {
      await m.close();
      await proxy.close();
    }
  });

  test('media server restarts (connect answers 40007): kms-lost error, the page must start again', async () => {
    const port = await closedPort();
    // secret: false — a KMS that restarts keeps its address; an engine with a secret would not.
    let own = await startEngine({ port, secret: false, log: quiet });
    // A short call timeout: kurento-jsonrpc keeps a timer per unanswered request for that long.
    const m = mirror({ kmsUri: own.uri, timeouts: { callMs: 2000 } });
    try {
      await m.page.start();
      await m.page.waitFor(isId('startResponse'));
      await own.close();
      own = await startEngine({ port, secret: false, log: quiet });
      const error = await m.page.waitFor(isError('kms-lost'), 15_000);
      assert.equal(error.message, `The media server at ${own.uri} restarted, so this mirror is gone. Start it again.`);
      assert.equal(m.session.active, false);
      // The same connection takes a new start.
      const again = mirror({ registry: m.registry, kmsUri: own.uri });
      try {
        await again.page.start();
        await again.page.waitFor(isId('startResponse'));
        assert.equal((await engineCounts(own.uri)).pipelines, 1);
        await again.session.stop();
        assert.equal((await engineCounts(own.uri)).pipelines, 0);
      } finally {
        await again.close();
      }
    } finally {
      await m.close();
      await own.close();
    }
  });

  test('frozen media server (socket open, no pongs): found by pings, kms-lost; its pipeline released once it answers again', async () => {
    const own = await startEngine({ log: quiet });
    const m = mirror({ kmsUri: own.uri, timeouts: { pingIntervalMs: 200, pingTimeoutMs: 800, resumeMs: 800, callMs: 3000 } });
    try {
      await m.page.start();
      await m.page.waitFor(isId('startResponse'));
      process.kill(own.pid, 'SIGSTOP');
      const t0 = Date.now();
      const error = await m.page.waitFor(isError('kms-lost'), 5000);
      assert.ok(Date.now() - t0 < 3000, `noticed after ${Date.now() - t0} ms`);
      assert.equal(error.message, `Lost the connection to the media server at ${withoutEngineSecret(own.uri)}. Start the mirror again.`);
      process.kill(own.pid, 'SIGCONT');
      // kurento-client reconnects to the same session; the release that failed meanwhile is retried.
      await waitFor(async () => (await engineCounts(own.uri)).pipelines === 0, 10_000, 'orphaned pipeline released');
    } finally {
      process.kill(own.pid, 'SIGCONT');
      await m.close();
      await own.close();
    }
  });

  test('media server gone for good: kms-lost error after the resume window', async () => {
    const own = await startEngine({ log: quiet });
    const m = mirror({ kmsUri: own.uri, timeouts: { resumeMs: 1000, callMs: 2000 } });
    try {
      await m.page.start();
      await m.page.waitFor(isId('startResponse'));
      await own.close();
      await m.page.waitFor(isProblem('kms-lost'), 5000);
      const error = await m.page.waitFor(isError('kms-lost'), 5000);
      assert.equal(error.message, `Lost the connection to the media server at ${withoutEngineSecret(own.uri)}. Start the mirror again.`);
    } finally {
      await m.close();
      await own.close();
    }
  });
});

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
