/**
 * Finding the hat in the page's mirror <video>: where the mirror differs from the camera
 * <video> (both show the same still scene), the hat is. Used by the end-to-end tests of web
 * mode and of the desktop app's page.
 */
import type { Page } from 'playwright-core';
import { grabVideoFrameRgba } from './chromium.js';
import { waitFor } from './wait.js';

export interface HatBox {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * Both videos are grabbed into canvases; the bottom 40 rows (the frame counter) are left out.
 * Returns the bounding box in 640×480 coordinates and a colour sampler for the mirror.
 */
export async function hatRegion(page: Page) {
  const [mirror, camera] = await Promise.all([grabVideoFrameRgba(page, '#mirror-video'), grabVideoFrameRgba(page, '#camera-video')]);
  const m = Buffer.from(mirror.rgba, 'base64');
  const c = Buffer.from(camera.rgba, 'base64');
  const rows = new Uint32Array(480);
  const cols = new Uint32Array(640);
  const px = (g: typeof mirror, buf: Buffer, x: number, y: number) => {
    const i = (Math.min(g.height - 1, Math.round((y * g.height) / 480)) * g.width + Math.min(g.width - 1, Math.round((x * g.width) / 640))) * 4;
    return [buf[i]!, buf[i + 1]!, buf[i + 2]!] as const;
  };
  for (let y = 0; y < 440; y++) {
    for (let x = 0; x < 640; x++) {
      const a = px(mirror, m, x, y);
      const b = px(camera, c, x, y);
      if (Math.abs(a[0] - b[0]) + Math.abs(a[1] - b[1]) + Math.abs(a[2] - b[2]) > 150) (rows[y]++, cols[x]++);
    }
  }
  const ys = [...rows.keys()].filter((y) => rows[y]! >= 6);
  const xs = [...cols.keys()].filter((x) => cols[x]! >= 6);
  const box: HatBox | undefined = ys.length && xs.length ? { x0: xs[0]!, y0: ys[0]!, x1: xs[xs.length - 1]!, y1: ys[ys.length - 1]! } : undefined;
  return { box, colourAt: (x: number, y: number) => px(mirror, m, x, y) };
}

/** Waits until the mirror shows a hat for which `where` holds, and returns it. */
export async function waitForHatWhere(page: Page, where: (box: HatBox) => boolean, what: string, timeoutMs = 20_000) {
  let region: Awaited<ReturnType<typeof hatRegion>> | undefined;
  await waitFor(async () => {
    region = await hatRegion(page);
    return !!region.box && where(region.box);
  }, timeoutMs, what).catch((err: Error) => {
    throw new Error(`${err.message} (last seen: ${JSON.stringify(region?.box)})`);
  });
  return region!;
}
