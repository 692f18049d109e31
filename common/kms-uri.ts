/**
 * What a media server address in the settings may be, in one place for the main process
 * (which refuses anything else when settings are saved or tested) and the Settings page
 * (which says what is wrong while the person types).
 */

/** The address that means "the media engine built into Magic Mirror" (main/defaults.ts BUILTIN_KMS). */
export const BUILTIN_KMS_URI = 'builtin';

/** Why a typed address is not usable, for a message next to the field. */
export type KmsUriIssue = 'empty' | 'spaces' | 'scheme' | 'host' | 'invalid';

/**
 * The addresses in a setting: one, or several separated by commas (a pool of media servers,
 * each mirror on the least-loaded one that is up).
 */
export function splitKmsUris(s: string): string[] {
  return s.split(',').map((u) => u.trim()).filter(Boolean);
}

/** Why an address is refused: the issue the Settings page names, and the main process's reason. */
export interface KmsUriRefusal {
  issue: KmsUriIssue;
  reason: string;
}

const GENERAL = `must be "${BUILTIN_KMS_URI}" or a ws:// or wss:// address, like ws://localhost:8888/kurento (several: separated by commas)`;

/**
 * One address, checked so that what is stored is exactly what every later parser reads
 * (the app stores the URL parser's serialisation, and kurento-client and ws parse it again):
 * forms the WHATWG URL parser would silently rewrite into another address are refused, each
 * with its reason — tabs and line breaks (dropped), backslashes (read as /), a missing `//`
 * or host (`ws:kms`, `ws:///kurento` → host "kurento"), credentials (`user:pw@`), a host the
 * parser would spell otherwise (`ws://0x7f.1`, `ws://k%6Ds`, full-width letters), a #fragment
 * (a WebSocket URL has none). What the parser only tidies is kept, tidied: upper-case scheme
 * or host, a default port, an empty path (normaliseKmsUri).
 */
function oneUriRefusal(s: string): KmsUriRefusal | undefined {
  if (s === BUILTIN_KMS_URI) return undefined;
  const q = JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);
  const refuse = (issue: KmsUriIssue, why?: string) => ({ issue, reason: why ? `${q} ${why}` : GENERAL });
  if (s.trim() === '') return refuse('empty');
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(s)) return refuse('spaces', 'must not contain spaces, tabs, line breaks or control characters (the URL parser drops tabs and line breaks)');
  if (!/^wss?:/i.test(s)) return refuse('scheme');
  if (s.includes('\\')) return refuse('invalid', 'must not contain a backslash (the URL parser reads \\ as /)');
  const reread = (() => {
    try {
      return ` (the URL parser would read it as ${new URL(s).href})`;
    } catch {
      return '';
    }
  })();
  const m = /^wss?:\/\/([^/?#]*)/i.exec(s);
  if (!m) return refuse('host', `must have // and then the host right after "ws:" or "wss:"${reread}`);
  const authority = m[1]!;
  if (authority === '' || authority.startsWith(':')) return refuse('host', `has no host after "//"${reread}`);
  if (authority.includes('@')) return refuse('invalid', 'must not contain a user name or password (user:password@host)');
  if (s.includes('#')) return refuse('invalid', 'must not have a #fragment (a WebSocket address has none)');
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return refuse('invalid', 'is not a valid address (use the form ws://host:port/kurento)');
  }
  if ((u.protocol !== 'ws:' && u.protocol !== 'wss:') || !u.hostname) return refuse('host');
  // The host as typed, tidied the way the parser may (case, a default port, an empty port).
  const typed = authority.toLowerCase().replace(u.protocol === 'ws:' ? /:(80)?$/ : /:(443)?$/, '');
  if (typed !== u.host) return refuse('host', `would reach the host "${u.host}": write that instead`);
  return undefined;
}

/** Why an address (or comma-separated list of them) is refused, with the reason; undefined when usable. */
export function kmsUriRefusal(s: string): KmsUriRefusal | undefined {
  if (!s.includes(',')) return oneUriRefusal(s);
  const uris = splitKmsUris(s);
  if (uris.length === 0) return { issue: 'empty', reason: GENERAL };
  for (const u of uris) {
    const refusal = oneUriRefusal(u);
    if (refusal) return refusal;
  }
  return undefined;
}

/** Why a typed address (or comma-separated list of them) is not usable: the Settings page's kind of it. */
export function kmsUriIssue(s: string): KmsUriIssue | undefined {
  return kmsUriRefusal(s)?.issue;
}

/** The main process's wording (for IPC refusals and saved-settings problems). */
export function kmsUriProblem(s: string): string | undefined {
  return kmsUriRefusal(s)?.reason;
}

/**
 * What is stored and used for an accepted address (kmsUriRefusal(s) undefined): each one as
 * the URL parser serialises it (ws://KMS:80 → ws://kms/), a list joined by ", ", `builtin` as is.
 */
export function normaliseKmsUri(s: string): string {
  return splitKmsUris(s)
    .map((u) => (u === BUILTIN_KMS_URI ? u : new URL(u).href))
    .join(', ');
}

/**
 * The engine's per-launch secret is the last path segment of its address,
 * `ws://127.0.0.1:<port>/kurento/<secret>` (engine/server.ts): what a person or a log is shown of
 * such an address leaves it out (`…/kurento`). Other addresses are shown as they are.
 */
export function withoutEngineSecret(uri: string): string {
  return uri.replace(ENGINE_SECRET_PATH, '/kurento');
}

/** `/kurento/` and 24 random bytes in base64url, at the end of an address. */
export const ENGINE_SECRET_PATH = /\/kurento\/[A-Za-z0-9_-]{32}$/;
