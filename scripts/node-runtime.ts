/**
 * `npx tsx scripts/node-runtime.ts [platform-arch …]` (part of `npm run dist`): puts the Node.js
 * runtime that runs the built-in engine in the packaged app at build/node/<platform>-<arch>/node
 * (node.exe on Windows), where electron-builder.yml's extraResources takes it from. It comes
 * from the npm registry: the `node-<os>-<arch>` packages (what the `node` package installs),
 * installed into a scratch folder, so the project's node_modules is left alone.
 * Default: this machine's platform and arch. Version: NODE_RUNTIME_VERSION, `nodeRuntime` in
 * scripts/runtimes.json (a Node LTS; `.ci/run` runs the whole suite on the same version).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A release line (a Node or Electron major) and the day its support ends (YYYY-MM-DD). */
export interface SupportedLine {
  line: number;
  end: string;
  until?: string;
}
export interface Runtimes {
  nodeRuntime: string;
  node: SupportedLine[];
  electron: SupportedLine[];
}
/** scripts/runtimes.json: the supported runtimes, in one place (read by `.ci/run` too). */
export const RUNTIMES = JSON.parse(readFileSync(path.join(ROOT, 'scripts', 'runtimes.json'), 'utf8')) as Runtimes;
/** The Node version the packaged app ships to run the engine. */
export const NODE_RUNTIME_VERSION = RUNTIMES.nodeRuntime;
/** npm's package names use win/darwin/linux and Node's arch names. */
const NPM_OS: Record<string, string> = { win32: 'win', darwin: 'darwin', linux: 'linux' };

export function runtimeTarget(platform: string, arch: string): { pkg: string; bin: string; dest: string } {
  const npmOs = NPM_OS[platform];
  if (!npmOs) throw new Error(`no Node runtime package for ${platform}`);
  const exe = platform === 'win32' ? 'node.exe' : 'node';
  return {
    pkg: `node-${npmOs}-${arch}@${NODE_RUNTIME_VERSION}`,
    bin: path.join('bin', exe),
    dest: path.join(ROOT, 'build', 'node', `${npmOs}-${arch}`, exe),
  };
}

function fetchRuntime(platform: string, arch: string): string {
  const { pkg, bin, dest } = runtimeTarget(platform, arch);
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'mm-node-runtime-'));
  try {
    // --force: the packages declare os/cpu, and a runtime for another platform is what we want here.
    execFileSync('npm', ['install', '--no-save', '--no-package-lock', '--ignore-scripts', '--force', '--prefix', scratch, pkg], { stdio: 'inherit', shell: process.platform === 'win32' });
    const name = pkg.slice(0, pkg.lastIndexOf('@'));
    const from = path.join(scratch, 'node_modules', name, bin);
    if (!existsSync(from)) throw new Error(`${pkg} has no ${bin}`);
    mkdirSync(path.dirname(dest), { recursive: true });
    copyFileSync(from, dest);
    chmodSync(dest, 0o755);
    return dest;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const targets = process.argv.slice(2).length ? process.argv.slice(2) : [`${process.platform}-${process.arch}`];
  for (const t of targets) {
    const [platform, arch] = t.split('-') as [string, string];
    console.log(`Node ${NODE_RUNTIME_VERSION} for ${platform}-${arch}: ${fetchRuntime(platform, arch)}`);
  }
}
