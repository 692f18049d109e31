/** Builds the renderer (dist/renderer) once per test process, with the project's own Vite config. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const RENDERER_DIST = path.join(ROOT, 'dist/renderer');
let built: Promise<void> | undefined;

export function buildRenderer(): Promise<void> {
  built ??= promisify(execFile)(process.execPath, [path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn'], { cwd: ROOT }).then(() => undefined);
  return built;
}
