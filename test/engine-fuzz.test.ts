/**
 * 1,000 messages mutated from real kurento-client traffic (the recorded KMS session in
 * test/fixtures/kms-trace.jsonl): each request with a usable id gets exactly one answer,
 * notifications none, unparsable text a -32700; afterwards the engine still runs a normal
 * media session and every object the fuzzing created is gone once its session expires.
 * The seed is printed; FUZZ_SEED=<n> replays a run.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { startEngine, type EngineProcess } from '../engine/start.js';
import { kurentoClient, connectFakeCamera } from './helpers/kurento.js';
import { connectRaw } from './helpers/rpc-client.js';
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

/** A small deterministic PRNG (mulberry32), so a printed seed replays the same run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Json = Record<string, any>;

const recorded: Json[] = readFileSync(new URL('./fixtures/kms-trace.jsonl', import.meta.url), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l))
  .filter((r) => r.dir === 'c2s')
  .map((r) => r.msg);

const WEIRD_VALUES = [null, 0, -1, 1e308, '', 'x'.repeat(1000), [], {}, true, { __proto__: { polluted: 1 } }, 'newref:99', 'manager_ServerManager', '../../etc/passwd', '\u0000\uffff'];

function mutate(msg: Json, rand: () => number): { text: string; expectId?: number | string; expectParseError?: boolean } {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const m: Json = structuredClone(msg);
  const paths: string[][] = [];
  const walk = (o: unknown, p: string[]) => {
    if (o && typeof o === 'object') for (const k of Object.keys(o)) (paths.push([...p, k]), walk((o as Json)[k], [...p, k]));
  };
  walk(m, []);
  const setPath = (p: string[], v: unknown) => {
    let o: Json = m;
    for (const k of p.slice(0, -1)) o = o[k];
    if (v === undefined) delete o[p[p.length - 1]!];
    else o[p[p.length - 1]!] = v;
  };
  const kind = pick(['replace', 'replace', 'delete', 'method', 'truncate', 'garbage', 'concat', 'notification', 'deep']);
  switch (kind) {
    case 'replace':
      setPath(pick(paths), pick(WEIRD_VALUES));
      break;
    case 'delete':
      setPath(pick(paths), undefined);
      break;
    case 'method':
      m.method = pick(['create', 'invoke', 'release', 'subscribe', 'unsubscribe', 'describe', 'transaction', 'connect', 'ping', 'nope', 'closeSession']);
      break;
    case 'notification':
      delete m.id;
      break;
    case 'deep': {
      let nested: Json = {};
      const root = nested;
      for (let i = 0; i < 200; i++) nested = nested.a = {};
      setPath(pick(paths), root);
      break;
    }
  }
  const text = JSON.stringify(m);
  if (kind === 'truncate') return { text: text.slice(0, Math.floor(rand() * (text.length - 1))), expectParseError: true };
  if (kind === 'garbage') {
    const at = Math.floor(rand() * text.length);
    return { text: `${text.slice(0, at)}\u0001}{]${text.slice(at)}` };
  }
  if (kind === 'concat') {
    const other = { ...pick(recorded), id: `c${m.id}` };
    return { text: text + JSON.stringify(other) };
  }
  const validRequest = m.jsonrpc === '2.0' && typeof m.method === 'string' && (typeof m.id === 'number' || typeof m.id === 'string');
  return { text, expectId: validRequest ? m.id : undefined };
}

test(`${MESSAGES} mutated kurento-client messages: one answer per request id, engine keeps serving`, async (t) => {
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
  t.diagnostic(`fuzz seed ${seed} (FUZZ_SEED=${seed} replays it)`);
  const rand = prng(seed);
  const c = await connectRaw(engine.uri);
  const expected = new Map<number | string, number>();
  for (let i = 0; i < MESSAGES; i++) {
    const base = { ...recorded[Math.floor(rand() * recorded.length)]!, id: i };
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
