/**
 * Web mode: the mirror served to any browser, like the Kurento tutorial's server.js — the
 * renderer's build as static files under a strict CSP, and the tutorial's WebSocket protocol
 * on /magicmirror, one MirrorSession per socket. Plain HTTP on a loopback as_uri (a secure
 * context already); HTTPS with a self-signed certificate on any other host.
 *
 * There is no settings API over this transport (settings come from the command line).
 */
import { EACH_FACE, EACH_FACE_HATS, EYE_PIECES, type BuiltinHatId } from '../../common/settings.js';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import { MIRROR_WS_PATH } from '../../common/mirror-protocol.js';
import { kmsUriProblem, normaliseKmsUri } from '../../common/kms-uri.js';
import type { StartEngineOptions } from '../../engine/start.js';
import { defaultConfigDir } from '../config-dir.js';
import { contentSecurityPolicy, socketOriginOf } from '../content-security-policy.js';
import { BUILTIN_KMS, MIRROR_ADMISSION, WEB_DEFAULTS, type KmsTimeouts, type SessionTimings } from '../defaults.js';
import { HatServer, type HatServerOptions } from '../hats/hat-server.js';
import { isLoopbackHost } from '../hats/local-address.js';
import { KmsRegistry } from '../kms/kms-registry.js';
import { MirrorAdmission } from '../mirror/admission.js';
import { MirrorSession } from '../mirror/session.js';
import { serveMirrorSocket } from './mirror-socket.js';
import { RENDERER_DIR, serveRendererFile } from './renderer-files.js';
import { SiteOrigins } from './site-origins.js';
import { MediaServerPool, type ServerPoolOptions } from '../kms/server-pool.js';
import { selfSignedCertificate } from './tls-certificate.js';

export interface WebModeOptions {
  /** The page's address (the tutorial's --as_uri). Port 0 picks a free port. */
  asUri?: string;
  /**
   * The media server (the tutorial's --ws_uri): `builtin`, or ws[s]://host:port/kurento; or
   * several: a pool, each mirror on the least-loaded one that is up (main/kms/server-pool.ts).
   */
  wsUri?: string | readonly string[];
  /** The pool's settings (several wsUri). */
  pool?: ServerPoolOptions;
  /**
   * A built-in hat's name, an http(s):// URL or a local .png (default: the first built-in hat);
   * `each-face`, or a list of such: each face its own, in turn.
   */
  hat?: string | readonly string[];
  /** Where hats are served from for the media server (default: loopback for a local media server, else all interfaces). */
  hats?: HatServerOptions;
  rendererDir?: string;
  /** Where the TLS certificate is kept (default: defaultConfigDir()). */
  configDir?: string;
  kmsTimeouts?: Partial<KmsTimeouts>;
  sessionTimings?: Partial<SessionTimings>;
  /**
   * At most this many mirrors at once, starting or running (--max_mirrors; default
   * MIRROR_ADMISSION.mirrorsPerServer per media server); a newcomer beyond is told "busy, try
   * again in a moment", after pushing out the oldest start that has no video yet, if any.
   */
  maxMirrors?: number;
  /** A start whose camera video has not reached the media server this long after it (or stopped this long ago) ends (default 20 s). */
  startMediaMs?: number;
  log?: (line: string) => void;
  /** Where the built-in engine's log lines go (default: inherited stderr). */
  engineLog?: StartEngineOptions['log'];
}

export interface WebMode {
  /** Where to open the mirror. */
  url: string;
  /** Things the person starting it should know (scheme changed, certificate made, …). */
  notes: string[];
  /** The media server connections (its `builtin` connection knows the engine's URI). */
  registry: KmsRegistry;
  /** With several media servers: where mirrors go, and each server's state. */
  pool?: MediaServerPool;
  /** Stops: sockets closed, sessions released, engine stopped. */
  close(): Promise<void>;
}

export async function startWebMode(options: WebModeOptions = {}): Promise<WebMode> {
  const log = options.log ?? (() => {});
  const notes: string[] = [];
  const wsUris = (typeof options.wsUri === 'string' ? [options.wsUri] : options.wsUri?.length ? options.wsUri : [WEB_DEFAULTS.wsUri]).map(checkWsUri);
  // Every page socket's runs share these places: idle or flooding sockets cannot lock others out (admission.ts).
  const admission = new MirrorAdmission({
    maxMirrors: options.maxMirrors ?? MIRROR_ADMISSION.mirrorsPerServer * wsUris.length,
    startMediaMs: options.startMediaMs,
    log,
  });
  // The hat server's address as the media servers see it: any remote one's (it then listens on every interface).
  const wsUri = wsUris.find((u) => u !== BUILTIN_KMS && !isLoopbackHost(new URL(u).hostname)) ?? wsUris[0]!;
  const page = new URL(options.asUri ?? WEB_DEFAULTS.asUri);
  const host = page.hostname.replace(/^\[|\]$/g, '');
  const loopback = isLoopbackHost(host);
  if (!loopback && page.protocol === 'http:') {
    page.protocol = 'https:';
    notes.push(`Serving https:// rather than http:// on ${host}: browsers allow the camera only on https:// pages or on localhost.`);
  }
  if (page.protocol !== 'http:' && page.protocol !== 'https:') throw new Error(`--as_uri must be an http:// or https:// address, not ${page.href}`);
  const tls = page.protocol === 'https:' ? await selfSignedCertificate(host, options.configDir ?? defaultConfigDir()) : undefined;
  if (tls?.created) notes.push(`Made a self-signed certificate for ${host} (${tls.certFile}): browsers ask once to accept it.`);

  const kmsIsLocal = wsUri === BUILTIN_KMS || isLoopbackHost(new URL(wsUri).hostname);
  const hats = await HatServer.start({ host: kmsIsLocal ? '127.0.0.1' : '0.0.0.0', ...options.hats });
  const eyePiece = typeof options.hat === 'string' ? EYE_PIECES[options.hat as BuiltinHatId] : undefined;
  const hatNames: ReadonlyArray<string | undefined> = options.hat === EACH_FACE ? EACH_FACE_HATS : typeof options.hat === 'string' || !options.hat?.length ? [options.hat as string | undefined] : options.hat;
  let hatUri: string;
  let moreHatUris: string[];
  try {
    [hatUri, ...moreHatUris] = await Promise.all(hatNames.map((name) => hats.uriFor(name, wsUri)));
  } catch (err) {
    await hats.close();
    throw err;
  }
  const registry = new KmsRegistry({ timeouts: options.kmsTimeouts, log, engineLog: options.engineLog });
  const pool = wsUris.length > 1 ? new MediaServerPool(wsUris, registry, { log, ...options.pool }) : undefined;
  const mediaServer = wsUris.every((u) => u === BUILTIN_KMS) ? 'engine' : 'media-server';

  const rendererDir = options.rendererDir ?? RENDERER_DIR;
  let origins!: SiteOrigins; // set once the port is known, before any request can arrive
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const origin = origins.originOfHost(req.headers.host);
    if (!origin) {
      res.writeHead(421, { 'content-type': 'text/plain' }).end(`This server answers only to ${origins.primary}\n`);
      return;
    }
    serveRendererFile(rendererDir, req, res, securityHeaders(origin)).catch((err: Error) => {
      log(`serving ${req.url}: ${err.message}`);
      res.destroy();
    });
  };
  const server = tls ? https.createServer({ key: tls.key, cert: tls.cert }, onRequest) : http.createServer(onRequest);

  const wss = new WebSocketServer({ noServer: true, maxPayload: WEB_DEFAULTS.maxMessageBytes });
  const served = new Set<Promise<void>>();
  server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => {});
    if (new URL(req.url ?? '/', 'http://x').pathname !== MIRROR_WS_PATH) return refuse(socket, 404, 'Not Found');
    // Browsers always send Origin on WebSocket requests; a client without one is not a browser page.
    const origin = req.headers.origin;
    if (!origins.originOfHost(req.headers.host) || (origin !== undefined && !origins.allows(origin))) {
      log(`refused a WebSocket from origin ${origin ?? '(none)'} for host ${req.headers.host ?? '(none)'}`);
      return refuse(socket, 403, 'Forbidden');
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const done = serveMirrorSocket(
        ws,
        (send) => new MirrorSession({
          connect: pool ? () => pool.place() : () => registry.get(wsUri),
          failover: pool && ((kms) => pool.canTakeOver(kms)),
          mediaServers: pool && ((kms) => pool.summaryFor(kms)),
          mediaServer,
          hatUri,
          moreHatUris,
          // Glasses and masks bring their own placement, on the eyes.
          placement: eyePiece,
          anchor: eyePiece ? 'eyes' : 'face',
          send,
          admission,
          clientAddress: req.socket.remoteAddress,
          timings: options.sessionTimings,
          log,
        }),
        { pingIntervalMs: WEB_DEFAULTS.pingIntervalMs, log },
      );
      served.add(done);
      void done.then(() => served.delete(done));
    });
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // Loopback stays on loopback; any other host is served on every interface, as the tutorial does.
      server.listen(Number(page.port || (tls ? 443 : 80)), loopback ? listenAddress(host) : undefined, () => resolve());
    });
  } catch (err) {
    await Promise.all([hats.close(), registry.close()]);
    throw new Error(`Cannot serve ${page.origin}: ${(err as Error).message}`);
  }
  page.port = String((server.address() as AddressInfo).port);
  origins = new SiteOrigins(page);
  // Ready before the first Start: the built-in engine starts (and warms its face detector) now,
  // in the background; another media server is connected now, so a bad one shows in the log at once.
  if (pool) pool.start();
  else registry.get(wsUri).catch((err: Error) => log(`the media server is not ready: ${err.message}`));

  return {
    url: page.href,
    notes,
    registry,
    pool,
    async close() {
      await pool?.close();
      for (const ws of wss.clients) ws.terminate();
      await Promise.all(served);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await registry.close();
      await hats.close();
    },
  };
}

function securityHeaders(origin: string): Record<string, string> {
  return {
    'content-security-policy': contentSecurityPolicy([socketOriginOf(origin)]),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-cache',
  };
}

/** One --ws_uri entry, by the settings' rule (common/kms-uri.ts): refused with its reason, else as the URL parser serialises it. */
function checkWsUri(uri: string): string {
  const problem = kmsUriProblem(uri);
  if (problem) throw new Error(`--ws_uri "${uri}": ${problem}`);
  return normaliseKmsUri(uri);
}

/** `localhost` is bound as 127.0.0.1: Node would pick one of its addresses, maybe ::1 only. */
function listenAddress(host: string): string {
  return host === 'localhost' || host.endsWith('.localhost') ? '127.0.0.1' : host;
}

function refuse(socket: Socket, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
