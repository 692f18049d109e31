/**
 * Packs the built app (`npm run build` output) the way electron-builder would, from
 * electron-builder.yml, without Electron or the network: which files go in (its `files` rules,
 * through electron-builder's own file matchers from app-builder-lib), which node_modules (the
 * production dependency closure of package.json, with the `files` exclusions applied as
 * electron-builder applies them), which of those are unpacked (its `asarUnpack` matcher, plus
 * its smart unpack of native modules), into app.asar + app.asar.unpacked with @electron/asar.
 * test/packaging.test.ts then loads every run-time module from the result.
 *
 * Differences from a real electron-builder run, on purpose: no Electron binary, no fuses,
 * no signing, no per-file cleanup of node_modules (electron-builder also drops READMEs, tests,
 * …): the packed tree holds a little more, never less.
 *
 *   npx tsx scripts/pack-app.ts [outDir]    (default: release/pack-check/)
 */
import { createReadStream, existsSync, readFileSync, readdirSync, statSync, type Stats } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
// electron-builder's own code (app-builder-lib is electron-builder's dependency).
const { getMainFileMatchers, getNodeModuleFileMatcher, getFileMatchers } = require('app-builder-lib/out/fileMatcher.js') as {
  getMainFileMatchers: (...args: unknown[]) => { createFilter(): Filter }[];
  getNodeModuleFileMatcher: (...args: unknown[]) => { createFilter(): Filter };
  getFileMatchers: (...args: unknown[]) => { createFilter(): Filter }[] | null;
};
const { isLibOrExe } = require('app-builder-lib/out/asar/unpackDetector.js') as { isLibOrExe(file: string): boolean };
const yaml = require('js-yaml') as { load(text: string): unknown };
const asar = require('@electron/asar') as typeof import('@electron/asar');

type Filter = (file: string, stat: Stats) => boolean;

export const ROOT = path.resolve(fileURLToPath(new URL('..', import.meta.url)));

export interface BuilderConfig {
  files: unknown[];
  asarUnpack: string[];
  directories?: { output?: string; buildResources?: string };
  [key: string]: unknown;
}

export function readBuilderConfig(projectDir = ROOT): BuilderConfig {
  return yaml.load(readFileSync(path.join(projectDir, 'electron-builder.yml'), 'utf8')) as BuilderConfig;
}

export interface PackedApp {
  asar: string;
  unpackedDir: string;
  /** Paths inside the archive (posix), packed or unpacked. */
  files: string[];
  unpacked: string[];
  /** node_modules package folders included (posix, relative). */
  modules: string[];
}

/** The production dependencies of the package at `dir`, as folders on disk (Node's resolution: nested first, then up). */
export function productionModules(projectDir: string): string[] {
  projectDir = path.resolve(projectDir);
  const found = new Set<string>();
  const visit = (names: string[], fromDir: string) => {
    for (const name of names) {
      const dir = resolvePackageDir(name, fromDir, projectDir);
      if (!dir || found.has(dir)) continue;
      found.add(dir);
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
      visit([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {})], dir);
    }
  };
  const root = JSON.parse(readFileSync(path.join(projectDir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  visit(Object.keys(root.dependencies ?? {}), projectDir);
  return [...found].sort();
}

function resolvePackageDir(name: string, fromDir: string, projectDir: string): string | undefined {
  for (let dir = fromDir; dir.startsWith(projectDir); dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === projectDir) break;
  }
  return undefined; // an optional dependency for another platform
}

/** Every file under dir (not descending into nested node_modules: those are packages of their own). */
function walk(dir: string, filter: Filter, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const abs = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name === 'node_modules') continue;
      if (filter(abs, statSync(abs))) walk(abs, filter, out);
    } else if (entry.isFile()) {
      if (filter(abs, statSync(abs))) out.push(abs);
    }
  }
  return out;
}

export async function packApp(outDir: string, projectDir = ROOT, config: BuilderConfig = readBuilderConfig(projectDir)): Promise<PackedApp> {
  projectDir = path.resolve(projectDir);
  const expand = (s: string) => s;
  const info = {
    projectDir,
    buildResourcesDir: config.directories?.buildResources ?? 'build',
    isPrepackedAppAsar: false,
    config,
    debugLogger: { isEnabled: false, add() {} },
  };
  const releaseDir = path.join(projectDir, config.directories?.output ?? 'dist');
  const appFilter = getMainFileMatchers(projectDir, '', expand, {}, { info }, releaseDir, false)[0]!.createFilter();
  const moduleFilter = getNodeModuleFileMatcher(projectDir, '', expand, {}, info).createFilter();
  const unpackMatchers = getFileMatchers(config, 'asarUnpack', '', { macroExpander: expand, customBuildOptions: {}, globalOutDir: releaseDir, defaultSrc: projectDir });
  const unpackFilter: Filter = unpackMatchers ? unpackMatchers[0]!.createFilter() : () => false;

  const appFiles = readdirSync(projectDir, { withFileTypes: true })
    .filter((e) => e.name !== 'node_modules' && e.name !== '.git')
    .flatMap((e) => {
      const abs = path.join(projectDir, e.name);
      if (!appFilter(abs, statSync(abs))) return [];
      return e.isDirectory() ? walk(abs, appFilter) : [abs];
    });

  const modules = productionModules(projectDir);
  const moduleFiles: string[] = [];
  const smartUnpacked = new Set<string>();
  for (const dir of modules) {
    const files = walk(dir, moduleFilter);
    if (files.some(isLibOrExe)) smartUnpacked.add(dir);
    moduleFiles.push(...files);
  }

  const rel = (abs: string) => path.relative(projectDir, abs).split(path.sep).join('/');
  const all = [...appFiles, ...moduleFiles].sort();
  const isUnpacked = (abs: string) => unpackFilter(abs, statSync(abs)) || [...smartUnpacked].some((d) => abs.startsWith(d + path.sep));

  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const dest = path.join(outDir, 'app.asar');
  const unpacked: string[] = [];
  const streams = all.map((abs) => {
    const unpack = isUnpacked(abs);
    if (unpack) unpacked.push(rel(abs));
    const stat = statSync(abs);
    return {
      type: 'file' as const,
      path: rel(abs),
      unpacked: unpack,
      stat: { mode: stat.mode, size: stat.size },
      streamGenerator: () => createReadStream(abs),
    };
  });
  await asar.createPackageFromStreams(dest, streams);
  return { asar: dest, unpackedDir: `${dest}.unpacked`, files: all.map(rel), unpacked, modules: modules.map(rel) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = path.resolve(process.argv[2] ?? path.join(ROOT, 'release', 'pack-check'));
  const packed = await packApp(out);
  console.log(`${packed.asar}: ${packed.files.length} files (${packed.unpacked.length} unpacked), ${packed.modules.length} packages`);
}
