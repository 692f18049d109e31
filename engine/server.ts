/**
 * The engine's network face: HTTP + WebSocket on `ws://host:port/kurento`, like KMS.
 * Each socket is a Connection for the dispatcher; nothing here knows the protocol.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { Dispatcher, type Connection } from './protocol/dispatcher.js';
import { detectionService } from './vision/detection-service.js';

export const ENGINE_DEFAULTS = {
  host: '127.0.0.1',
  port: 8888,
  path: '/kurento',
  graceMs: 30_000,
  maxMessageBytes: 1024 * 1024,
  maxObjectsPerSession: 200,
} as const;

export interface EngineOptions {
  host?: string;
  port?: number;
  graceMs?: number;
  maxMessageBytes?: number;
  maxObjectsPerSession?: number;
  /** Warm the face detector as soon as the engine listens (the app's engines do; see DetectionService.warmUp). */
  warmUp?: boolean;
  log?: (line: string) => void;
}

export interface RunningEngine {
  uri: string;
  dispatcher: Dispatcher;
  close(): Promise<void>;
}

export async function serveEngine(options: EngineOptions = {}): Promise<RunningEngine> {
  const opts = { ...ENGINE_DEFAULTS, log: (line: string) => console.error(`[engine] ${line}`), ...options };
  const dispatcher = new Dispatcher(opts);
  const server = http.createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' });
    res.end(`Magic Mirror engine: a Kurento Protocol server. Connect a Kurento client to ws://<host>:<port>${opts.path}\n`);
  });
  // ws's own limit only guards memory; the dispatcher answers anything over maxMessageBytes with an error.
  const wss = new WebSocketServer({ server, path: opts.path, maxPayload: Math.max(opts.maxMessageBytes * 4, 16 * 1024 * 1024) });

  wss.on('connection', (ws: WebSocket) => {
    const conn: Connection = {
      send: (message) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
      },
    };
    // kurento-client's websocket-stream transport sends binary frames: both kinds are UTF-8 JSON text.
    ws.on('message', (data) => {
      dispatcher.onFrame(conn, data.toString()).catch((err) => opts.log(`error handling frame: ${String(err)}`));
    });
    ws.on('close', () => dispatcher.onClose(conn));
    ws.on('error', (err) => opts.log(`socket error: ${err.message}`));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  // The first session should not wait for the detector's model (a FaceOverlayFilter would start it otherwise).
  if (opts.warmUp) detectionService().warmUp();
  const { port } = server.address() as AddressInfo;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const uri = `ws://${host}:${port}${opts.path}`;

  return {
    uri,
    dispatcher,
    close: async () => {
      dispatcher.close();
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
