/**
 * The engine's network face: HTTP + WebSocket on `ws://host:port/kurento`, like KMS.
 * Each socket is a Connection for the dispatcher; nothing here knows the protocol.
 *
 * Who may connect (docs/security.md): never a web page — every upgrade that carries an
 * `Origin` header is refused (browsers always send one; Node Kurento clients, ours and
 * kurento-client, send none) — and, when the engine was started with a secret (the app and web
 * mode do), only a client that knows it: the path is then `/kurento/<secret>`, printed once on
 * stdout to the parent. Sockets are counted: past maxConnections an upgrade is refused.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
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
  /** Sessions one socket may start by naming new ids (kurento-client uses one; a restart-resume adds one). */
  maxSessionsPerConnection: 4,
  /** Open sockets at once; more are refused (503) before they cost anything. */
  maxConnections: 128,
  /** Peer connections in the whole engine (2 cores mirror about 8 at full rate). */
  maxWebRtcEndpoints: 100,
} as const;

export interface EngineOptions {
  host?: string;
  port?: number;
  graceMs?: number;
  maxMessageBytes?: number;
  maxObjectsPerSession?: number;
  maxSessionsPerConnection?: number;
  maxConnections?: number;
  maxWebRtcEndpoints?: number;
  /**
   * Require a per-launch secret in the path (`/kurento/<secret>`): true makes a fresh random one,
   * a string uses that one. The returned uri carries it. Absent: KMS's plain `/kurento`.
   */
  secret?: boolean | string;
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
  const secret = opts.secret === true ? randomBytes(24).toString('base64url') : opts.secret || undefined;
  const wsPath = secret ? `${opts.path}/${secret}` : opts.path;
  const server = http.createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' });
    res.end(`Magic Mirror engine: a Kurento Protocol server. Connect a Kurento client to ws://<host>:<port>${opts.path}\n`);
  });
  // ws's own limit only guards memory; the dispatcher answers anything over maxMessageBytes with an error.
  const wss = new WebSocketServer({ noServer: true, maxPayload: Math.max(opts.maxMessageBytes * 4, 16 * 1024 * 1024) });
  server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    const refusal = upgradeRefusal(req, wsPath, wss.clients.size, opts.maxConnections);
    if (refusal) {
      opts.log(`refused a WebSocket from ${req.socket.remoteAddress ?? '?'}: ${refusal.why}`);
      socket.end(`HTTP/1.1 ${refusal.status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

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
  const uri = `ws://${host}:${port}${wsPath}`;

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

/**
 * Why an upgrade is refused, or undefined. A browser page (any site the user visits can try
 * localhost) always sends Origin; the wrong path hides whether a secret is wanted; the secret
 * is compared in constant time.
 */
function upgradeRefusal(req: http.IncomingMessage, wsPath: string, open: number, max: number): { status: string; why: string } | undefined {
  if (req.headers.origin !== undefined) return { status: '403 Forbidden', why: `it came from a web page (Origin ${String(req.headers.origin).slice(0, 100)})` };
  const path = (req.url ?? '').split('?')[0]!;
  const a = Buffer.from(path);
  const b = Buffer.from(wsPath);
  if (a.length !== b.length || !timingSafeEqual(a, b)) return { status: '404 Not Found', why: 'wrong path' };
  if (open >= max) return { status: '503 Service Unavailable', why: `${open} sockets already open (limit ${max})` };
  return undefined;
}
