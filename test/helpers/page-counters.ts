/**
 * Reads frame counters from a <video> playing in Chromium, frame by frame: the page copies the
 * counter strip of every new video frame (requestVideoFrameCallback) and hands it to Node,
 * where readCounterRgba decodes it. Only the strip crosses CDP (640×32 px), not whole frames.
 */
import type { Page } from 'playwright-core';
import { counterStripRect, readCounterRgba } from './frame-counter.js';

export interface PageCounters {
  readonly counters: Set<number>;
  readonly frames: number;
  /** Resolves when `count` distinct counters were seen. */
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  /** Stops collecting in the page. */
  stop(): Promise<void>;
}

export async function collectPageCounters(page: Page, selector: string): Promise<PageCounters> {
  const counters = new Set<number>();
  let frames = 0;
  let full: Uint8Array | undefined;
  const binding = `__reportStrip${Math.random().toString(36).slice(2)}`;
  await page.exposeFunction(binding, (b64: string, width: number, height: number) => {
    const strip = counterStripRect(width, height);
    if (!full || full.length !== width * height * 4) full = new Uint8Array(width * height * 4);
    full.set(Buffer.from(b64, 'base64'), strip.y * width * 4);
    frames++;
    const n = readCounterRgba(full, width, height);
    if (n !== null) counters.add(n);
  });
  const stripFraction = counterStripRect(480, 480).height / 480;
  // A string, not a function: tsx compiles functions with a `__name` helper the page lacks.
  await page.evaluate(`(() => {
    const video = document.querySelector(${JSON.stringify(selector)});
    if (!video) throw new Error('no element matches ${selector}');
    window.__stopCounters = false;
    const onFrame = () => {
      if (window.__stopCounters) return;
      const width = video.videoWidth, height = video.videoHeight;
      if (width && height) {
        const sh = Math.max(1, Math.round(height * ${stripFraction}));
        const ctx = new OffscreenCanvas(width, sh).getContext('2d', { willReadFrequently: true });
        ctx.drawImage(video, 0, height - sh, width, sh, 0, 0, width, sh);
        const rgba = ctx.getImageData(0, 0, width, sh).data;
        let binary = '';
        for (let i = 0; i < rgba.length; i += 0x8000) binary += String.fromCharCode(...rgba.subarray(i, i + 0x8000));
        window[${JSON.stringify(binding)}](btoa(binary), width, height);
      }
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  })()`);
  return {
    counters,
    get frames() {
      return frames;
    },
    async waitFor(count, timeoutMs = 20_000) {
      const end = Date.now() + timeoutMs;
      while (counters.size < count) {
        if (Date.now() > end) throw new Error(`saw ${counters.size} of ${count} distinct counters (${frames} frames) in ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    stop: () => page.evaluate('void (window.__stopCounters = true)'),
  };
}
