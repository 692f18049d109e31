/**
 * The page's own origin, app://magic-mirror/, and how its requests map to files.
 *
 * Why a custom protocol rather than file://: a file:// page shares its origin with every
 * file on the disk (any file:// URL would pass an origin check, and file:// pages get extra
 * privileges), while app://magic-mirror/ serves exactly the files of dist/renderer/ and nothing
 * else. Registered as standard + secure, it is a secure context (getUserMedia works) with a
 * real origin ('app://magic-mirror') for the permission, navigation and IPC checks.
 */
import path from 'node:path';
import { contentSecurityPolicy } from '../content-security-policy.js';
import { contentTypeOf } from '../content-types.js';

export const APP_SCHEME = 'app';
export const APP_HOST = 'magic-mirror';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const PAGE_URL = `${APP_ORIGIN}/index.html`;

/**
 * The privileges protocol.registerSchemesAsPrivileged gives the scheme: standard (real origin,
 * relative URLs), secure (secure context), fetch, and CORS mode — Vite's module scripts carry
 * `crossorigin`, so they load in CORS mode (our responses send no Access-Control-Allow-Origin,
 * so no other origin can read them). Not bypassCSP, not service workers.
 */
export const APP_SCHEME_PRIVILEGES = {
  standard: true,
  secure: true,
  supportFetchAPI: true,
  corsEnabled: true,
  codeCache: true,
} as const;

/** Parses a URL; undefined for anything that is not one. */
function parse(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

/** Anything served from app://magic-mirror/ (the page and its assets). */
export function isAppOrigin(url: string): boolean {
  const u = parse(url);
  // URL.origin is 'null' for non-special schemes in Node, so compare the parts.
  return u?.protocol === `${APP_SCHEME}:` && u.host === APP_HOST && !u.username && !u.password && !u.port;
}

/** The mirror page itself (any query or fragment), the only document the window may show. */
export function isMirrorPage(url: string): boolean {
  if (!isAppOrigin(url)) return false;
  const pathname = parse(url)!.pathname;
  return pathname === '/' || pathname === '/index.html';
}


export type AppRequestTarget =
  | { kind: 'file'; file: string; contentType: string }
  | { kind: 'refused'; status: 400 | 403 | 404 | 405; reason: string };

/**
 * Headers of every app:// response: the page's CSP (web mode's policy; the page opens no
 * socket here, it talks over IPC) travels with it, as in web mode.
 */
export function appResponseHeaders(contentType: string): Record<string, string> {
  return {
    'Content-Type': contentType,
    'Content-Security-Policy': contentSecurityPolicy(),
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
  };
}

/**
 * Which file under `rootDir` an app:// request may read (GET and HEAD only). Refuses other hosts, encoded
 * separators and anything that would leave rootDir; only known file types are served
 * (every response gets a definite Content-Type, and X-Content-Type-Options: nosniff).
 */
export function resolveAppRequest(method: string, url: string, rootDir: string): AppRequestTarget {
  if (method !== 'GET' && method !== 'HEAD') return { kind: 'refused', status: 405, reason: `${method.slice(0, 20)} is not served` };
  if (!isAppOrigin(url)) return { kind: 'refused', status: 403, reason: `not an ${APP_ORIGIN}/ URL` };
  const rawPath = parse(url)!.pathname;
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return { kind: 'refused', status: 400, reason: 'malformed path' };
  }
  if (decoded.includes('\\') || decoded.includes('\0')) return { kind: 'refused', status: 400, reason: 'malformed path' };
  const relative = decoded === '/' ? 'index.html' : decoded.slice(1);
  const root = path.resolve(rootDir);
  const file = path.resolve(root, relative);
  if (!file.startsWith(root + path.sep)) return { kind: 'refused', status: 403, reason: 'outside the app folder' };
  const contentType = contentTypeOf(file);
  if (!contentType) return { kind: 'refused', status: 404, reason: 'not a page asset' };
  return { kind: 'file', file, contentType };
}
