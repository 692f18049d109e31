/**
 * The desktop app's mirror sessions: what web mode's WebSocket server is to its pages
 * (main/web/web-mode.ts + mirror-socket.ts), for the app's IPC mirror links
 * (main/ipc/mirror-links.ts). One MirrorSession per link, made from the settings in use when
 * the link opens (saved settings apply to links opened afterwards; the page reconnects after
 * a save):
 *
 * - media server: `kmsUri`; `builtin` is the engine the app hosts with a plain Node
 *   (EngineHost, `engineUri`), never startEngine(), which would run it with Electron;
 *   several, comma-separated: a pool (main/kms/server-pool.ts) of that list;
 * - hat: a built-in hat or the person's PNG, served to the media server by a HatServer —
 *   on loopback for the built-in engine or a media server on this machine, on all
 *   interfaces for a remote one (each started when first needed);
 * - `overlay` → the FaceOverlayFilter placement; `stun`/`turn` → the WebRtcEndpoint's
 *   STUN/TURN properties (host names resolved: Kurento takes addresses).
 *
 * Pure Node (no Electron): main/electron/main.ts plugs it in, tests drive it directly.
 */
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import type { ServerMessage } from '../../common/mirror-protocol.js';
import { anchorOf, EACH_FACE_HATS, type HatChoice, type Settings } from '../../common/settings.js';
import { BUILTIN_KMS, type KmsTimeouts, type SessionTimings } from '../defaults.js';
import { HatServer } from '../hats/hat-server.js';
import { isLoopbackHost } from '../hats/local-address.js';
import type { MirrorLink, MirrorLinkPeer, OpenMirrorLink } from '../ipc/mirror-links.js';
import { KmsConnections } from '../kms/kms-connections.js';
import { MediaServerPool } from '../kms/server-pool.js';
import { splitKmsUris } from '../../common/kms-uri.js';
import { MirrorSession, type EndpointIceServers } from '../mirror/session.js';
import { MirrorError, PROBLEM_TEXT, asMirrorError } from '../problems.js';

export interface MirrorServiceOptions {
  /** The settings in use now (read when a link opens). */
  settings: () => Settings;
  /** The built-in engine's ws:// URI, starting it if needed (EngineHost.uri); rejects with why it cannot. */
  engineUri: () => Promise<string>;
  /** The built-in hats' folder (default assets/hats) and a public base URL for remote media servers. */
  hats?: { dir?: string; publicUrl?: string };
  kmsTimeouts?: Partial<KmsTimeouts>;
  sessionTimings?: Partial<SessionTimings>;
  log?: (line: string) => void;
  /** A setting keeps the mirror from starting (a hat file that is gone): a sentence for the person. */
  settingProblem?: (text: string) => void;
  /** A host name → an IP address (default: the system resolver). */
  resolveHost?: (host: string) => Promise<string>;
}

/** Where the hat server listens for a media server at `kmsUri`. */
function hatHostFor(kmsUri: string): string {
  return kmsUri === BUILTIN_KMS || isLoopbackHost(new URL(kmsUri).hostname) ? '127.0.0.1' : '0.0.0.0';
}

async function systemResolve(host: string): Promise<string> {
  if (net.isIP(host)) return host;
  // Kurento's ICE agent (libnice) takes IPv4 most reliably; IPv6 when that is all there is.
  return (await lookup(host, { family: 4 }).catch(() => lookup(host))).address;
}

export class MirrorService {
  readonly #o: MirrorServiceOptions;
  readonly #log: (line: string) => void;
  readonly #kms: KmsConnections;
  readonly #hatServers = new Map<string, Promise<HatServer>>();
  /** The pool of the settings' list of media servers (by the list), while one is in use. */
  readonly #pools = new Map<string, MediaServerPool>();
  /** Resolved hat URIs by media server and hat: a local file is published once, not per link. */
  readonly #hatUris = new Map<string, Promise<string>>();
  /** Links not yet closed, with the promise of their session. */
  readonly #links = new Set<{ closed: Promise<void> | undefined; close(): Promise<void> }>();
  #closed = false;

  constructor(options: MirrorServiceOptions) {
    this.#o = options;
    this.#log = options.log ?? (() => {});
    this.#kms = new KmsConnections({
      timeouts: options.kmsTimeouts,
      log: this.#log,
      builtinUri: () =>
        options.engineUri().catch((err: unknown) => {
          throw new MirrorError('engine-failed', PROBLEM_TEXT.engineFailed(err instanceof Error ? err.message : String(err)), { cause: err });
        }),
    });
  }

  /** For MirrorLinks: a new session link on the current settings. */
  readonly open: OpenMirrorLink = (peer) => this.#open(peer);

  /** Links open now. */
  get linkCount(): number {
    return this.#links.size;
  }

  /** The hosted engine stopped by itself: sessions on it end with that reason; the next link starts a new one. */
  engineExited(how: string): void {
    this.#kms.drop(BUILTIN_KMS, new MirrorError('kms-lost', PROBLEM_TEXT.engineExited(how)));
  }

  /** Ends every session (pipelines released), then the media server connections and hat servers. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#links].map((l) => l.close()));
    await Promise.all([...this.#pools.values()].map((pool) => pool.close()));
    await this.#kms.close();
    const servers = await Promise.allSettled(this.#hatServers.values());
    await Promise.all(servers.map((s) => (s.status === 'fulfilled' ? s.value.close() : undefined)));
    this.#hatServers.clear();
  }

  #open(peer: MirrorLinkPeer): MirrorLink {
    const settings = this.#o.settings();
    const ready: Promise<MirrorSession | MirrorError> = this.#closed
      ? Promise.resolve(new MirrorError('internal', PROBLEM_TEXT.unexpected('the app is shutting down')))
      : this.#session(settings, peer.send).catch((err: unknown) => {
          const error = asMirrorError(err);
          this.#log(`mirror link not ready (${error.problem}): ${error.message}`);
          if (error.problem === 'hat-failed') this.#o.settingProblem?.(`The hat in your settings cannot be used: ${error.message}`);
          return error;
        });
    const entry = {
      closed: undefined as Promise<void> | undefined,
      close: () =>
        (entry.closed ??= ready.then((s) => (s instanceof MirrorSession ? s.close() : undefined)).finally(() => this.#links.delete(entry))),
    };
    this.#links.add(entry);
    return {
      receive: (message) =>
        void ready.then((s) => {
          if (entry.closed) return;
          if (s instanceof MirrorSession) return s.handle(message);
          // The link could not get a session: each start is told why, as a failed start would be.
          if (message.id === 'start') peer.send({ id: 'error', code: s.problem, message: s.message } satisfies ServerMessage);
        }),
      close: () => void entry.close(),
    };
  }

  async #session(s: Settings, send: (message: ServerMessage) => void): Promise<MirrorSession> {
    const uris = splitKmsUris(s.kmsUri);
    const pool = uris.length > 1 ? this.#pool(uris) : this.#noPool();
    // The hats' address as the media servers see it: any remote one's (the hat server then listens on every interface).
    const hatsFor = uris.find((u) => u !== BUILTIN_KMS && !isLoopbackHost(new URL(u).hostname)) ?? uris[0]!;
    const [hatUrls, iceServers] = await Promise.all([this.#hatUrlsFor(s.hat, hatsFor), this.#iceServers(s)]);
    const [hatUri, ...moreHatUris] = hatUrls;
    return new MirrorSession({
      connect: pool ? () => pool.place() : () => this.#kms.get(uris[0]!),
      failover: pool && ((kms) => pool.canTakeOver(kms)),
      mediaServers: pool && ((kms) => pool.summaryFor(kms)),
      mediaServer: uris.every((u) => u === BUILTIN_KMS) ? 'engine' : 'media-server',
      hatUri: hatUri!,
      moreHatUris,
      placement: s.overlay,
      anchor: anchorOf(s.hat),
      iceServers,
      send,
      timings: this.#o.sessionTimings,
      log: this.#log,
    });
  }

  /** One media server again: the pool's checks stop. */
  #noPool(): undefined {
    for (const pool of this.#pools.values()) void pool.close();
    this.#pools.clear();
    return undefined;
  }

  #pool(uris: string[]): MediaServerPool {
    const key = uris.join(',');
    let pool = this.#pools.get(key);
    if (!pool) {
      // A new list replaces the old one (the page opens a new link after a save anyway).
      this.#noPool();
      pool = new MediaServerPool(uris, this.#kms, { log: this.#log });
      this.#pools.set(key, pool);
    }
    return pool;
  }

  /** The chosen hat's URL as the media server fetches it; for each-face, every hat that takes turns. */
  #hatUrlsFor(hat: HatChoice, kmsUri: string): Promise<string[]> {
    const names = hat.kind === 'each-face' ? [...EACH_FACE_HATS] : [hat.kind === 'builtin' ? hat.id : hat.uri];
    return Promise.all(names.map((name) => this.#hatUri(name, kmsUri)));
  }

  #hatUri(name: string, kmsUri: string): Promise<string> {
    const key = `${kmsUri}\n${name}`;
    let uri = this.#hatUris.get(key);
    if (!uri) {
      uri = this.#hatServer(kmsUri).then((server) => server.uriFor(name, kmsUri));
      this.#hatUris.set(key, uri);
      uri.catch(() => this.#hatUris.delete(key)); // a file that appears later is tried again
    }
    return uri;
  }

  #hatServer(kmsUri: string): Promise<HatServer> {
    const host = hatHostFor(kmsUri);
    let server = this.#hatServers.get(host);
    if (!server) {
      server = HatServer.start({ host, dir: this.#o.hats?.dir, publicUrl: this.#o.hats?.publicUrl });
      this.#hatServers.set(host, server);
      server.catch(() => this.#hatServers.delete(host));
    }
    return server;
  }

  async #iceServers(s: Settings): Promise<EndpointIceServers> {
    const ice: EndpointIceServers = {};
    if (s.stun) {
      ice.stunServerAddress = await this.#address(s.stun.host);
      ice.stunServerPort = s.stun.port;
    }
    if (s.turn) {
      const t = s.turn;
      ice.turnUrl = `${t.username}:${t.password}@${await this.#address(t.host)}:${t.port}?transport=${t.transport}`;
    }
    return ice;
  }

  /** An IP address for `host`; the name itself if it does not resolve (the media server then ignores it, and says so in its log). */
  async #address(host: string): Promise<string> {
    try {
      return await (this.#o.resolveHost ?? systemResolve)(host);
    } catch (err) {
      this.#log(`cannot resolve the STUN/TURN host ${host}: ${(err as Error).message}`);
      return host;
    }
  }
}
