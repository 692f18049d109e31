/**
 * What the browser bench runs inside Chromium pages: a frame recorder that, for every frame a
 * <video> presents (requestVideoFrameCallback), reads the frame counter out of its pixels (the
 * reader of test/helpers/frame-counter.ts, bundled for the page by esbuild) and keeps
 * [counter, expectedDisplayTime]; and the page's Start marks (renderer/timing.ts).
 *
 * Everything is read in the page and fetched once per window, so the bench adds one small
 * canvas read per presented frame and nothing per frame over CDP.
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { START_MARKS, type StartMark } from '../renderer/timing.js';
import type { KeyColour } from './key-blobs.js';

/** A presented frame: its counter (null: none readable) and when it was shown (page clock, ms). */
export type PresentedFrame = [counter: number | null, shownAt: number];

let recorderScript: Promise<string> | undefined;

/** The init script that defines window.__mmRecord(selector) / __mmTake(selector) in a page. */
export function frameRecorderScript(): Promise<string> {
  recorderScript ??= build({
    stdin: {
      contents: [
        `export { counterStripRect, readCounterRgba } from ${JSON.stringify(fileURLToPath(new URL('../test/helpers/frame-counter.ts', import.meta.url)))};`,
        `export { findKeyBlobsRgba } from ${JSON.stringify(fileURLToPath(new URL('./key-blobs.ts', import.meta.url)))};`,
      ].join('\n'),
      resolveDir: process.cwd(),
      loader: 'ts',
    },
    bundle: true,
    format: 'iife',
    globalName: '__mmCounter',
    write: false,
    platform: 'browser',
    target: 'chrome120',
  }).then((r) => `${r.outputFiles[0]!.text}\n${RECORDER}`);
  return recorderScript;
}

// A string, not a function: tsx would compile a function with a `__name` helper the page lacks.
const RECORDER = `
(() => {
  const recorders = new Map();
  window.__mmRecord = (selector) => {
    const video = document.querySelector(selector);
    if (!video) throw new Error('no element matches ' + selector);
    const rec = { frames: [], on: true, full: null, ctx: null };
    recorders.get(selector)?.stop();
    rec.stop = () => { rec.on = false; };
    recorders.set(selector, rec);
    const onFrame = (_now, meta) => {
      if (!rec.on) return;
      const w = video.videoWidth, h = video.videoHeight;
      if (w && h) {
        const strip = __mmCounter.counterStripRect(w, h);
        if (!rec.full || rec.full.length !== w * h * 4) {
          rec.full = new Uint8ClampedArray(w * h * 4);
          rec.ctx = new OffscreenCanvas(w, strip.height).getContext('2d', { willReadFrequently: true });
        }
        rec.ctx.drawImage(video, 0, strip.y, w, strip.height, 0, 0, w, strip.height);
        rec.full.set(rec.ctx.getImageData(0, 0, w, strip.height).data, strip.y * w * 4);
        rec.frames.push([__mmCounter.readCounterRgba(rec.full, w, h), meta.expectedDisplayTime]);
      }
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  };
  // The motion bench: every presented frame read whole, its counter and its key-colour blobs.
  window.__mmRecordKeys = (selector, minArea, keys) => {
    const video = document.querySelector(selector);
    if (!video) throw new Error('no element matches ' + selector);
    const rec = { frames: [], on: true, ctx: null };
    recorders.get(selector)?.stop();
    rec.stop = () => { rec.on = false; };
    recorders.set(selector, rec);
    const onFrame = () => {
      if (!rec.on) return;
      const w = video.videoWidth, h = video.videoHeight;
      if (w && h) {
        if (!rec.ctx || rec.ctx.canvas.width !== w || rec.ctx.canvas.height !== h) rec.ctx = new OffscreenCanvas(w, h).getContext('2d', { willReadFrequently: true });
        rec.ctx.drawImage(video, 0, 0, w, h);
        const rgba = rec.ctx.getImageData(0, 0, w, h).data;
        const counter = __mmCounter.readCounterRgba(rgba, w, h);
        if (counter !== null) rec.frames.push({ counter, width: w, height: h, blobs: keys.flatMap((key) => __mmCounter.findKeyBlobsRgba(rgba, w, h, minArea, key)) });
      }
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  };
  window.__mmTake = (selector) => {
    const rec = recorders.get(selector);
    if (!rec) return [];
    rec.stop();
    recorders.delete(selector);
    return rec.frames;
  };
})();
`;

/** Starts recording the frames `selector` presents (replacing an earlier recording of it). */
export async function recordFrames(page: Page, selector: string): Promise<void> {
  await page.evaluate(`window.__mmRecord(${JSON.stringify(selector)})`);
}

/** Starts recording the counter and key-colour blobs of every frame `selector` presents (the motion bench). */
export async function recordKeyFrames(page: Page, selector: string, minArea: number, keys: readonly KeyColour[]): Promise<void> {
  await page.evaluate(`window.__mmRecordKeys(${JSON.stringify(selector)}, ${minArea}, ${JSON.stringify(keys)})`);
}

/** Stops a recording and returns its frames. */
export function takeFrames(page: Page, selector: string): Promise<PresentedFrame[]> {
  return page.evaluate(`window.__mmTake(${JSON.stringify(selector)})`) as Promise<PresentedFrame[]>;
}

/** The current Start's marks, ms after its `start` mark (absent steps are missing). */
export type StartTimeline = Partial<Record<StartMark, number>>;

export async function startTimeline(page: Page): Promise<StartTimeline> {
  const names = JSON.stringify(START_MARKS);
  const raw = (await page.evaluate(`(() => {
    const names = ${names};
    const out = {};
    for (const [step, name] of Object.entries(names)) {
      const e = performance.getEntriesByName(name, 'mark').at(-1);
      if (e) out[step] = e.startTime;
    }
    return out;
  })()`)) as Record<string, number>;
  const t0 = raw.start;
  if (t0 === undefined) return {};
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, v - t0])) as StartTimeline;
}

/** Time in the page's clock (performance.now()). */
export function pageNow(page: Page): Promise<number> {
  return page.evaluate('performance.now()') as Promise<number>;
}
