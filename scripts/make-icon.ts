/**
 * `npx tsx scripts/make-icon.ts`: draws the app icon, build/icon.png (1024×1024, RGBA), from the
 * page's logo (renderer/images/logo.svg): rendered by headless Chromium at full size (vector,
 * so sharp), with a transparent margin as desktop icons have, then checked and written with
 * pngjs. electron-builder makes the .ico/.icns and the Linux sizes from it.
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { launchChromium } from '../test/helpers/chromium.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SIZE = 1024;
/** The rounded square covers 824 px, centred (macOS' icon grid; fine on Windows and Linux). */
const MARGIN = 100;

export async function renderIcon(): Promise<Buffer> {
  const svg = await readFile(`${ROOT}renderer/images/logo.svg`, 'utf8');
  const chromium = await launchChromium();
  try {
    const page = await chromium.page();
    await page.setViewportSize({ width: SIZE, height: SIZE });
    const inner = SIZE - 2 * MARGIN;
    await page.setContent(
      `<!doctype html><style>html,body{margin:0;background:transparent}svg{display:block;position:absolute;left:${MARGIN}px;top:${MARGIN}px;width:${inner}px;height:${inner}px;filter:drop-shadow(0 12px 24px rgba(20,10,40,.35))}</style>${svg}`,
    );
    const shot = await page.screenshot({ omitBackground: true, type: 'png' });
    const png = PNG.sync.read(shot);
    if (png.width !== SIZE || png.height !== SIZE) throw new Error(`rendered ${png.width}×${png.height}, not ${SIZE}×${SIZE}`);
    // Re-encoded by pngjs: plain 8-bit RGBA (what every icon tool reads).
    return PNG.sync.write(png);
  } finally {
    await chromium.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await mkdir(`${ROOT}build`, { recursive: true });
  await writeFile(`${ROOT}build/icon.png`, await renderIcon());
  console.log('wrote build/icon.png');
}
