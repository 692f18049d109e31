/**
 * The runtimes the project needs and ships, against the list of supported lines kept in
 * scripts/runtimes.json (Node LTS lines, Electron majors, each with the day its support ends):
 *
 * - Electron (package.json, exact) and the Node the packaged app ships for the engine
 *   (NODE_RUNTIME_VERSION) are on lines in that list, not past their end today;
 * - the Node the project builds and tests on (package.json `engines.node`, README "Requirements")
 *   is a supported line, and every direct dependency accepts every Node in that range (what
 *   `npm ci` warns EBADENGINE about); on the running Node, each installed dependency's own range;
 * - `.ci/run` takes its Node from the same file (one place for the version).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE_RUNTIME_VERSION, RUNTIMES, type SupportedLine } from '../scripts/node-runtime.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
// semver ships no typings: the functions used here.
const semver = require('semver') as {
  satisfies(version: string, range: string): boolean;
  subset(sub: string, dom: string): boolean;
  validRange(range: string): string | null;
  minVersion(range: string): { version: string; major: number } | null;
  major(version: string): number;
};

interface PackageJson {
  name: string;
  version: string;
  engines?: { node?: string };
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;
const pkg = readJson<PackageJson>(path.join(ROOT, 'package.json'));
const direct = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})];
const installed = (name: string) => readJson<PackageJson>(path.join(ROOT, 'node_modules', name, 'package.json'));
const today = () => new Date().toISOString().slice(0, 10);

/** Why `version` is not supported on `day` by `lines`, or undefined when it is. */
function unsupported(what: string, version: string, lines: SupportedLine[], day: string): string | undefined {
  const major = semver.major(version);
  const line = lines.find((l) => l.line === major);
  if (!line) return `${what} ${version}: line ${major} is not in scripts/runtimes.json (supported: ${lines.map((l) => l.line).join(', ')})`;
  if (line.end < day) return `${what} ${version}: line ${major} ended on ${line.end}${line.until ? ` (${line.until})` : ''}`;
  return undefined;
}

describe('supported runtimes (scripts/runtimes.json)', () => {
  test('the list: each line once, ascending, with an end date', () => {
    for (const [what, lines] of [['node', RUNTIMES.node], ['electron', RUNTIMES.electron]] as const) {
      assert.ok(lines.length > 0, what);
      for (const l of lines) {
        assert.ok(Number.isInteger(l.line) && l.line > 0, `${what} line ${l.line}`);
        assert.match(l.end, /^\d{4}-\d{2}-\d{2}$/, `${what} ${l.line} end`);
        assert.ok(!Number.isNaN(Date.parse(l.end)), `${what} ${l.line} end ${l.end}`);
      }
      assert.deepEqual(lines.map((l) => l.line), [...new Set(lines.map((l) => l.line))].sort((a, b) => a - b), `${what}: each line once, ascending`);
    }
    for (const l of RUNTIMES.node) assert.equal(l.line % 2, 0, `Node ${l.line}: LTS lines are even`);
  });

  test('the check bites: a line not listed, or past its end, is refused', () => {
    const lines = [{ line: 24, end: '2028-04-30' }];
    assert.match(unsupported('Node', '20.20.2', lines, '2026-12-07') ?? '', /line 20 is not in/);
    assert.match(unsupported('Node', '24.22.3', lines, '2028-05-01') ?? '', /ended on 2028-04-30/);
    assert.equal(unsupported('Node', '24.22.3', lines, '2028-04-30'), undefined, 'supported through its last day');
  });

  test(`Electron (package.json) is an exact release on a supported major, today (${today()})`, () => {
    const wanted = pkg.devDependencies?.electron ?? '';
    assert.match(wanted, /^\d+\.\d+\.\d+$/, `an exact version, so every install gets the release checked here: ${wanted}`);
    assert.equal(unsupported('electron', wanted, RUNTIMES.electron, today()), undefined);
  });

  test(`the Node the app ships for the engine (NODE_RUNTIME_VERSION) is on a supported LTS line, today (${today()})`, () => {
    assert.match(NODE_RUNTIME_VERSION, /^\d+\.\d+\.\d+$/, 'an exact version: scripts/node-runtime.ts installs node-<os>-<arch>@it');
    assert.equal(unsupported('Node', NODE_RUNTIME_VERSION, RUNTIMES.node, today()), undefined);
    assert.ok(semver.satisfies(NODE_RUNTIME_VERSION, pkg.engines?.node ?? ''), `${NODE_RUNTIME_VERSION} is one the project builds and tests on (${pkg.engines?.node})`);
    // The engine's run-time packages run on it in the packaged app.
    const refused = Object.keys(pkg.dependencies ?? {})
      .map((name) => ({ name, range: installed(name).engines?.node }))
      .filter(({ range }) => range !== undefined && !semver.satisfies(NODE_RUNTIME_VERSION, range))
      .map(({ name, range }) => `${name} wants node ${range}`);
    assert.deepEqual(refused, []);
  });

  test(`the Node the project builds on (engines.node's minimum) is on a supported line, today (${today()})`, () => {
    const min = semver.minVersion(pkg.engines?.node ?? '');
    assert.ok(min, `package.json engines.node is a range with a minimum: ${pkg.engines?.node}`);
    assert.equal(unsupported('Node', min.version, RUNTIMES.node, today()), undefined);
  });

  test('.ci/run runs the suite on the Node from scripts/runtimes.json (no version of its own)', () => {
    const ci = readFileSync(path.join(ROOT, '.ci/run'), 'utf8');
    assert.match(ci, /require\("\.\/scripts\/runtimes\.json"\)\.nodeRuntime/);
    assert.doesNotMatch(ci, /node-[a-z]+-[a-z0-9]+@\d/, 'no version written into the script');
    assert.match(ci, /^npm test$/m, "the README's test command");
    assert.match(ci, /node --version/, 'prints which Node it used');
  });
});

describe('Node version requirements', () => {
  test("the running Node satisfies package.json's engines.node", () => {
    const range = pkg.engines?.node;
    assert.ok(range && semver.validRange(range), `package.json engines.node is a valid range: ${range}`);
    assert.ok(semver.satisfies(process.version, range), `${process.version} satisfies ${range}`);
  });

  test("the running Node satisfies every direct (dev)dependency's engines.node", () => {
    assert.ok(direct.includes('electron') && direct.length > 10, 'the dependency list was read');
    const refused: string[] = [];
    for (const name of direct) {
      const dep = installed(name);
      assert.equal(dep.name, name);
      const range = dep.engines?.node;
      if (range === undefined) continue;
      assert.ok(semver.validRange(range), `${name}@${dep.version} engines.node is a valid range: ${range}`);
      if (!semver.satisfies(process.version, range)) refused.push(`${name}@${dep.version} wants node ${range}`);
    }
    assert.deepEqual(refused, [], `on ${process.version}`);
  });

  test("every installed package accepts every Node in package.json's engines.node (npm ci without EBADENGINE)", () => {
    // package-lock.json's entries carry each package's engines; those installed here are what
    // `npm ci` checked (optional builds for other platforms, e.g. wasm32, are not installed).
    const lock = readJson<{ packages: Record<string, { version?: string; engines?: { node?: string } }> }>(path.join(ROOT, 'package-lock.json'));
    const engines = pkg.engines!.node!;
    const checked = Object.entries(lock.packages).filter(([key, p]) => key && typeof p.engines?.node === 'string' && existsSync(path.join(ROOT, key, 'package.json')));
    assert.ok(checked.length > 100, `${checked.length} packages declare engines.node`);
    const refused = checked
      .filter(([, p]) => !semver.subset(engines, p.engines!.node!))
      .map(([key, p]) => `${key.replace(/^.*node_modules\//, '')}@${p.version} wants node ${p.engines!.node}, not all of ${engines}`);
    assert.deepEqual(refused, []);
  });

  test('the installed dependencies are the ones package.json asks for (so the checks above saw the right versions)', () => {
    for (const [name, range] of Object.entries({ ...pkg.dependencies, ...pkg.devDependencies })) {
      const { version } = installed(name);
      assert.ok(semver.satisfies(version, range), `${name}@${version} satisfies ${range} (run npm ci)`);
    }
  });

  test("README's Requirements names package.json's minimum Node", () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const section = readme.split(/^## /m).find((s) => s.startsWith('Requirements\n'));
    assert.ok(section, 'README has a "## Requirements" section');
    const m = /Node\.js (\d+(?:\.\d+){0,2}) or newer/.exec(section);
    assert.ok(m, `the section names "Node.js N or newer":\n${section}`);
    // "22.12 or newer" means exactly >=22.12 (no upper bound): the two ranges must contain the same versions.
    const readmeRange = `>=${m[1]}`;
    const engines = pkg.engines!.node!;
    assert.ok(semver.subset(engines, readmeRange) && semver.subset(readmeRange, engines), `README "Node.js ${m[1]} or newer" ≡ engines.node "${engines}"`);
  });
});
