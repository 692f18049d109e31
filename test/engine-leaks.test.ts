/**
 * 50 real media sessions through the engine — most released by the app, every fifth
 * abandoned (client socket dropped, left to the grace period) — then the engine's object
 * counts, open file descriptors and UDP sockets (read from /proc) must be back at baseline.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startEngine, type EngineProcess } from '../engine/start.js';
import { dropClient, kurentoClient, connectFakeCamera } from './helpers/kurento.js';
import { engineCounts, processResources, steadyResources } from './helpers/engine-counts.js';
import { FakeCameraPeer } from './helpers/fake-camera-peer.js';
import { exitAfterTests } from './helpers/process-exit.js';
import { waitFor } from './helpers/wait.js';
import { connectRaw } from './helpers/rpc-client.js';

exitAfterTests();

const SESSIONS = 50;
let engine: EngineProcess;
before(async () => {
  engine = await startEngine({ graceMs: 300, log: () => undefined });
});
after(async () => {
  await engine?.close();
});

/**
 * One mirror-shaped session: endpoint → pass-through → endpoint, media both ways. With
 * `abandon`, the app vanishes instead of releasing: its socket drops mid-media and the engine
 * must clean up after the grace period. (The peer is closed after the engine's side is gone:
 * closing a wrtc peer that is still receiving leaves a native handle that keeps the test
 * process alive.)
 */
async function session(abandon: boolean): Promise<void> {
  const client = await kurentoClient(engine.uri);
  const peer = new FakeCameraPeer({ background: 'none', width: 160, height: 120, fps: 30 });
  try {
    const pipeline = await client.create('MediaPipeline');
    const endpoint = await pipeline.create('WebRtcEndpoint');
    const filter = await pipeline.create('PassThrough');
    await endpoint.connect(filter);
    await filter.connect(endpoint);
    await connectFakeCamera(endpoint, peer);
    await peer.received.waitForCounters(3, 15_000);
    if (abandon) {
      dropClient(client);
      const id = pipeline.id;
      await waitFor(async () => !(await listPipelines()).includes(id), 5000, 'abandoned pipeline released');
    } else {
      await pipeline.release();
    }
  } finally {
    client.close();
    peer.close();
  }
}

async function listPipelines(): Promise<string[]> {
  const c = await connectRaw(engine.uri);
  const r = await c.request('invoke', { object: 'manager_ServerManager', operation: 'getPipelines' });
  await c.close();
  return r.result!.value as string[];
}

async function settled(baseline: { fds: number; udpSockets: number }) {
  await waitFor(async () => (await engineCounts(engine.uri)).objects === 0, 10_000, 'objects released');
  // Sockets and threads of closed peer connections go away asynchronously in libwebrtc.
  await waitFor(() => processResources(engine.pid).udpSockets <= baseline.udpSockets, 10_000, 'UDP sockets closed').catch(() => undefined);
  await waitFor(() => processResources(engine.pid).fds <= baseline.fds, 10_000, 'fds closed').catch(() => undefined);
  return { counts: await engineCounts(engine.uri), res: await steadyResources(engine.pid) };
}

test(`${SESSIONS} sessions: objects, fds and UDP sockets return to baseline`, async (t) => {
  // Warm-up: the first peer connection starts libwebrtc's threads and sockets for good.
  await session(false);
  const baseline = (await settled({ fds: Infinity, udpSockets: Infinity })).res;
  t.diagnostic(`baseline: ${JSON.stringify(baseline)}`);

  for (let i = 0; i < SESSIONS; i++) await session(i % 5 === 4);

  const { counts, res } = await settled(baseline);
  t.diagnostic(`after ${SESSIONS} sessions: ${JSON.stringify(res)}; engine counts ${JSON.stringify(counts)}`);
  assert.deepEqual({ objects: counts.objects, pipelines: counts.pipelines, peerConnections: counts.peerConnections }, { objects: 0, pipelines: 0, peerConnections: 0 });
  assert.ok(res.udpSockets <= baseline.udpSockets, `UDP sockets ${res.udpSockets} > baseline ${baseline.udpSockets}`);
  assert.ok(res.fds <= baseline.fds, `fds ${res.fds} > baseline ${baseline.fds}`);
});
