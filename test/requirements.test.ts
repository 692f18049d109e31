/**
 * The Node the project says it needs (package.json `engines.node`, README "Requirements") is one
 * every direct dependency accepts: running this on the CI's Node checks each installed
 * dependency's own `engines.node` (what `npm ci` warns EBADENGINE about). Electron is pinned
 * because every release after 40.10.2 declares Node >= 22.12 (docs/electron.md).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
// semver ships no typings: the three functions used here.
const semver = require('semver') as {
  satisfies(version: string, range: string): boolean;
  subset(sub: string, dom: string): boolean;
  validRange(range: string): string | null;
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

  test('the installed dependencies are the ones package.json asks for (so the check above saw the right versions)', () => {
    for (const [name, range] of Object.entries({ ...pkg.dependencies, ...pkg.devDependencies })) {
      const { version } = installed(name);
      assert.ok(semver.satisfies(version, range), `${name}@${version} satisfies ${range} (run npm ci)`);
    }
  });

  test("Electron is pinned to a release that accepts the project's minimum Node", () => {
    const wanted = pkg.devDependencies?.electron;
    assert.match(wanted ?? '', /^\d+\.\d+\.\d+$/, 'an exact version: a range would float to releases that want Node >= 22.12');
    const range = installed('electron').engines?.node ?? '*';
    // Not just the Node running now: every Node the project claims to support (>=20 → 20.0.0 and up).
    assert.ok(semver.subset(pkg.engines!.node!, range), `electron@${wanted} engines.node ${range} covers package.json's ${pkg.engines!.node}`);
  });

  test("README's Requirements line names package.json's minimum Node", () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const section = readme.split(/^## /m).find((s) => s.startsWith('Requirements\n'));
    assert.ok(section, 'README has a "## Requirements" section');
    const m = /Node\.js (\d+(?:\.\d+){0,2})\+/.exec(section);
    assert.ok(m, `the section names "Node.js N+":\n${section}`);
    // "20+" means exactly >=20 (no upper bound): the two ranges must contain the same versions.
    const readmeRange = `>=${m[1]}`;
    const engines = pkg.engines!.node!;
    assert.ok(semver.subset(engines, readmeRange) && semver.subset(readmeRange, engines), `README "Node.js ${m[1]}+" ≡ engines.node "${engines}"`);
  });
});
