/**
 * Starts a worker-thread file that sits next to its caller: `.ts` when run via tsx, `.js` once
 * built (scripts/build-electron.ts bundles each worker next to cli.js). Node 20 does not apply
 * the parent's module hooks (tsx's --import) to worker threads, so a `.ts` worker is started
 * through tsx's CommonJS hook instead.
 */
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** `base` is the caller's import.meta.url; `name` the worker's file name without extension. */
export function startWorkerFile(base: string, name: string, options: WorkerOptions = {}): Worker {
  const ext = extname(fileURLToPath(base));
  const file = fileURLToPath(new URL(`./${name}${ext}`, base));
  if (ext !== '.ts') return new Worker(file, options);
  const tsxCjs = createRequire(base).resolve('tsx/cjs');
  return new Worker(`require(${JSON.stringify(tsxCjs)}); require(${JSON.stringify(file)});`, { ...options, eval: true });
}
