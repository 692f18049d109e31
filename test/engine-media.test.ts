/**
 * Real media through the engine, driven by the real kurento-client 7.2.0: a WebRTC peer sends
 * video whose pixels carry a frame counter plus a tone; the pipeline WebRtcEndpoint →
 * PassThrough → same WebRtcEndpoint sends it back; the peer decodes the returned frames and
 * reads the counters. Once with a @roamhq/wrtc peer in this process, once with headless
 * Chromium's fake camera — in the tutorial's order (candidates and gatherCandidates sent
 * while processOffer is still in flight).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import kurento from 'kurento-client';
import { startEngine, type EngineProcess } from '../engine/start.js';
import { kurentoClient } from './helpers/kurento.js';
import { FakeCameraPeer } from './helpers/fake-camera-peer.js';
import { launchChromium, measureAudioRms, serveStatic } from './helpers/chromium.js';
import { collectPageCounters } from './helpers/page-counters.js';
import { loopbackPage } from './helpers/loopback-page.js';
import { makeY4m } from './helpers/video-fixtures.js';
import { engineCounts } from './helpers/engine-counts.js';
import { exitAfterTests } from './helpers/process-exit.js';
import { waitFor } from './helpers/wait.js';

exitAfterTests();

let engine: EngineProcess;
before(async () => {
  engine = await startEngine({ log: process.env.ENGINE_LOG ? 'inherit' : () => undefined });
});
after(async () => {
  await engine?.close();
});

/** Builds the loopback pipeline and wires a remote peer to it with trickle ICE, tutorial style. */
async function loopback(
  client: kurento.KurentoClient,
  peer: {
    offer: () => Promise<string>;
    answer: (sdp: string) => Promise<void>;
    addCandidate: (c: kurento.IceCandidate) => Promise<void>;
    onCandidate: (cb: (c: kurento.IceCandidate) => void) => void;
  },
) {
  const pipeline = await client.create('MediaPipeline');
  const endpoint = await pipeline.create('WebRtcEndpoint');
  const passThrough = await pipeline.create('PassThrough');
  const events: string[] = [];
  for (const type of ['IceGatheringDone', 'NewCandidatePairSelected', 'ConnectionStateChanged', 'MediaFlowOutStateChanged', 'MediaFlowInStateChanged', 'MediaStateChanged']) {
    endpoint.on(type, () => events.push(type));
  }
  endpoint.on('IceCandidateFound', (e: { candidate: kurento.IceCandidate }) => void peer.addCandidate(e.candidate));
  await endpoint.connect(passThrough);
  await passThrough.connect(endpoint);

  // Remote candidates go to the endpoint as they come, before processOffer has answered.
  peer.onCandidate((c) => void endpoint.addIceCandidate(kurento.getComplexType('IceCandidate')(c)));
  const offer = await peer.offer();
  const answering = endpoint.processOffer(offer);
  const gathering = endpoint.gatherCandidates();
  const answer = await answering;
  await peer.answer(answer);
  await gathering;
  return { pipeline, endpoint, events };
}

describe('kurento-client 7.2.0 against the engine', () => {
  for (const objectMode of [true, false]) {
    const label = objectMode ? 'one message per frame' : 'requests concatenated into one frame (websocket-stream default)';
    test(`wrtc peer: ≥ 60 distinct frames and audio come back (${label})`, async () => {
      const client = await kurentoClient(engine.uri, objectMode ? { socket: { objectMode: true } } : {});
      const peer = new FakeCameraPeer({ background: 'none', width: 320, height: 240, fps: 30 });
      try {
        const { pipeline, endpoint, events } = await loopback(client, {
          offer: () => peer.createOffer(),
          answer: (sdp) => peer.processAnswer(sdp),
          addCandidate: (c) => peer.addIceCandidate(c),
          onCandidate: (cb) => peer.on('iceCandidate', (c) => cb({ candidate: c.candidate, sdpMid: c.sdpMid ?? '0', sdpMLineIndex: c.sdpMLineIndex ?? 0 })),
        });
        await peer.connected();
        await peer.start();
        await peer.received.waitForCounters(objectMode ? 60 : 30, 20_000);
        await waitFor(() => peer.received.audioRms() > 0.01, 10_000, 'looped-back audio');

        assert.ok(await endpoint.isMediaFlowingOut('VIDEO'), 'media flows from the peer into the pipeline');
        assert.ok(await endpoint.isMediaFlowingIn('VIDEO'), 'media flows from the pipeline back to the peer');
        for (const e of ['IceGatheringDone', 'NewCandidatePairSelected', 'ConnectionStateChanged', 'MediaFlowOutStateChanged']) {
          assert.ok(events.includes(e), `event ${e} (got ${events.join(', ')})`);
        }
        assert.equal(events.filter((e) => e === 'IceGatheringDone').length, 1);
        const stats = Object.values(await endpoint.getStats('VIDEO'));
        assert.ok(stats.some((s) => s.__type__ === 'RTCInboundRTPStreamStats' && Number(s.packetsReceived) > 0), 'inbound RTP stats');

        await pipeline.release();
        const counts = await engineCounts(engine.uri);
        assert.equal(counts.pipelines, 0);
        assert.equal(counts.peerConnections, 0);
      } finally {
        peer.close();
        client.close();
      }
    });
  }

  test('Chromium fake camera: ≥ 60 distinct frames and audio come back', async () => {
    const y4m = await makeY4m({ background: 'face' });
    const chromium = await launchChromium({ fakeVideo: y4m });
    const site = await serveStatic({ '/index.html': loopbackPage() });
    const client = await kurentoClient(engine.uri);
    try {
      const page = await chromium.page();
      const candidateListeners: ((c: kurento.IceCandidate) => void)[] = [];
      await page.exposeFunction('onLocalCandidate', (c: kurento.IceCandidate) => candidateListeners.forEach((l) => l(c)));
      await page.goto(`${site.url}/`);
      const { pipeline } = await loopback(client, {
        offer: () => page.evaluate(() => (window as any).makeOffer()),
        answer: (sdp) => page.evaluate((s) => (window as any).setAnswer(s), sdp),
        addCandidate: (c) => page.evaluate((x) => (window as any).addCandidate(x), { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex }),
        onCandidate: (cb) => candidateListeners.push(cb),
      });
      await page
        .waitForFunction(() => (document.querySelector('#remote') as HTMLVideoElement).videoWidth > 0, undefined, { timeout: 15_000 })
        .catch(async (err: Error) => {
          const state = await page.evaluate(() => (window as any).peerState());
          throw new Error(`${err.message}; peer: ${JSON.stringify(state)}`);
        });
      const counters = await collectPageCounters(page, '#remote');
      await counters.waitFor(60, 20_000);
      await counters.stop();
      const rms = await measureAudioRms(page, '#remote', 1500);
      assert.ok(rms > 0.001, `looped-back audio RMS ${rms}`);
      await pipeline.release();
      assert.equal((await engineCounts(engine.uri)).peerConnections, 0);
    } finally {
      client.close();
      await chromium.close();
      await site.close();
    }
  });
});

