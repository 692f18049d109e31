/**
 * Real Chromium (Debian's /usr/bin/chromium) driven by playwright-core, with a fake camera that
 * plays a y4m clip (see makeY4m) and Chromium's fake microphone; plus page-side grab helpers and
 * a tiny static HTTP server for test pages.
 *
 * Pitfalls:
 * - Serve pages from http://127.0.0.1 (serveStatic does): getUserMedia needs a secure context,
 *   which plain-http loopback is; a data: URL page has no navigator.mediaDevices at all.
 * - playwright-core's `headless: true` already adds `--headless` (Chromium's new headless mode),
 *   plus `--mute-audio`, `--hide-scrollbars` and `--no-sandbox`; we pass `--headless` too, which is
 *   harmless. `--mute-audio` only silences the speakers: WebAudio analysers still see the
 *   signal.
 * - Chromium 156 headless already lets unmuted <video autoplay> and AudioContext run without a
 *   click (measured); `--autoplay-policy=no-user-gesture-required` pins that down explicitly.
 * - Chromium loops the y4m: counters seen through the fake camera wrap at the clip length.
 * - Chromium's fake microphone is a short beep (~0.3 RMS) about every 0.5 s with silence
 *   between, not a continuous tone: measure audio as the max RMS over a window of ≥ 1 s
 *   (measureAudioRms does).
 * - A full-frame grab (grabVideoFrameRgba) costs ~130 ms on 2 cores (1.2 MB through CDP as
 *   base64): fine for a few dozen samples, too slow to see every frame.
 */
import { constants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { contentTypeOf } from '../../main/content-types.js';

/** First executable of $CHROMIUM_PATH, /usr/bin/chromium, then chromium / chromium-browser on $PATH. */
async function findChromium(): Promise<string> {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  const candidates = [
    process.env.CHROMIUM_PATH,
    '/usr/bin/chromium',
    ...dirs.flatMap((d) => [path.join(d, 'chromium'), path.join(d, 'chromium-browser')]),
  ].filter((p): p is string => !!p);
  for (const p of candidates) {
    if (await access(p, constants.X_OK).then(() => true, () => false)) return p;
  }
  throw new Error('Chromium not found: run apt-get install -y chromium (or set CHROMIUM_PATH)');
}

export interface LaunchOptions {
  /** A y4m file (makeY4m) for the fake camera; without it Chromium shows its built-in test pattern. */
  fakeVideo?: string;
  /** More Chromium switches (e.g. --allow-loopback-in-peer-connection). */
  extraArgs?: string[];
}

export interface ChromiumHandle {
  browser: Browser;
  /** A new page (own browser context); navigates to url if given. Page errors are printed to stderr. */
  page(url?: string): Promise<Page>;
  close(): Promise<void>;
}

export async function launchChromium(opts: LaunchOptions = {}): Promise<ChromiumHandle> {
  const executablePath = await findChromium();
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-quic',
    '--autoplay-policy=no-user-gesture-required',
    '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream',
  ];
  if (opts.fakeVideo) {
    // A missing file does not fail the launch: getUserMedia would just never deliver frames.
    await access(opts.fakeVideo, constants.R_OK);
    args.push(`--use-file-for-fake-video-capture=${opts.fakeVideo}`);
  }
  args.push(...(opts.extraArgs ?? []));
  const browser = await chromium.launch({ executablePath, headless: true, args });
  return {
    browser,
    async page(url) {
      const page = await (await browser.newContext()).newPage();
      page.on('pageerror', (err) => console.error(`[chromium page error] ${err.message}`));
      if (url) await page.goto(url);
      return page;
    },
    close: () => browser.close(),
  };
}

export interface RgbaGrab {
  width: number;
  height: number;
  /** Tightly packed RGBA, base64 (Buffer.from(rgba, 'base64') in Node). */
  rgba: string;
}

/**
 * Draws the current frame of the <video> matching selector into a canvas and returns its pixels.
 * Waits (up to timeoutMs) for the video to have a frame.
 */
export function grabVideoFrameRgba(page: Page, selector = 'video', timeoutMs = 10_000): Promise<RgbaGrab> {
  return page.evaluate(async ({ selector, timeoutMs }) => {
    const deadline = performance.now() + timeoutMs;
    const video = document.querySelector<HTMLVideoElement>(selector);
    if (!video) throw new Error(`no element matches ${selector}`);
    while (video.readyState < HTMLMediaElement.HAVE_CURRENT_DATA || video.videoWidth === 0) {
      if (performance.now() > deadline) throw new Error(`${selector} has no video frame after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const { videoWidth: width, videoHeight: height } = video;
    const ctx = new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true })!;
    ctx.drawImage(video, 0, 0);
    const rgba = ctx.getImageData(0, 0, width, height).data;
    // String.fromCharCode takes a limited number of arguments: convert in slices.
    let binary = '';
    for (let i = 0; i < rgba.length; i += 0x8000) binary += String.fromCharCode(...rgba.subarray(i, i + 0x8000));
    return { width, height, rgba: btoa(binary) };
  }, { selector, timeoutMs });
}

/**
 * The highest RMS (0..1) of the audio in the MediaStream playing in the <video>/<audio> matching
 * selector (its srcObject), sampled every 20 ms for durationMs, via a WebAudio analyser in the page.
 */
export function measureAudioRms(page: Page, selector = 'video', durationMs = 1500): Promise<number> {
  return page.evaluate(async ({ selector, durationMs }) => {
    const el = document.querySelector<HTMLMediaElement>(selector);
    const stream = el?.srcObject;
    if (!(stream instanceof MediaStream)) throw new Error(`${selector} has no MediaStream srcObject`);
    if (stream.getAudioTracks().length === 0) throw new Error(`${selector}'s stream has no audio track`);
    const ctx = new AudioContext();
    try {
      await ctx.resume();
      const analyser = ctx.createAnalyser();
      analyser.fftSize = 2048;
      ctx.createMediaStreamSource(stream).connect(analyser);
      const buf = new Float32Array(analyser.fftSize);
      let max = 0;
      for (const end = performance.now() + durationMs; performance.now() < end; ) {
        await new Promise((r) => setTimeout(r, 20));
        analyser.getFloatTimeDomainData(buf);
        max = Math.max(max, Math.sqrt(buf.reduce((a, s) => a + s * s, 0) / buf.length));
      }
      return max;
    } finally {
      await ctx.close();
    }
  }, { selector, durationMs });
}

/** Body and content type of a route; a bare string or Buffer gets its type from the path's extension. */
export type Routes = Record<string, string | Buffer | { body: string | Buffer; type: string }>;

const typeOf = (p: string) => contentTypeOf(p) ?? 'application/octet-stream';

/**
 * A static HTTP server on 127.0.0.1 (random port) serving a directory, or in-memory routes
 * ({'/index.html': '<html>…'}); "/" serves /index.html. url has no trailing slash.
 */
export async function serveStatic(root: string | Routes): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(async (req, res) => {
    let pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (pathname.endsWith('/')) pathname += 'index.html';
    try {
      let body: string | Buffer;
      let type = typeOf(pathname);
      if (typeof root === 'string') {
        const base = path.resolve(root);
        const file = path.join(base, pathname);
        if (!file.startsWith(base + path.sep)) throw new Error('outside root');
        body = await readFile(file);
      } else {
        const route = root[pathname];
        if (route === undefined) throw new Error('no route');
        if (typeof route === 'string' || Buffer.isBuffer(route)) body = route;
        else ({ body, type } = route);
      }
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
