/**
 * `npm run build:electron`: bundles the desktop app's Node-side code (the page itself is built
 * by Vite into dist/renderer/):
 *
 *   dist/electron/main.js      the main process (ESM; Electron runs ESM main scripts since 28, we pin 40:
 *                              Chromium 144, Node 24, so the chrome140/node22 targets below hold)
 *   dist/electron/preload.cjs  the preload (CommonJS: a sandboxed preload cannot be ESM; all its
 *                              code inlined, since a sandboxed preload can only require 'electron')
 *   dist/engine/cli.js         the built-in media engine, run by a plain Node (not Electron)
 *   dist/engine/face-detector-worker.js   its worker threads, found next to cli.js
 *   dist/engine/image-decode-worker.js
 *
 * The engine must sit two folders below the package root, as in the source tree: it reads
 * ../../package.json relative to its own file (engine/elements/factories.ts).
 * npm packages stay external (loaded from node_modules at run time): kurento-client and the
 * engine's dependencies find their own data files (kmd JSON, face-api weights, wasm) by
 * resolving their package folders, and @roamhq/wrtc is a native addon.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const common: BuildOptions = {
  bundle: true,
  platform: 'node',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
};

/** Builds into `<distDir>/electron` and `<distDir>/engine`; distDir must be a folder of the package root. */
export async function buildElectron(distDir = path.join(ROOT, 'dist')): Promise<void> {
  const outdir = path.join(distDir, 'electron');
  const engineDir = path.join(distDir, 'engine');
  await Promise.all([outdir, engineDir].map((d) => rm(d, { recursive: true, force: true })));
  await Promise.all([
    build({
      ...common,
      entryPoints: [path.join(ROOT, 'main/electron/main.ts')],
      outfile: path.join(outdir, 'main.js'),
      format: 'esm',
      target: 'node22',
    }),
    build({
      ...common,
      entryPoints: [path.join(ROOT, 'preload/index.ts')],
      outfile: path.join(outdir, 'preload.cjs'),
      format: 'cjs',
      target: 'chrome140',
    }),
    build({
      ...common,
      entryPoints: ['engine/cli.ts', 'engine/vision/face-detector-worker.ts', 'engine/vision/image-decode-worker.ts'].map((f) => path.join(ROOT, f)),
      outdir: engineDir,
      entryNames: '[name]',
      format: 'esm',
      target: 'node20',
    }),
  ]);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildElectron();
  console.log('built dist/electron/ and dist/engine/');
}
