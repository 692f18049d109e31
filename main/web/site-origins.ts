/**
 * The origins web mode answers to: the page's own (from as_uri, with its real port) and, when
 * that is a loopback name, the same port under every loopback name (a page opened as
 * http://127.0.0.1:8443 for --as_uri http://localhost:8443 is the same machine and user).
 *
 * Checked on WebSocket upgrades (Origin: no cross-site page may drive a session) and on every
 * request (Host: a DNS-rebinding page names a foreign host even when it reaches our port).
 */
import { isLoopbackHost } from '../hats/local-address.js';

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

export class SiteOrigins {
  /** The origin as_uri names, e.g. http://localhost:8443. */
  readonly primary: string;
  readonly #allowed: Set<string>;
  readonly #protocol: string;

  constructor(pageUrl: URL) {
    this.#protocol = pageUrl.protocol;
    this.primary = pageUrl.origin;
    const names = isLoopbackHost(pageUrl.hostname) ? [pageUrl.host.replace(/:\d+$/, ''), ...LOOPBACK_NAMES] : [pageUrl.hostname];
    this.#allowed = new Set(names.map((name) => new URL(`${pageUrl.protocol}//${name}:${pageUrl.port || defaultPort(pageUrl.protocol)}`).origin));
  }

  /** Whether a browser page from `origin` may use us. */
  allows(origin: string): boolean {
    return this.#allowed.has(origin);
  }

  /** The origin a request was addressed to (its Host header), if it is one of ours. */
  originOfHost(host: string | undefined): string | undefined {
    if (!host) return undefined;
    try {
      const origin = new URL(`${this.#protocol}//${host}`).origin;
      return this.#allowed.has(origin) ? origin : undefined;
    } catch {
      return undefined;
    }
  }
}

function defaultPort(protocol: string): string {
  return protocol === 'https:' ? '443' : '80';
}
