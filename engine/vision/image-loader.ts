/**
 * loadOverlayImage(): the hat from an http://, https:// or file:// URI, every step bounded,
 * because any client of the engine names the URI (docs/security.md):
 * - file:// opens regular files only (no device, FIFO or socket — opened non-blocking, so a
 *   FIFO cannot hold a thread — and no host or UNC form), and the size counts what is read,
 *   never what stat says (0 for /dev/zero);
 * - http(s) has a time limit, a size limit and follows redirects only to http(s);
 * - decoding runs in a worker thread (image-decode.ts bounds pixels and PNG inflation);
 * - at most MAX_CONCURRENT_LOADS loads at once, a bounded queue behind them;
 * - decoded images are kept, by URI, for CACHE_TTL_MS within a byte budget (many mirrors
 *   wearing one hat decode it once).
 * A failure says that the image could not be loaded and, for remote images, nothing of what
 * the network answered (no port scanning through error texts); the full reason is in `detail`,
 * for the engine's own log.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { startWorkerFile } from '../worker-file.js';
import type { DecodeReply, DecodeRequest } from './image-decode-worker.js';
import { MAX_IMAGE_PIXELS } from './image-decode.js';
import { OverlayImage } from './overlay.js';

const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_REDIRECTS = 5;
/** Downloads and files larger than this are refused (a hat is a few hundred KB at most). */
export const MAX_IMAGE_BYTES = 32 * 1024 * 1024;
export const MAX_CONCURRENT_LOADS = 2;
/** Loads waiting for a turn; more are refused at once. */
export const MAX_QUEUED_LOADS = 16;
/** Decoded images kept (RGBA bytes in all). */
export const IMAGE_CACHE_BYTES = 64 * 1024 * 1024;
/** How long a decoded image is reused for its URI before it is loaded again. */
export const CACHE_TTL_MS = 60_000;

/** A load that failed: `message` is for the client, `detail` for the engine's log. */
export class ImageLoadError extends Error {
  constructor(uri: string, publicReason: string, readonly detail: string) {
    super(`Could not load overlay image ${uri}: ${publicReason}`);
    this.name = 'ImageLoadError';
  }
}

/** What a client is told of a remote image that failed, whatever the network answered. */
export const REMOTE_FAILURE = `it could not be downloaded as a PNG or JPEG image (at most ${MAX_IMAGE_BYTES / 1024 / 1024} MiB and ${(MAX_IMAGE_PIXELS / 1e6).toFixed(1)} megapixels)`;

export async function loadOverlayImage(uri: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<OverlayImage> {
  const hit = cache.get(uri);
  if (hit && Date.now() - hit.at < CACHE_TTL_MS) {
    cache.delete(uri); // most recently used last
    cache.set(uri, hit);
    return hit.image;
  }
  // Mirrors that start together with one hat wait for one load.
  let loading = inflight.get(uri);
  if (!loading) {
    loading = withTurn(uri, () => load(uri, timeoutMs)).finally(() => inflight.delete(uri));
    inflight.set(uri, loading);
    loading.then((image) => remember(uri, image), () => undefined);
  }
  return loading;
}

const inflight = new Map<string, Promise<OverlayImage>>();

/** Drops every cached image (tests). */
export function clearImageCache(): void {
  cache.clear();
  cachedBytes = 0;
}

async function load(uri: string, timeoutMs: number): Promise<OverlayImage> {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(uri)?.[1]!.toLowerCase();
  if (scheme === 'file') {
    let bytes: Buffer;
    try {
      bytes = await readLocalFile(uri);
    } catch (err) {
      const e = err as Error & { public?: string };
      throw new ImageLoadError(uri, e.public ?? 'the file could not be read', e.message);
    }
    try {
      return await decode(bytes);
    } catch (err) {
      throw new ImageLoadError(uri, (err as Error).message, (err as Error).message);
    }
  }
  if (scheme !== 'http' && scheme !== 'https') throw new ImageLoadError(uri, 'only http://, https:// and file:// URIs are supported', `scheme ${scheme ?? '(none)'}`);
  try {
    return await decode(await fetchBounded(new URL(uri), timeoutMs));
  } catch (err) {
    throw new ImageLoadError(uri, REMOTE_FAILURE, (err as Error).message);
  }
}

/** A reason a person may be shown (it says nothing the file system would not tell its owner). */
const localProblem = (text: string) => Object.assign(new Error(text), { public: text });

/** A regular local file, at most MAX_IMAGE_BYTES counted as read. */
async function readLocalFile(uri: string): Promise<Buffer> {
  const url = new URL(uri);
  if (url.host !== '' && url.host !== 'localhost') throw localProblem('a file:// URI must name a file on this computer (no host)');
  const file = fileURLToPath(url);
  if (file.startsWith('//') || file.startsWith('\\\\')) throw localProblem('a file:// URI must name a file on this computer (no network share)');
  // Non-blocking: opening a FIFO must not wait for a writer (it would hold a libuv thread for good).
  const handle = await open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    if (!(await handle.stat()).isFile()) throw localProblem('not a regular file');
    const chunks: Buffer[] = [];
    let size = 0;
    for (;;) {
      const { bytesRead, buffer } = await handle.read(Buffer.alloc(1024 * 1024), 0, 1024 * 1024, null);
      if (bytesRead === 0) break;
      size += bytesRead;
      if (size > MAX_IMAGE_BYTES) throw localProblem(`the file is larger than ${MAX_IMAGE_BYTES / 1024 / 1024} MiB`);
      chunks.push(buffer.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks);
  } finally {
    await handle.close();
  }
}

async function fetchBounded(url: URL, timeoutMs: number): Promise<Buffer> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    return await download(url, signal, MAX_REDIRECTS);
  } catch (err) {
    // Aborting surfaces as AbortError or, mid-body, as a bare "aborted".
    throw signal.aborted ? new Error(`timed out after ${timeoutMs} ms`) : err;
  }
}

/**
 * GET with node:http(s) rather than fetch(), whose port blocklist would turn a refused
 * connection to e.g. port 1 into "bad port". Follows redirects, as KMS's libsoup does, but
 * only to http(s).
 */
async function download(url: URL, signal: AbortSignal, redirectsLeft: number): Promise<Buffer> {
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    (url.protocol === 'https:' ? https : http).get(url, { signal }, resolve).on('error', reject);
  });
  const status = res.statusCode ?? 0;
  if (status >= 300 && status < 400 && res.headers.location && redirectsLeft > 0) {
    res.resume();
    const next = new URL(res.headers.location, url);
    if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new Error(`redirected to ${next.protocol} (only http and https are followed)`);
    return download(next, signal, redirectsLeft - 1);
  }
  if (status !== 200) {
    res.resume();
    throw new Error(`HTTP ${status} ${res.statusMessage}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    size += (chunk as Buffer).length;
    if (size > MAX_IMAGE_BYTES) {
      res.destroy();
      throw new Error(`the download is larger than ${MAX_IMAGE_BYTES / 1024 / 1024} MiB`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

// ---- turns: at most MAX_CONCURRENT_LOADS at once ----

let running = 0;
const waiting: (() => void)[] = [];

async function withTurn<T>(uri: string, job: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT_LOADS) {
    if (waiting.length >= MAX_QUEUED_LOADS) {
      throw new ImageLoadError(uri, 'too many images are loading at once; try again in a moment', `${running} loading, ${waiting.length} waiting`);
    }
    await new Promise<void>((resolve) => waiting.push(resolve)); // handed a turn: `running` already counts it
  } else {
    running++;
  }
  try {
    return await job();
  } finally {
    const next = waiting.shift();
    if (next) next(); // the turn passes on as it is, so no newcomer slips in between
    else running--;
  }
}

// ---- the cache ----

const cache = new Map<string, { image: OverlayImage; at: number }>();
let cachedBytes = 0;

function remember(uri: string, image: OverlayImage): void {
  const old = cache.get(uri);
  if (old) {
    cache.delete(uri);
    cachedBytes -= old.image.rgba.length;
  }
  if (image.rgba.length > IMAGE_CACHE_BYTES) return;
  cache.set(uri, { image, at: Date.now() });
  cachedBytes += image.rgba.length;
  for (const [key, entry] of cache) {
    if (cachedBytes <= IMAGE_CACHE_BYTES) break;
    cache.delete(key);
    cachedBytes -= entry.image.rgba.length;
  }
}

// ---- the decoder worker ----

let worker: Worker | undefined;
let nextId = 0;
const pending = new Map<number, { resolve: (img: OverlayImage) => void; reject: (err: Error) => void }>();

function decoder(): Worker {
  if (worker) return worker;
  const w = startWorkerFile(import.meta.url, 'image-decode-worker', { resourceLimits: { maxOldGenerationSizeMb: 128 } });
  w.on('message', (reply: DecodeReply) => {
    const p = pending.get(reply.id);
    pending.delete(reply.id);
    if (pending.size === 0) w.unref();
    if (!p) return;
    if ('error' in reply) p.reject(new Error(reply.error));
    else p.resolve(new OverlayImage(reply.width, reply.height, reply.rgba));
  });
  const lost = (why: string) => {
    if (worker === w) worker = undefined;
    for (const p of pending.values()) p.reject(new Error(`the image decoder stopped (${why})`));
    pending.clear();
  };
  w.on('error', (err) => lost(err.message));
  w.on('exit', (code) => lost(`exit code ${code}`));
  w.unref();
  worker = w;
  return w;
}

function decode(bytes: Buffer): Promise<OverlayImage> {
  // A copy of its own to move to the worker: `bytes` may share a pooled ArrayBuffer.
  const own = new Uint8Array(bytes);
  return new Promise((resolve, reject) => {
    const id = nextId++;
    const w = decoder();
    pending.set(id, { resolve, reject });
    w.ref();
    const request: DecodeRequest = { id, bytes: own };
    w.postMessage(request, [own.buffer]);
  });
}
