/**
 * 1,000 messages mutated from real kurento-client traffic (the recorded KMS session in
 * test/fixtures/kms-trace.jsonl): each request with a usable id gets exactly one answer,
 * notifications none, unparsable text a -32700; afterwards the engine still runs a normal
 * media session and every object the fuzzing created is gone once its session expires.
 * The seed is printed; FUZZ_SEED=<n> replays a run.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startEngine, type EngineProcess } from '../engine/start.js';
import { kurentoClient, connectFakeCamera } from './helpers/kurento.js';
import { connectRaw } from './helpers/rpc-client.js';
import { mutate, prng, recorded } from './helpers/rpc-fuzz.js';
import { engineCounts } from './helpers/engine-counts.js';
import { FakeCameraPeer } from './helpers/fake-camera-peer.js';
import { exitAfterTests } from './helpers/process-exit.js';
import { waitFor } from './helpers/wait.js';

exitAfterTests();

const MESSAGES = 1000;
const GRACE_MS = 300;

let engine: EngineProcess;
before(async () => {
  engine = await startEngine({ graceMs: GRACE_MS, log: () => undefined });
});
after(async () => {
  await engine?.close();
});

test(`${MESSAGES} mutated kurento-client messages: one answer per request id, engine keeps serving`, async (t) => {
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
  t.diagnostic(`fuzz seed ${seed} (FUZZ_SEED=${seed} replays it)`);
  const rand = prng(seed);
  const c = await connectRaw(engine.uri);
  const expected = new Map<number | string, number>();
  for (let i = 0; i < MESSAGES; i++) {
    // Ids from 1000: a mutation may turn an id into 0 or 1, which must not collide with a real request's.
    const base = { ...recorded[Math.floor(rand() * recorded.length)]!, id: 1000 + i };
    const { text, expectId } = mutate(base, rand);
    if (expectId !== undefined) expected.set(expectId, (expected.get(expectId) ?? 0) + 1);
    c.send(text);
  }
  // A final ping marks the end: replies are sent in order per frame, but handlers may await.
  await c.request('ping', {}, 'end');
  await waitFor(() => [...expected.keys()].every((id) => c.received.some((r) => r.id === id && !r.method)), 30_000, 'a reply to every request');
  await new Promise((r) => setTimeout(r, 500));

  const replies = new Map<unknown, number>();
  for (const r of c.received) if (!r.method && r.id !== null && r.id !== 'end') replies.set(r.id, (replies.get(r.id) ?? 0) + 1);
  for (const [id, n] of expected) assert.equal(replies.get(id), n, `request id ${String(id)}: ${replies.get(id) ?? 0} replies, expected ${n}`);
  const parseErrors = c.received.filter((r) => r.id === null && r.error?.code === -32700).length;
  t.diagnostic(`requests ${expected.size}, replies ${[...replies.values()].reduce((a, b) => a + b, 0)}, parse errors ${parseErrors}`);
  for (const r of c.received) {
    if (r.error) assert.ok(Number.isInteger(r.error.code) && typeof r.error.message === 'string', JSON.stringify(r));
  }
  await c.close();

  // The engine still serves a normal session, with real media.
  const client = await kurentoClient(engine.uri);
  const peer = new FakeCameraPeer({ background: 'none', width: 320, height: 240 });
  try {
    const pipeline = await client.create('MediaPipeline');
    const endpoint = await pipeline.create('WebRtcEndpoint');
    await endpoint.connect(endpoint);
    await connectFakeCamera(endpoint, peer);
    await peer.received.waitForCounters(10, 15_000);
    await pipeline.release();
  } finally {
    peer.close();
    client.close();
  }
  // Whatever the mutated creates made is released with their session after the grace period.
  await waitFor(async () => (await engineCounts(engine.uri)).objects === 0, 10_000, 'objects back to 0');
  const counts = await engineCounts(engine.uri);
  assert.equal(counts.pipelines, 0);
  assert.equal(counts.peerConnections, 0);
});
