/**
 * The engine's Kurento Protocol, spoken byte for byte: answers and errors are compared with
 * what a real KMS 7 answered in the recorded session (shared/traces), and bad input must
 * get exactly one clear answer per request while the engine keeps serving.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startEngine, type EngineProcess } from '../engine/start.js';
import { connectRaw, type RawClient } from './helpers/rpc-client.js';
import { engineCounts } from './helpers/engine-counts.js';
import { waitFor } from './helpers/wait.js';

let engine: EngineProcess;
const logs: string[] = [];

before(async () => {
  engine = await startEngine({ graceMs: 800, log: (l) => logs.push(l) });
});
after(async () => {
  await engine?.close();
});

async function client(): Promise<RawClient> {
  return connectRaw(engine.uri);
}

describe('requests KMS answers', () => {
  test('ping, describe and ServerManager.getInfo have KMS shapes', async () => {
    const c = await client();
    assert.deepEqual((await c.request('ping', { interval: 240000 })).result, { value: 'pong' });

    const d = await c.request('describe', { object: 'manager_ServerManager' });
    assert.deepEqual(d.result?.hierarchy, ['kurento.MediaObject']);
    assert.equal(d.result?.qualifiedType, 'kurento.ServerManager');
    assert.equal(d.result?.type, 'ServerManager');
    assert.match(d.result!.sessionId!, /^[0-9a-f-]{36}$/);

    const info = (await c.request('invoke', { object: 'manager_ServerManager', operation: 'getInfo' })).result?.value;
    assert.equal(info.__module__, 'kurento');
    assert.equal(info.__type__, 'ServerInfo');
    assert.deepEqual(info.capabilities, ['transactions']);
    const factories = info.modules.flatMap((m: { factories: string[] }) => m.factories);
    for (const f of ['MediaPipeline', 'PassThrough', 'WebRtcEndpoint', 'FaceOverlayFilter']) assert.ok(factories.includes(f), f);
    assert.ok(info.modules.some((m: { name: string }) => m.name === 'magicmirror-engine'), 'engine identifies itself');
    await c.close();
  });

  test('create, describe, children, tags, connections and release', async () => {
    const c = await client();
    const pipeline = (await c.request('create', { type: 'MediaPipeline', constructorParams: {}, properties: {} })).result!.value as string;
    assert.match(pipeline, /^[0-9a-f-]{36}_kurento\.MediaPipeline$/);
    const a = (await c.request('create', { type: 'PassThrough', constructorParams: { mediaPipeline: pipeline } })).result!.value as string;
    const b = (await c.request('create', { type: 'PassThrough', constructorParams: { mediaPipeline: pipeline } })).result!.value as string;
    assert.ok(a.startsWith(`${pipeline}/`) && a.endsWith('_kurento.PassThrough'));

    const desc = await c.request('describe', { object: a });
    assert.deepEqual(desc.result?.hierarchy, ['kurento.MediaElement', 'kurento.MediaObject']);

    const invoke = async (object: string, operation: string, operationParams: object = {}) => {
      const r = await c.request('invoke', { object, operation, operationParams });
      assert.equal(r.error, undefined, `${operation}: ${JSON.stringify(r.error)}`);
      return r.result!.value;
    };
    assert.deepEqual(await invoke(pipeline, 'getChildren'), [a, b]);
    assert.equal(await invoke(a, 'getMediaPipeline'), pipeline);
    assert.equal(await invoke(a, 'getParent'), pipeline);
    assert.equal(await invoke(a, 'getName'), a);
    await invoke(a, 'setName', { name: 'mirror' });
    assert.equal(await invoke(a, 'getName'), 'mirror');
    await invoke(a, 'addTag', { key: 'k', value: 'v' });
    assert.deepEqual(await invoke(a, 'getTags'), [{ __module__: 'kurento', __type__: 'Tag', key: 'k', value: 'v' }]);
    assert.equal((await c.request('invoke', { object: a, operation: 'getTag', operationParams: { key: 'nope' } })).error?.code, 40110);

    const connected: unknown[] = [];
    await c.request('subscribe', { object: a, type: 'ElementConnected' });
    c.socket.on('message', (m) => {
      const msg = JSON.parse(String(m));
      if (msg.method === 'onEvent') connected.push(msg.params.value);
    });
    assert.equal(await invoke(a, 'connect', { sink: b }), null);
    const sinks = await invoke(a, 'getSinkConnections');
    assert.deepEqual(
      sinks.map((s: { type: string }) => s.type),
      ['AUDIO', 'DATA', 'VIDEO'],
    );
    assert.equal(sinks[0].__type__, 'ElementConnectionData');
    assert.equal(sinks[0].source, a);
    assert.equal(sinks[0].sinkDescription, 'default');
    await waitFor(() => connected.length === 3);
    const event = connected[0] as { object: string; type: string; data: Record<string, unknown> };
    assert.equal(event.object, a);
    assert.equal(event.type, 'ElementConnected');
    assert.equal(event.data.source, a);
    assert.equal(event.data.sink, b);
    assert.equal(event.data.type, 'ElementConnected');
    assert.match(String(event.data.timestampMillis), /^\d{13}$/);
    assert.deepEqual(event.data.tags, []);

    // A property we store but do not act on keeps its value.
    await invoke(a, 'setEncoderBitrate', { encoderBitrate: 123 });
    assert.equal(await invoke(a, 'getEncoderBitrate'), 123);

    const pipelines = await invoke('manager_ServerManager', 'getPipelines');
    assert.ok(pipelines.includes(pipeline));
    const released = await c.request('release', { object: pipeline });
    assert.deepEqual(Object.keys(released.result!), ['sessionId']);
    assert.equal((await c.request('describe', { object: a })).error?.code, 40101);
    assert.equal((await engineCounts(engine.uri)).pipelines, 0);
    await c.close();
  });

  test('transactions resolve newref: references, each operation answered', async () => {
    const c = await client();
    const r = await c.request('transaction', {
      operations: [
        { jsonrpc: '2.0', id: 0, method: 'create', params: { type: 'MediaPipeline', constructorParams: {} } },
        { jsonrpc: '2.0', id: 1, method: 'create', params: { type: 'PassThrough', constructorParams: { mediaPipeline: 'newref:0' } } },
        { jsonrpc: '2.0', id: 2, method: 'invoke', params: { object: 'newref:1', operation: 'getMediaPipeline' } },
        { jsonrpc: '2.0', id: 3, method: 'create', params: { type: 'NoSuchType', constructorParams: {} } },
      ],
    });
    const [p, e, g, bad] = r.result!.value as { result?: { value: string }; error?: { code: number } }[];
    assert.match(p!.result!.value, /_kurento\.MediaPipeline$/);
    assert.ok(e!.result!.value.startsWith(p!.result!.value + '/'));
    assert.equal(g!.result!.value, p!.result!.value);
    assert.equal(bad!.error!.code, 40108);
    await c.request('release', { object: p!.result!.value });
    await c.close();
  });
});

describe('errors KMS returns, as it returns them', () => {
  // Requests and answers from the `raw` and `errors` scenarios of the recorded real-KMS session.
  const cases: [string, object, object][] = [
    ['unknown object', { method: 'describe', params: { object: 'nope_kurento.MediaPipeline' } }, { code: 40101, data: { type: 'MEDIA_OBJECT_NOT_FOUND' }, message: "Object 'nope_kurento.MediaPipeline' not found" }],
    ['unknown type', { method: 'create', params: { type: 'NoSuchType', constructorParams: {} } }, { code: 40108, data: { type: 'MEDIA_OBJECT_NOT_AVAILABLE' }, message: "Factory 'NoSuchType' not found" }],
    ['missing pipeline', { method: 'create', params: { type: 'WebRtcEndpoint', constructorParams: {} } }, { code: 40001, data: { type: 'MARSHALL_ERROR' }, message: "'mediaPipeline' parameter should be a string" }],
    ['unknown pipeline', { method: 'create', params: { type: 'WebRtcEndpoint', constructorParams: { mediaPipeline: 'nope_kurento.MediaPipeline' } } }, { code: 40101, data: { type: 'MEDIA_OBJECT_NOT_FOUND' }, message: "Object 'nope_kurento.MediaPipeline' not found" }],
    ['invoke on unknown object', { method: 'invoke', params: { object: 'nope_kurento.MediaPipeline', operation: 'getName', operationParams: {} } }, { code: 40101, data: { type: 'MEDIA_OBJECT_NOT_FOUND' }, message: "Object 'nope_kurento.MediaPipeline' not found" }],
    ['unknown JSON-RPC method', { method: 'noSuchMethod', params: {} }, { code: -32601, message: 'Method not found.' }],
    ['connect to an unknown session', { method: 'connect', params: { sessionId: 'not-a-session' } }, { code: 40007, data: { type: 'INVALID_SESSION' }, message: 'Invalid session' }],
    ['subscribe on unknown object', { method: 'subscribe', params: { object: 'nope_kurento.MediaPipeline', type: 'Error' } }, { code: 40101, data: { type: 'MEDIA_OBJECT_NOT_FOUND' }, message: "Object 'nope_kurento.MediaPipeline' not found" }],
  ];
  for (const [name, request, error] of cases) {
    test(name, async () => {
      const c = await client();
      c.send({ jsonrpc: '2.0', id: 9001, ...request });
      const reply = await c.replyTo(9001);
      assert.deepEqual(reply, { error, id: 9001, jsonrpc: '2.0' });
      await c.close();
    });
  }

  test('wrong JSON-RPC version → -32600 with id null', async () => {
    const c = await client();
    c.send({ jsonrpc: '1.0', id: 9009, method: 'ping', params: {} });
    assert.deepEqual(await c.replyTo(null), { error: { code: -32600, message: 'Invalid JSON-RPC request.' }, id: null, jsonrpc: '2.0' });
    await c.close();
  });

  test('releasing an unknown object succeeds, as in KMS', async () => {
    const c = await client();
    const r = await c.request('release', { object: 'nope_kurento.MediaPipeline' });
    assert.equal(r.error, undefined);
    await c.close();
  });

  test('filter and endpoint parameter errors', async () => {
    const c = await client();
    const pipeline = (await c.request('create', { type: 'MediaPipeline', constructorParams: {} })).result!.value as string;
    const filter = (await c.request('create', { type: 'FaceOverlayFilter', constructorParams: { mediaPipeline: pipeline } })).result!.value as string;
    const endpoint = (await c.request('create', { type: 'WebRtcEndpoint', constructorParams: { mediaPipeline: pipeline } })).result!.value as string;

    const stringOffset = await c.request('invoke', {
      object: filter,
      operation: 'setOverlayedImage',
      operationParams: { uri: 'http://127.0.0.1:1/img.png', offsetXPercent: '-0.2F', offsetYPercent: -1.2, widthPercent: 1.6, heightPercent: 1.6 },
    });
    assert.deepEqual(stringOffset.error, { code: 40001, data: { type: 'MARSHALL_ERROR' }, message: "'offsetXPercent' parameter should be a double" });

    const badSdp = await c.request('invoke', { object: endpoint, operation: 'processOffer', operationParams: { offer: 'not an sdp' } });
    assert.deepEqual(badSdp.error, { code: 40201, data: { type: 'SDP_PARSE_ERROR' }, message: 'Invalid SDP' });

    const garbage = await c.request('invoke', {
      object: endpoint,
      operation: 'addIceCandidate',
      operationParams: { candidate: { candidate: 'garbage', sdpMid: '0', sdpMLineIndex: 0, __module__: 'kurento', __type__: 'IceCandidate' } },
    });
    assert.equal(garbage.error, undefined, 'KMS accepts an unparsable candidate');

    const answer = await c.request('invoke', { object: endpoint, operation: 'processAnswer', operationParams: { answer: 'v=0' } });
    assert.deepEqual(answer.error, {
      code: 40209,
      data: { type: 'SDP_END_POINT_NOT_OFFER_GENERATED' },
      message: 'Offer not generated. It is not possible to process an answer.',
    });

    const badEvent = await c.request('subscribe', { object: filter, type: 'IceCandidateFound' });
    assert.equal(badEvent.error?.code, 40106);
    const badMethod = await c.request('invoke', { object: filter, operation: 'processOffer', operationParams: { offer: 'x' } });
    assert.equal(badMethod.error?.code, 40105);
    const notBuilt = await c.request('create', { type: 'PlayerEndpoint', constructorParams: { mediaPipeline: pipeline, uri: 'file:///x.webm' } });
    assert.equal(notBuilt.error?.code, 40006);
    const abstract = await c.request('create', { type: 'MediaElement', constructorParams: { mediaPipeline: pipeline } });
    assert.equal(abstract.error?.code, 40108);
    const wrongSinkType = await c.request('invoke', { object: filter, operation: 'connect', operationParams: { sink: pipeline } });
    assert.equal(wrongSinkType.error?.code, 40001);

    await c.request('release', { object: pipeline });
    await c.close();
  });
});

describe('bad input: one answer per request, engine keeps serving', () => {
  test('several messages in one frame are all answered', async () => {
    const c = await client();
    c.send('{"jsonrpc":"2.0","id":1,"method":"ping"}{"jsonrpc":"2.0","id":2,"method":"ping"}\n{"jsonrpc":"2.0","id":3,"method":"describe","params":{"object":"manager_ServerManager"}}');
    for (const id of [1, 2, 3]) assert.ok((await c.replyTo(id)).result, `reply ${id}`);
    await c.close();
  });

  test('malformed JSON → -32700, socket stays open', async () => {
    const c = await client();
    c.send('{"jsonrpc":"2.0","id":1,"method":');
    assert.equal((await c.replyTo(null)).error?.code, -32700);
    c.send('not json at all');
    await waitFor(() => c.received.filter((m) => m.error?.code === -32700).length === 2);
    assert.ok((await c.request('ping')).result);
    await c.close();
  });

  test('notifications get no answer', async () => {
    const c = await client();
    c.send({ jsonrpc: '2.0', method: 'ping', params: {} });
    c.send({ jsonrpc: '2.0', method: 'noSuchMethod' });
    const r = await c.request('ping');
    assert.ok(r.result);
    assert.equal(c.received.length, 1);
    await c.close();
  });

  test('an oversized message is refused with its id, the socket stays usable', async () => {
    const c = await client();
    c.send({ jsonrpc: '2.0', id: 77, method: 'ping', params: { pad: 'x'.repeat(2 * 1024 * 1024) } });
    const r = await c.replyTo(77);
    assert.equal(r.error?.code, -32600);
    assert.match(r.error!.message, /too large/);
    assert.ok((await c.request('ping')).result);
    await c.close();
  });
});

describe('sessions', () => {
  test('connect resumes a session within the grace period; after it the objects are released', async () => {
    const c1 = await client();
    const created = await c1.request('create', { type: 'MediaPipeline', constructorParams: {} });
    const sessionId = created.result!.sessionId!;
    const pipeline = created.result!.value as string;
    await c1.close();

    const c2 = await client();
    const resumed = await c2.request('connect', { sessionId });
    assert.equal(resumed.result?.sessionId, sessionId);
    assert.equal((await c2.request('describe', { object: pipeline, sessionId })).result?.type, 'MediaPipeline');
    await c2.close();

    const pipelineGone = async () => {
      const probe = await client();
      const r = await probe.request('invoke', { object: 'manager_ServerManager', operation: 'getPipelines' });
      await probe.close();
      return !(r.result!.value as string[]).includes(pipeline);
    };
    await waitFor(pipelineGone, 5000, 'pipeline released after the grace period');
    const c3 = await client();
    assert.equal((await c3.request('connect', { sessionId })).error?.code, 40007);
    await c3.close();
    assert.ok(logs.some((l) => l.includes(`released ${pipeline}`)), 'one log line per released object');
  });
});
