/**
 * Serves the renderer's build output (dist/renderer/, made by `npm run build:renderer`) as
 * static files: GET and HEAD only, nothing outside that directory, `/` → index.html. While
 * the build is missing every page says how to make it.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { contentTypeOf } from '../content-types.js';

export const RENDERER_DIR = fileURLToPath(new URL('../../dist/renderer/', import.meta.url));


const NOT_BUILT_PAGE = `<!doctype html>
<meta charset="utf-8">
<title>Magic Mirror: renderer not built</title>
<h1>The mirror page has not been built yet</h1>
<p>Run <code>npm run build:renderer</code> (or start with <code>npm run serve</code>, which builds it first), then reload this page.</p>
`;

/** Answers one request from `root`; `headers` go on every response (security headers). */
export async function serveRendererFile(root: string, req: http.IncomingMessage, res: http.ServerResponse, headers: Record<string, string>): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { ...headers, allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('Method not allowed\n');
    return;
  }
  const file = await resolveFile(root, new URL(req.url ?? '/', 'http://x').pathname);
  if (!file) {
    const built = await isFile(path.join(root, 'index.html'));
    res.writeHead(built ? 404 : 503, { ...headers, 'content-type': 'text/html; charset=utf-8' });
    res.end(built ? '<!doctype html><meta charset="utf-8"><title>Not found</title><h1>Not found</h1>\n' : NOT_BUILT_PAGE);
    return;
  }
  res.writeHead(200, {
    ...headers,
    'content-type': contentTypeOf(file.path) ?? 'application/octet-stream',
    'content-length': file.size,
  });
  if (req.method === 'HEAD') res.end();
  else createReadStream(file.path).on('error', () => res.destroy()).pipe(res);
}

/** The file a URL path names under root, or undefined (missing, a directory without index.html, or outside root). */
async function resolveFile(root: string, pathname: string): Promise<{ path: string; size: number } | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const base = path.resolve(root);
  let candidate = path.resolve(base, `.${decoded}`);
  if (candidate !== base && !candidate.startsWith(base + path.sep)) return undefined;
  let info = await stat(candidate).catch(() => undefined);
  if (info?.isDirectory()) {
    candidate = path.join(candidate, 'index.html');
    info = await stat(candidate).catch(() => undefined);
  }
  return info?.isFile() ? { path: candidate, size: info.size } : undefined;
}

async function isFile(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined))?.isFile() ?? false;
}
