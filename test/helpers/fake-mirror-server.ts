/**
 * A stand-in for the web mode's server, for renderer tests: serves a directory (the renderer
 * build) with a Content-Security-Policy header, and speaks the mirror protocol
 * (common/mirror-protocol.ts) on ws path /magicmirror through a script each test sets.
 *
 *   const server = await startFakeMirrorServer({ root: 'dist/renderer', csp: STRICT_CSP });
 *   server.script = (msg, reply) => { if (msg.id === 'start') reply({ id: 'error', message: '…', code: 'busy' }); };
 *   await page.goto(server.url);
 *
 * Pitfalls:
 * - With accepting = false the HTTP server still serves pages but destroys WebSocket upgrade
 *   requests, which the browser sees as an unreachable server (and logs a console error).
 * - script runs for every message of every client; tests here use one page at a time.
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { MIRROR_WS_PATH, parseClientMessage, type ClientMessage, type ServerMessage } from '../../common/mirror-protocol.js';
import { buildRenderer, RENDERER_DIST, ROOT } from './build-renderer.js';
import { launchChromium, type ChromiumHandle } from './chromium.js';
import { EchoPeer } from './echo-peer.js';
import { makeY4m } from './video-fixtures.js';

export type MirrorScript = (message: ClientMessage, reply: (message: ServerMessage) => void) => void | Promise<void>;

export interface FakeMirrorServer {
  /** http://127.0.0.1:port, no trailing slash. */
  url: string;
  /** Handles each page → server message; the default ignores them. */
  script: MirrorScript;
  /** Every page → server message received, in order. */
  received: ClientMessage[];
  /** Messages outside the protocol and failures of script: a test expects none. */
  errors: string[];
  /** false: WebSocket connections are refused, as when the server is down. */
  accepting: boolean;
  /** Closes every open WebSocket, as when the server dies. */
  dropClients(): void;
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json',
};

export interface FakeMirrorServerOptions {
  /** Directory served at /, index.html for paths ending in /. */
  root: string;
  /** The Content-Security-Policy header sent with every response. */
  csp: string;
  /** Extra in-memory files by path, typed by their extension (e.g. '/echo.html'). */
  routes?: Record<string, string | Buffer>;
}

export async function startFakeMirrorServer(opts: FakeMirrorServerOptions): Promise<FakeMirrorServer> {
  const base = path.resolve(opts.root);
  const server = http.createServer(async (req, res) => {
    let pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (pathname.endsWith('/')) pathname += 'index.html';
    const headers = { 'content-security-policy': opts.csp, 'cache-control': 'no-store' };
    const file = path.join(base, pathname);
    try {
      const route = opts.routes?.[pathname];
      if (route === undefined && !file.startsWith(base + path.sep)) throw new Error('outside root');
      const body = route ?? (await readFile(file));
      res.writeHead(200, { ...headers, 'content-type': CONTENT_TYPES[path.extname(pathname)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404, headers).end();
    }
  });

  const wss = new WebSocketServer({ noServer: true });
  const fake: FakeMirrorServer = {
    url: '',
    script: () => {},
    received: [],
    errors: [],
    accepting: true,
    dropClients: () => wss.clients.forEach((ws) => ws.terminate()),
    close: () =>
      new Promise<void>((resolve) => {
        wss.clients.forEach((ws) => ws.terminate());
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };

  server.on('upgrade', (req, socket, head) => {
    if (!fake.accepting || new URL(req.url ?? '/', 'http://x').pathname !== MIRROR_WS_PATH) return socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => onClient(ws));
  });

  function onClient(ws: WebSocket): void {
    const reply = (message: ServerMessage) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
    };
    ws.on('message', async (data) => {
      const message = parseClientMessage(String(data));
      if (!message) return void fake.errors.push(`not a protocol message: ${String(data)}`);
      fake.received.push(message);
      try {
        await fake.script(message, reply);
      } catch (err) {
        fake.errors.push(`script failed on ${message.id}: ${(err as Error).stack}`);
      }
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}

/** The policy web mode sends, tightened further: the page must run under it unchanged. */
export const STRICT_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'";

/**
 * The renderer tests' rig: the built renderer served under STRICT_CSP by a scripted fake
 * server, Chromium with a two-faces fake camera, and an echo peer (another page) that answers
 * offers over real WebRTC and sends the camera back with hats drawn in.
 */
export async function startRendererRig(): Promise<{ chromium: ChromiumHandle; server: FakeMirrorServer; echo: EchoPeer; close(): Promise<void> }> {
  await buildRenderer();
  const chromium = await launchChromium({ fakeVideo: await makeY4m({ background: 'two-faces' }) });
  const server = await startFakeMirrorServer({
    root: RENDERER_DIST,
    csp: STRICT_CSP,
    routes: { '/echo.html': '<!doctype html><title>echo</title>', '/hat.png': await readFile(path.join(ROOT, 'assets/hats/top-hat.png')) },
  });
  const echo = await EchoPeer.open(chromium, `${server.url}/echo.html`, `${server.url}/hat.png`);
  return {
    chromium,
    server,
    echo,
    close: async () => {
      await chromium.close();
      await server.close();
    },
  };
}
