/**
 * The hat has to be fetched BY THE MEDIA SERVER (FaceOverlayFilter.setOverlayedImage takes a
 * URI that KMS downloads itself), so hats are served over plain HTTP from here:
 *
 *   GET /hats/<name>.png         a built-in hat, from assets/hats/<name>.png
 *   GET /hats/file/<token>.png   a local file the user chose (only files published by uriFor)
 *
 * uriFor() turns a hat choice into the URL a given media server should use: a loopback URL
 * for the built-in engine or a KMS on this machine, else this machine's address on the route
 * to the KMS (or a configured public URL). A user's http(s) URL is passed through as it is;
 * a file:// URI is never handed to a media server (a remote one would look on its own disk).
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILTIN_KMS, HATS_PATH } from '../defaults.js';
import { MirrorError, PROBLEM_TEXT } from '../problems.js';
import { isLoopbackHost, isWildcardHost, localAddressToward, urlHost } from './local-address.js';

export const BUILTIN_HATS_DIR = fileURLToPath(new URL('../../assets/hats/', import.meta.url));

const HAT_NAME = /^[A-Za-z0-9_-]+$/;

export interface HatServerOptions {
  /** Directory of the built-in hats, `<name>.png` each (default assets/hats). */
  dir?: string;
  /** Listen address (default 127.0.0.1: enough for the built-in engine and a KMS on this machine). */
  host?: string;
  /** Listen port (default 0: any free port). */
  port?: number;
  /** Base URL a remote media server should use instead of our address, e.g. behind NAT: http://203.0.113.7:8444 */
  publicUrl?: string;
}

export class HatServer {
  static async start(options: HatServerOptions = {}): Promise<HatServer> {
    const hats = new HatServer(options);
    await new Promise<void>((resolve, reject) => {
      hats.#server.once('error', reject);
      hats.#server.listen(options.port ?? 0, hats.#host, () => resolve());
    });
    return hats;
  }

  readonly dir: string;
  readonly #host: string;
  readonly #publicUrl: string | undefined;
  readonly #server: http.Server;
  /** Published local files by token. */
  readonly #files = new Map<string, string>();

  private constructor(options: HatServerOptions) {
    this.dir = options.dir ?? BUILTIN_HATS_DIR;
    this.#host = options.host ?? '127.0.0.1';
    this.#publicUrl = options.publicUrl?.replace(/\/+$/, '');
    this.#server = http.createServer((req, res) => void this.#serve(req, res));
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** Names of the built-in hats, sorted. */
  async builtinHats(): Promise<string[]> {
    const entries = await readdir(this.dir).catch(() => [] as string[]);
    return entries.filter((f) => f.endsWith('.png') && HAT_NAME.test(f.slice(0, -4))).map((f) => f.slice(0, -4)).sort();
  }

  /**
   * The URL the media server at `kmsUri` (or `builtin`) should load for `hat`: a built-in hat's
   * name (default: the first one), an http(s):// URL, or a local file (file:// URL or absolute
   * path). Rejects with a 'hat-failed' MirrorError saying what is wrong.
   */
  async uriFor(hat: string | undefined, kmsUri: string): Promise<string> {
    if (hat && /^https?:\/\//i.test(hat)) return new URL(hat).href;
    if (hat && (hat.startsWith('file:') || path.isAbsolute(hat))) {
      const file = hat.startsWith('file:') ? fileURLToPath(hat) : hat;
      if (!(await stat(file).then((s) => s.isFile(), () => false))) throw new MirrorError('hat-failed', PROBLEM_TEXT.badHatUri(hat));
      const token = randomUUID();
      this.#files.set(token, file);
      return `${await this.#baseUrlFor(kmsUri)}${HATS_PATH}file/${token}.png`;
    }
    if (hat !== undefined && !HAT_NAME.test(hat)) throw new MirrorError('hat-failed', PROBLEM_TEXT.badHatUri(hat));
    const available = await this.builtinHats();
    if (available.length === 0) throw new MirrorError('hat-failed', PROBLEM_TEXT.noBuiltinHats(this.dir));
    const name = hat ?? available[0]!;
    if (!available.includes(name)) throw new MirrorError('hat-failed', PROBLEM_TEXT.unknownHat(name, available));
    return `${await this.#baseUrlFor(kmsUri)}${HATS_PATH}${name}.png`;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  /** Where a media server at `kmsUri` reaches this server. */
  async #baseUrlFor(kmsUri: string): Promise<string> {
    if (this.#publicUrl) return this.#publicUrl;
    const kmsHost = kmsUri === BUILTIN_KMS ? '127.0.0.1' : new URL(kmsUri).hostname;
    let host: string;
    if (isLoopbackHost(kmsHost)) host = isWildcardHost(this.#host) ? '127.0.0.1' : this.#host;
    else if (isLoopbackHost(this.#host)) throw new MirrorError('hat-failed', PROBLEM_TEXT.hatsUnreachable(kmsUri, this.#host));
    else host = isWildcardHost(this.#host) ? await localAddressToward(kmsHost) : this.#host;
    return `http://${urlHost(host)}:${this.port}`;
  }

  async #serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const file = req.method === 'GET' || req.method === 'HEAD' ? this.#fileFor(new URL(req.url ?? '/', 'http://x').pathname) : undefined;
    const size = file && (await stat(file).then((s) => (s.isFile() ? s.size : undefined), () => undefined));
    if (!file || size === undefined) {
      res.writeHead(req.method === 'GET' || req.method === 'HEAD' ? 404 : 405, { 'content-type': 'text/plain' }).end('No such hat\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': size, 'x-content-type-options': 'nosniff' });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).on('error', () => res.destroy()).pipe(res);
  }

  #fileFor(pathname: string): string | undefined {
    if (!pathname.startsWith(HATS_PATH) || !pathname.endsWith('.png')) return undefined;
    const rest = pathname.slice(HATS_PATH.length, -'.png'.length);
    if (rest.startsWith('file/')) return this.#files.get(rest.slice('file/'.length));
    return HAT_NAME.test(rest) ? path.join(this.dir, `${rest}.png`) : undefined;
  }
}
