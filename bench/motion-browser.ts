/**
 * `npm run bench -- --motion --client chromium` (or all): the motion clips as a person sees
 * them — each clip is Chromium's fake camera (a y4m of the clip with its frame counters), the
 * real mirror page in web mode on the embedded engine presses Start, and the page reads every
 * frame its mirror <video> presents: the counter and the key-colour hat, found in the page
 * (bench/browser-page.ts __mmRecordKeys, bench/key-blobs.ts). The frames are scored exactly as
 * the wrtc runs are (bench/motion.ts scoreMotion). One page: a Chromium page costs ~0.7 core.
 */
import { performance } from 'node:perf_hooks';
import { startWebMode } from '../main/web/web-mode.js';
import { buildRenderer } from '../test/helpers/build-renderer.js';
import { launchChromium, serveStatic } from '../test/helpers/chromium.js';
import { engineCounts } from '../test/helpers/engine-counts.js';
import { makeY4m } from '../test/helpers/video-fixtures.js';
import { MIRROR, oneStart, openPage, stop } from './browser.js';
import { frameRecorderScript, recordKeyFrames } from './browser-page.js';
import type { KeyBlob } from './key-blobs.js';
import { CLIP_NAMES, clipFrames, facesIn, poseAt, renderClip, warmupFor, type ClipName } from './motion-clips.js';
import { detectorFigures, expectedKey, FACE_KEYS, failedRun, keyHats, keyHatUrls, motionLine, scoreMotion, type MotionOptions, type MotionRun, type Scored } from './motion.js';
import { openWrtcLoad } from './measure.js';
import { cpuSeconds } from './proc.js';
import { round } from './stats.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the page recorded per presented frame. */
interface PageKeyFrame {
  counter: number;
  width: number;
  height: number;
  blobs: KeyBlob[];
}

export async function measureMotionChromium(o: MotionOptions): Promise<MotionRun[]> {
  const log = o.log ?? (() => undefined);
  await buildRenderer();
  const hats = await serveStatic(keyHats());
  const recorder = await frameRecorderScript();
  const runs: MotionRun[] = [];
  try {
    for (const clip of o.clips ?? CLIP_NAMES) {
      const fps = o.fps ?? 30;
      const frames = await renderClip(clip, o.width, o.height, fps);
      const y4m = await makeY4m({ width: o.width, height: o.height, fps, frames: clipFrames(fps), painter: { name: `motion-${clip}-${fps}`, paint: (dst, i) => dst.set(frames[i]!) } });
      // Web mode per clip: a clip with several faces gives each face its own key hat.
      const web = await startWebMode({ asUri: 'http://127.0.0.1:0', wsUri: 'builtin', hat: keyHatUrls(hats.url, clip), engineLog: () => undefined, log: () => undefined });
      const chromium = await launchChromium({ fakeVideo: y4m }).catch(async (err: Error) => {
        await web.close();
        throw err;
      });
      let run: MotionRun;
      try {
        const engine = await web.registry.engine.start();
        const load = o.loadSessions ? await openWrtcLoad(engine.uri, o.loadSessions, { width: o.width, height: o.height, fps }) : undefined;
        const page = await openPage(chromium, web.url, recorder);
        try {
          await oneStart(page);
          await sleep(warmupFor(clip, o.warmupSeconds) * 1000);
          await recordKeyFrames(page, MIRROR, expectedKey(poseAt(clip, 0, o.width, o.height)).area * 0.25, FACE_KEYS.slice(0, facesIn(clip)));
          const cpu0 = cpuSeconds(engine.pid);
          const c0 = await engineCounts(engine.uri);
          const t0 = performance.now();
          await sleep(o.seconds * 1000);
          const seconds = (performance.now() - t0) / 1000;
          const engineCores = round((cpuSeconds(engine.pid) - cpu0) / seconds, 2);
          const detector = detectorFigures(c0, await engineCounts(engine.uri), seconds, 1);
          const presented = (await page.evaluate(`window.__mmTake(${JSON.stringify(MIRROR)})`)) as PageKeyFrame[];
          await stop(page);
          // In the clip's pixels (the page may show the mirror at another size).
          const scored: Scored[] = presented.map((f) => ({
            counter: f.counter,
            blobs: f.blobs.map((b) => ({ ...b, x: (b.x * o.width) / f.width, y: (b.y * o.height) / f.height, area: (b.area * o.width * o.height) / (f.width * f.height) })),
          }));
          // The clip loops every clipFrames(fps) frames, so new frames are counted as changes of counter.
          const shown = scored.filter((f, i) => i === 0 || f.counter !== scored[i - 1]!.counter).length;
          run = { client: 'chromium', clip, sessions: 1, fps: round(shown / seconds)!, engineCores, ...detector, ...scoreMotion(clip, [scored], o.width, o.height, fps) };
        } finally {
          await page.context().close();
          await load?.close();
        }
      } catch (err) {
        run = failedRun('chromium', clip, 1, (err as Error).message);
      } finally {
        await chromium.close();
        await web.close();
      }
      Object.assign(run, { cameraFps: o.fps ?? 30, ...(o.stress ? { stress: o.stress } : {}) });
      runs.push(run);
      log(motionLine(run));
    }
  } finally {
    await hats.close();
  }
  return runs;
}

export type { ClipName };
