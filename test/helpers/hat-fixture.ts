/**
 * A directory of built-in hats for tests (the real ones live in assets/hats): one small
 * half-transparent PNG drawn with pngjs, `test-hat.png`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';

export const TEST_HAT = 'test-hat';

export async function makeHatDir(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mirror-hats-'));
  const png = new PNG({ width: 64, height: 48 });
  for (let y = 0; y < png.height; y++) {
    for (let x = 0; x < png.width; x++) {
      const i = (y * png.width + x) * 4;
      const brim = y > 36;
      png.data[i] = brim ? 20 : 200; // a red crown on a dark brim
      png.data[i + 1] = 20;
      png.data[i + 2] = 30;
      png.data[i + 3] = brim || (x > 12 && x < 52) ? 255 : 0;
    }
  }
  await writeFile(path.join(dir, `${TEST_HAT}.png`), PNG.sync.write(png));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
