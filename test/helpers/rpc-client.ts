/**
 * A bare JSON-RPC client for protocol tests: sends exactly the bytes a test gives and
 * records every message the server sends back, so tests can assert one reply per id.
 */
import { once } from 'node:events';
import { WebSocket } from 'ws';

export interface RawClient {
  /** Sends a raw text frame (or an object, stringified). */
  send(frame: string | object): void;
  /** Sends a request and waits for the reply with its id. */
  request(method: string, params?: object, id?: number | string): Promise<Reply>;
  /** Waits until a reply with this id arrives. */
  replyTo(id: number | string | null, timeoutMs?: number): Promise<Reply>;
  /** Every message received, in order. */
  readonly received: Reply[];
  readonly socket: WebSocket;
  close(): Promise<void>;
}

export interface Reply {
  id?: number | string | null;
  jsonrpc?: string;
  result?: { sessionId?: string; value?: any; [k: string]: any };
  error?: { code: number; message: string; data?: { type: string } };
  method?: string;
  params?: any;
}

let nextId = 1_000_000;

export async function connectRaw(uri: string): Promise<RawClient> {
  const socket = new WebSocket(uri);
  await once(socket, 'open');
  const received: Reply[] = [];
  const waiters = new Set<() => void>();
  socket.on('message', (data) => {
    received.push(JSON.parse(String(data)) as Reply);
    for (const w of waiters) w();
  });

  const replyTo = (id: number | string | null, timeoutMs = 10_000) =>
    new Promise<Reply>((resolve, reject) => {
      const check = () => {
        const r = received.find((m) => m.id === id && m.method === undefined);
        if (!r) return false;
        waiters.delete(onMessage);
        clearTimeout(timer);
        resolve(r);
        return true;
      };
      const onMessage = () => void check();
      const timer = setTimeout(() => {
        waiters.delete(onMessage);
        reject(new Error(`no reply to id ${String(id)} within ${timeoutMs} ms`));
      }, timeoutMs);
      if (!check()) waiters.add(onMessage);
    });

  return {
    socket,
    received,
    send: (frame) => socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame)),
    request(method, params = {}, id = nextId++) {
      socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
      return replyTo(id);
    },
    replyTo,
    async close() {
      if (socket.readyState === socket.CLOSED) return;
      socket.close();
      await once(socket, 'close');
    },
  };
}
