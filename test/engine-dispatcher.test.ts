/**
 * The dispatcher's session bookkeeping when a socket closes while its messages are still being
 * handled — found by the soak (seed 444614: a fuzz batch's MediaPipeline outlived its session).
 * Driven directly, so the interleaving is exact: onFrame handles the first message of a frame
 * synchronously and every later one after an await, which is where a close can come in.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Dispatcher, type Connection } from '../engine/protocol/dispatcher.js';
import { waitFor } from './helpers/wait.js';

const GRACE_MS = 30;
const createPipeline = (id: number) => JSON.stringify({ id, jsonrpc: '2.0', method: 'create', params: { type: 'MediaPipeline', constructorParams: {}, properties: {} } });

function setup() {
  const logs: string[] = [];
  const d = new Dispatcher({ graceMs: GRACE_MS, maxMessageBytes: 1 << 20, maxObjectsPerSession: 200, log: (l) => logs.push(l) });
  const sent: object[] = [];
  const conn: Connection = { send: (m) => sent.push(m) };
  return { d, conn, sent, logs };
}

test('a socket that closes mid-frame: the rest of the frame creates nothing, and the session still expires', async () => {
  const { d, conn, logs } = setup();
  try {
    const handled = d.onFrame(conn, createPipeline(1) + createPipeline(2) + createPipeline(3));
    d.onClose(conn); // after the first message, before the others
    await handled;
    assert.equal(d.registry.size, 1, 'only the message handled before the close created an object');
    await waitFor(() => d.sessionCount === 0 && d.registry.size === 0, 2000, 'the session expired and its pipeline was released')
      .catch((err: Error) => assert.fail(`${err.message}: ${d.sessionCount} session(s), ${d.registry.size} object(s) left; log:\n${logs.join('\n')}`));
  } finally {
    d.close();
  }
});

test('a message handled after its session expired does not start the session anew', async () => {
  const { d, conn } = setup();
  try {
    await d.onFrame(conn, createPipeline(1));
    d.onClose(conn);
    await waitFor(() => d.sessionCount === 0, 2000, 'session expired');
    const reply = (await d.onMessage(conn, JSON.parse(createPipeline(2)))) as { error?: { message: string } };
    assert.match(reply.error?.message ?? '', /closed the connection/);
    assert.equal(d.sessionCount, 0);
    assert.equal(d.registry.size, 0);
  } finally {
    d.close();
  }
});
