/**
 * The Kurento connection layer on its own: every way of not reaching a media server gives
 * one readable sentence (and never an unhandled 'error' event), requests racing a close do
 * not crash the process, and `builtin` is one engine, started on demand, reused, and started
 * again after it dies.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WebSocketServer } from 'ws';
import { KmsConnection } from '../main/kms/kms-connection.js';
import { KmsRegistry } from '../main/kms/kms-registry.js';
import { MirrorError } from '../main/problems.js';
import { selfSignedCertificate } from '../main/web/tls-certificate.js';
import { engineCounts } from './helpers/engine-counts.js';
import { connectRaw } from './helpers/rpc-client.js';

const quiet = () => {};
let tmp: string;
before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'mirror-kms-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Runs open() and returns its MirrorError (failing if it opened). */
async function openError(uri: string, connectMs = 2000): Promise<MirrorError> {
  try {
    (await KmsConnection.open(uri, { timeouts: { connectMs, callMs: 1000 } })).close();
  } catch (err) {
    assert.ok(err instanceof MirrorError, String(err));
    return err;
  }
  throw new Error(`opened ${uri}`);
}

async function listen<S extends http.Server | WebSocketServer>(server: S): Promise<{ server: S; port: number }> {
  await new Promise<void>((resolve) => (server instanceof WebSocketServer ? server.once('listening', resolve) : server.listen(0, '127.0.0.1', resolve)));
  return { server, port: (server.address() as AddressInfo).port };
}

/** A WebSocket server answering JSON-RPC requests with `answer(request)`. */
function fakeServer(answer: (request: { id: number; method: string; params: Record<string, unknown> }) => object) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss.on('connection', (ws) =>
    ws.on('message', (data) => {
      const request = JSON.parse(String(data));
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: request.id, ...answer(request) }));
    }));
  return wss;
}

describe('KmsConnection.open: each failure in words', () => {
  test('refused, unknown host, TLS to a plain server, self-signed TLS, plain HTTP', async () => {
    const plain = await listen(http.createServer((_req, res) => res.end('hello')));
    const { key, cert } = await selfSignedCertificate('127.0.0.1', tmp);
    const tls = await listen(https.createServer({ key, cert }, (_req, res) => res.end('hello')));
    try {
      const cases: [string, string][] = [
        ['ws://127.0.0.1:1/kurento', 'Cannot reach the media server at ws://127.0.0.1:1/kurento: connection refused. Is Kurento Media Server running there?'],
        ['ws://no-such-host.invalid:8888/kurento', 'Cannot reach the media server at ws://no-such-host.invalid:8888/kurento: the host name "no-such-host.invalid" was not found.'],
        [`wss://127.0.0.1:${plain.port}/kurento`, `Cannot reach the media server at wss://127.0.0.1:${plain.port}/kurento: the secure connection failed (the server does not speak TLS on this port: try ws:// instead of wss://).`],
        [`wss://127.0.0.1:${tls.port}/kurento`, `Cannot reach the media server at wss://127.0.0.1:${tls.port}/kurento: the secure connection failed (the server's certificate is self-signed).`],
        [`ws://127.0.0.1:${plain.port}/kurento`, `The server at ws://127.0.0.1:${plain.port}/kurento is not a Kurento media server (it answered HTTP 200 instead of opening a WebSocket).`],
      ];
      for (const [uri, message] of cases) {
        const err = await openError(uri);
        assert.equal(err.problem, 'kms-unreachable', uri);
        assert.equal(err.message, message);
      }
    } finally {
      plain.server.close();
      tls.server.close();
    }
  });

  test('a JSON-RPC server that is not Kurento, and a Kurento without FaceOverlayFilter', async () => {
    const other = await listen(fakeServer(() => ({ error: { code: -32601, message: 'Method not found' } })));
    const noFilters = await listen(
      fakeServer((r) =>
        r.method === 'describe'
          ? { result: { sessionId: 's', type: 'ServerManager', qualifiedType: 'kurento.ServerManager', hierarchy: ['kurento.MediaObject'] } }
          : r.method === 'invoke'
            ? { result: { sessionId: 's', value: { version: '7.0.0', type: 'KMS', modules: [{ name: 'core', version: '7.0.0', factories: ['MediaPipeline'] }] } } }
            : { result: { value: 'pong' } }),
    );
    try {
      const a = await openError(`ws://127.0.0.1:${other.port}/kurento`);
      assert.equal(a.message, `The server at ws://127.0.0.1:${other.port}/kurento is not a Kurento media server (it answered "Method not found").`);
      const b = await openError(`ws://127.0.0.1:${noFilters.port}/kurento`);
      assert.equal(b.message, `The media server at ws://127.0.0.1:${noFilters.port}/kurento (Kurento 7.0.0) has no FaceOverlayFilter (its "filters" module is not installed).`);
    } finally {
      for (const s of [other.server, noFilters.server]) {
        for (const c of s.clients) c.terminate();
        s.close();
      }
    }
  });
});

describe('KmsRegistry and the built-in engine', () => {
  // A short call timeout: kurento-jsonrpc keeps a timer per unanswered request for that long (+1 s).
  const registry = new KmsRegistry({ timeouts: { callMs: 1000 }, log: quiet, engineLog: quiet });
  after(() => registry.close());

  test('builtin: one engine, started on demand and reused', async () => {
    const [a, b] = await Promise.all([registry.get('builtin'), registry.get('builtin')]);
    assert.equal(a, b, 'concurrent gets share one connection');
    assert.match(a.uri, /^ws:\/\/127\.0\.0\.1:\d+\/kurento\/[\w-]{32}$/, 'the engine is reached through its per-launch secret');
    assert.equal(a.label, a.uri.replace(/\/[\w-]{32}$/, ''), 'texts and logs leave the secret out');
    assert.equal(await registry.get('builtin'), a);
    assert.equal((await registry.engine.start()).uri, a.uri);
  });

  test("requests still in flight when a connection closes ('write after end' in kurento-client) do not crash the process", async () => {
    const connection = await KmsConnection.open((await registry.get('builtin')).uri, { timeouts: { callMs: 1000 } });
    const { pipeline } = await connection.createPipeline();
    const { element: endpoint } = await connection.createElement(pipeline, 'WebRtcEndpoint');
    const subscriptionErrors: MirrorError[] = [];
    connection.catchSubscriptionErrors(endpoint, (err) => subscriptionErrors.push(err));
    const calls = [connection.call<void>('gatherCandidates', (done) => endpoint.gatherCandidates(done)), connection.release(pipeline)];
    endpoint.on('IceCandidateFound', () => {});
    connection.close();
    const [gathered] = await Promise.allSettled(calls);
    assert.equal(gathered.status, 'rejected');
    assert.equal((gathered as PromiseRejectedResult).reason.problem, 'kms-lost');
    await new Promise((r) => setTimeout(r, 300)); // the asynchronous 'error' events have fired by now
    assert.deepEqual(subscriptionErrors.map((e) => e.problem), ['kms-lost']);
    // The release raced the close: the engine would keep the pipeline for its grace period. Release it from another session.
    const uri = (await registry.get('builtin')).uri;
    const raw = await connectRaw(uri);
    await raw.request('release', { object: pipeline.id });
    await raw.close();
    assert.equal((await engineCounts(uri)).pipelines, 0);
  });

  test("load() counts another client's pipelines, also while that client releases them (kurento-client describes each one first)", async () => {
    const uri = (await registry.get('builtin')).uri;
    const counter = await KmsConnection.open(uri, { timeouts: { callMs: 2000 } });
    const other = await connectRaw(uri);
    const base = (await counter.load(0, 2000)).pipelines;
    try {
      // Loads one after another while the other client releases its pipelines one by one: each
      // load's getPipelines lists some that are gone by the time kurento-client describes them.
      // Without the retry, load() failed with "Object '…' not found" in every run of 5.
      for (let round = 0; round < 3; round++) {
        const created = await Promise.all(Array.from({ length: 40 }, () => other.request('create', { type: 'MediaPipeline', constructorParams: {}, properties: {} })));
        assert.equal((await engineCounts(uri)).pipelines, base + 40); // not load(): kurento-client would know them then
        let releasing = true;
        const releases = (async () => {
          for (const r of created) await other.request('release', { object: r.result!.value as string });
          releasing = false;
        })();
        const counts: number[] = [];
        try {
          while (releasing) counts.push((await counter.load(0, 2000)).pipelines);
        } finally {
          await releases;
        }
        assert.ok(counts.length > 0 && counts.every((n) => n >= base && n <= base + 40), `round ${round}: ${counts.join(', ')}`);
      }
      assert.equal((await counter.load(0, 2000)).pipelines, base);
    } finally {
      await other.close();
      counter.close();
    }
  });

  test('a built-in engine that dies is reported to its sessions and replaced on the next use', async () => {
    const a = await registry.get('builtin');
    const lost: MirrorError[] = [];
    a.on('lost', (err) => lost.push(err));
    process.kill((await registry.engine.start()).pid, 'SIGKILL');
    await new Promise((r) => (a.state === 'closed' ? r(undefined) : a.once('closed', () => r(undefined))));
    assert.equal(lost.length, 1);
    assert.equal(lost[0]!.problem, 'kms-lost');
    assert.equal(lost[0]!.message, 'The built-in media server stopped unexpectedly (signal SIGKILL). Start the mirror again.');

    const b = await registry.get('builtin');
    assert.notEqual(b, a, 'a new connection');
    assert.notEqual(b.uri, a.uri, 'to a new engine');
    assert.equal((await engineCounts(b.uri)).pipelines, 0);
  });
});
