/**
 * A WebSocket proxy between a Kurento client and a media server, for fault injection:
 * swallow chosen requests (a server that never answers them), or cut every socket at once
 * (a network drop: the client reconnects through the proxy to the same server).
 */
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';

export interface WsProxy {
  uri: string;
  /** JSON-RPC methods/operations swallowed so far ("invoke processOffer", "create", …). */
  readonly swallowed: string[];
  /** Terminates every proxied socket pair, without a closing handshake. */
  cutAll(): void;
  close(): Promise<void>;
}

/** `swallow(request)` true: the request is not forwarded, so it is never answered. */
export async function startWsProxy(targetUri: string, swallow: (request: { method?: string; params?: { operation?: string } }) => boolean = () => false): Promise<WsProxy> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const pairs = new Set<[WebSocket, WebSocket]>();
  const swallowed: string[] = [];

  server.on('connection', (client) => {
    const upstream = new WebSocket(targetUri);
    const pair: [WebSocket, WebSocket] = [client, upstream];
    pairs.add(pair);
    const pending: string[] = [];
    upstream.on('open', () => pending.splice(0).forEach((m) => upstream.send(m)));
    client.on('message', (data) => {
      const text = data.toString();
      const request = JSON.parse(text) as { method?: string; params?: { operation?: string } };
      if (swallow(request)) {
        swallowed.push([request.method, request.params?.operation].filter(Boolean).join(' '));
        return;
      }
      if (upstream.readyState === WebSocket.OPEN) upstream.send(text);
      else pending.push(text);
    });
    upstream.on('message', (data) => client.readyState === WebSocket.OPEN && client.send(data.toString()));
    const end = () => {
      pairs.delete(pair);
      client.terminate();
      upstream.terminate();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });

  return {
    uri: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/kurento`,
    swallowed,
    cutAll: () => {
      for (const [a, b] of pairs) {
        a.terminate();
        b.terminate();
      }
    },
    close: async () => {
      for (const [a, b] of pairs) {
        a.terminate();
        b.terminate();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
