/**
 * The installable packages, as far as they can be checked without Electron's binary or the
 * network (`npm run dist` itself runs on a machine with both):
 *
 * - electron-builder.yml against electron-builder's own schema (app-builder-lib's scheme.json,
 *   through its own validateConfiguration and the ajv it ships), and what the packages promise
 *   (targets, category, camera usage text, the Node runtime, the icon);
 * - the app as built by `npm run build`, packed by electron-builder's own file rules
 *   (scripts/pack-app.ts) into app.asar + app.asar.unpacked, laid out as in an installed app
 *   (<resources>/app.asar, <resources>/app.asar.unpacked, <resources>/node/node);
 * - every module the main process and the preload import, loaded from the packed tree;
 * - every module the engine loads, resolved inside app.asar.unpacked alone (a plain Node
 *   cannot read app.asar) — then the engine launched exactly as the packaged app launches it
 *   (engineCommand + launchNodeEngine) and a mirror session run through it with a face:
 *   detections prove the worker, the wasm binaries and the weights load from the package.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { PNG } from 'pngjs';
import { parseClientMessage, type ServerMessage } from '../common/mirror-protocol.js';
import { engineCommand } from '../main/engine-host/engine-command.js';
import type { RunningEngine } from '../main/engine-host/engine-host.js';
import { launchNodeEngine } from '../main/engine-host/launch-node-engine.js';
import { HatServer } from '../main/hats/hat-server.js';
import { KmsRegistry } from '../main/kms/kms-registry.js';
import { MirrorSession } from '../main/mirror/session.js';
import { buildElectron } from '../scripts/build-electron.js';
import { ROOT, packApp, readBuilderConfig, type PackedApp } from '../scripts/pack-app.js';
import { buildRenderer } from './helpers/build-renderer.js';
import { engineCounts } from './helpers/engine-counts.js';
import { FakeCameraPeer } from './helpers/fake-camera-peer.js';
import { makeHatDir } from './helpers/hat-fixture.js';
import { exitAfterTests } from './helpers/process-exit.js';
import { TutorialPage } from './helpers/tutorial-page.js';
import { waitFor } from './helpers/wait.js';

exitAfterTests();

const require = createRequire(import.meta.url);
const run = promisify(execFile);
const config = readBuilderConfig();

describe('electron-builder.yml', () => {
  test("valid by electron-builder's own schema and checks (app-builder-lib scheme.json, its ajv)", async () => {
    const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
      validateConfiguration(config: unknown, debugLogger: unknown): Promise<void>;
    };
    const logger = { isEnabled: false, add() {} };
    await validateConfiguration(structuredClone(config), logger);
    // The validator does bite: a misspelt option and a wrong type are refused.
    await assert.rejects(validateConfiguration({ ...structuredClone(config), linux: { ...(config.linux as object), categroy: 'AudioVideo' } }, logger), /configuration\.linux/);
    await assert.rejects(validateConfiguration({ ...structuredClone(config), nsis: { oneClick: 'sometimes' } }, logger), /oneClick/);
  });

  test('what the packages promise: ids, targets, category, camera text, Node runtime, fuses', () => {
    const c = config as Record<string, any>;
    assert.equal(c.productName, 'Magic Mirror');
    assert.match(c.appId, /^[a-z]+(\.[a-z]+)+$/);
    assert.deepEqual(c.linux.target, ['AppImage', 'deb']);
    assert.equal(c.linux.category, 'AudioVideo');
    assert.deepEqual(c.win.target, ['nsis']);
    assert.equal(c.mac.target[0].target, 'dmg');
    assert.match(c.mac.extendInfo.NSCameraUsageDescription, /camera/);
    assert.equal(c.mac.hardenedRuntime, true);
    for (const [os, exe] of [['linux', 'node'], ['win', 'node.exe'], ['mac', 'node']]) {
      assert.deepEqual(c[os].extraResources.map((r: { to: string }) => r.to), [`node/${exe}`], `${os}: the engine's Node runtime where engineCommand looks`);
    }
    assert.equal(c.electronFuses.runAsNode, false);
    assert.equal(c.electronFuses.onlyLoadAppFromAsar, true);
    // Files: the build output, the hats and package.json only (node_modules come from `dependencies`).
    const included = (c.files as string[]).filter((p) => !p.startsWith('!'));
    for (const p of included) assert.match(p, /^(dist\/(electron|engine|renderer)\/\*\*|assets\/hats\/\*\*|package\.json)$/, p);
    const pkg = JSON.parse(require('node:fs').readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(pkg.productName, undefined, 'productName stays out of package.json (user-data folder name)');
  });

  test('the icon: build/icon.png, 1024×1024 RGBA, not blank', async () => {
    const png = PNG.sync.read(await readFile(path.join(ROOT, 'build/icon.png')));
    assert.deepEqual([png.width, png.height], [1024, 1024]);
    const at = (x: number, y: number) => png.data[(y * 1024 + x) * 4 + 3]!;
    assert.equal(at(4, 4), 0, 'transparent corner');
    assert.equal(at(512, 512), 255, 'opaque middle');
  });
});

describe('the packed app', () => {
  let work: string;
  let resources: string;
  let packed: PackedApp;
  let extracted: string;

  before(async () => {
    await Promise.all([buildRenderer(), buildElectron()]); // = npm run build
    // Outside the project: nothing may resolve from the project's own node_modules.
    work = await mkdtemp(path.join(os.tmpdir(), 'mm-packaged-'));
    resources = path.join(work, 'resources');
    packed = await packApp(resources);
    // The shipped Node runtime (scripts/node-runtime.ts) when present, else this Node (same major).
    const runtime = path.join(ROOT, 'build/node', `${process.platform === 'win32' ? 'win' : process.platform}-${process.arch}`, process.platform === 'win32' ? 'node.exe' : 'node');
    await mkdir(path.join(resources, 'node'), { recursive: true });
    if (existsSync(runtime)) await copyFile(runtime, path.join(resources, 'node', 'node'));
    else await symlink(process.execPath, path.join(resources, 'node', 'node'));
    // What Electron sees: the archive read as a folder, unpacked files merged in.
    extracted = path.join(work, 'as-electron-sees-it');
    (require('@electron/asar') as typeof import('@electron/asar')).extractAll(packed.asar, extracted);
  });

  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('holds the build output and run-time packages only', (t) => {
    const files = new Set(packed.files);
    for (const f of ['package.json', 'dist/electron/main.js', 'dist/electron/preload.cjs', 'dist/renderer/index.html', 'dist/engine/cli.js', 'dist/engine/face-detector-worker.js', 'assets/hats/top-hat.png']) {
      assert.ok(files.has(f), f);
    }
    const outside = packed.files.filter((f) => !/^(dist\/(electron|engine|renderer)\/|assets\/hats\/|node_modules\/|package\.json$)/.test(f));
    assert.deepEqual(outside, [], 'nothing but the build output, the hats, package.json and node_modules');
    assert.deepEqual(packed.files.filter((f) => f.endsWith('.map')), [], 'no source maps');
    assert.deepEqual(packed.files.filter((f) => /^dist\/.*\.ts$/.test(f)), []);
    const devOnly = ['electron', 'electron-builder', 'vite', 'esbuild', 'typescript', 'tsx', 'playwright-core', 'kurento-utils', '@types'];
    for (const name of devOnly) assert.ok(!packed.modules.some((m) => m === `node_modules/${name}` || m.startsWith(`node_modules/${name}/`)) || !packed.files.some((f) => f.startsWith(`node_modules/${name}/`)), `${name} is not shipped`);
    const faceModels = packed.files.filter((f) => f.startsWith('node_modules/@vladmandic/face-api/model/'));
    assert.deepEqual(faceModels.sort(), [
      'node_modules/@vladmandic/face-api/model/face_landmark_68_tiny_model-weights_manifest.json',
      'node_modules/@vladmandic/face-api/model/face_landmark_68_tiny_model.bin',
      'node_modules/@vladmandic/face-api/model/tiny_face_detector_model-weights_manifest.json',
      'node_modules/@vladmandic/face-api/model/tiny_face_detector_model.bin',
    ]);
    const shipped = [...new Set(packed.files.filter((f) => f.startsWith('node_modules/')).map((f) => f.split('/').slice(0, f.startsWith('node_modules/@') ? 3 : 2).join('/')))];
    t.diagnostic(`${packed.files.length} files, ${packed.unpacked.length} unpacked; ${shipped.length} packages: ${shipped.map((m) => m.replace('node_modules/', '')).join(' ')}`);
  });

  test('unpacked: the engine, package.json, the native addons, the wasm binaries and the weights', () => {
    const unpacked = new Set(packed.unpacked);
    for (const f of ['package.json', 'dist/engine/cli.js', 'dist/engine/face-detector-worker.js', 'node_modules/@vladmandic/face-api/model/tiny_face_detector_model.bin', 'node_modules/@vladmandic/face-api/model/face_landmark_68_tiny_model.bin', 'node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm']) {
      assert.ok(unpacked.has(f), f);
    }
    const native = packed.files.filter((f) => f.endsWith('.node'));
    assert.ok(native.some((f) => f.startsWith('node_modules/@roamhq/')), 'the wrtc addon is shipped');
    assert.deepEqual(native.filter((f) => !unpacked.has(f)), [], 'every native addon is unpacked');
    assert.ok(!unpacked.has('dist/electron/main.js') && !unpacked.has('dist/renderer/index.html'), 'the app itself stays in the archive');
  });

  test('main process and preload: every package they import loads from the packed app', async () => {
    const bundleImports = async (file: string) => {
      const text = await readFile(path.join(extracted, file), 'utf8');
      const specs = [...text.matchAll(/(?:\bfrom\s*|\bimport\(\s*|\brequire\(\s*)["']([^"'.][^"']*)["']/g)].map((m) => m[1]!);
      return [...new Set(specs)].filter((s) => !s.startsWith('node:') && s !== 'electron');
    };
    const mainImports = await bundleImports('dist/electron/main.js');
    assert.deepEqual(await bundleImports('dist/electron/preload.cjs'), [], 'the sandboxed preload needs nothing but electron');
    assert.ok(mainImports.includes('kurento-client'));
    // Loaded for real (the whole dependency tree of each), by a Node that starts in the packed app.
    const script = `
      const { createRequire } = require('node:module');
      const r = createRequire(${JSON.stringify(path.join(extracted, 'dist/electron/main.js'))});
      for (const spec of ${JSON.stringify(mainImports)}) {
        const file = r.resolve(spec);
        if (!file.startsWith(${JSON.stringify(extracted + path.sep)})) throw new Error(spec + ' resolved outside the app: ' + file);
        r(spec);
      }
      console.log('ok');`;
    // (kurento-client-core requires 'async' without declaring it; only a declared `async`
    // dependency in package.json puts it in the package — the development tree has one from
    // electron-builder's own dependencies, which would hide this.)
    const { stdout } = await run(process.execPath, ['-e', script], { cwd: work, env: { PATH: process.env.PATH ?? '' } });
    assert.equal(stdout.trim(), 'ok');
  });

  test('engine: every module it loads resolves inside app.asar.unpacked', async () => {
    const unpacked = packed.unpackedDir;
    const cli = path.join(unpacked, 'dist/engine/cli.js');
    const worker = path.join(unpacked, 'dist/engine/face-detector-worker.js');
    const needs = [
      [cli, ['@roamhq/wrtc', 'pngjs', 'jpeg-js', 'ws', '../../package.json', 'kurento-client-core/src/core.kmd.json', 'kurento-client-elements/src/elements.kmd.json', 'kurento-client-filters/src/filters.kmd.json']],
      [worker, ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', '@vladmandic/face-api/package.json']],
    ] as const;
    for (const [from, specs] of needs) {
      const r = createRequire(from);
      for (const spec of specs) {
        const file = r.resolve(spec);
        assert.ok(file.startsWith(unpacked + path.sep), `${spec} → ${file}`);
      }
    }
    // And every bare import in the engine bundles is among them.
    for (const file of [cli, worker]) {
      const text = await readFile(file, 'utf8');
      for (const [, spec] of text.matchAll(/\bfrom\s*["']([^"'.][^"']*)["']/g)) {
        if (spec!.startsWith('node:')) continue;
        assert.ok(createRequire(file).resolve(spec!).startsWith(unpacked + path.sep), spec);
      }
    }
  });

  test('engine: launched as the packaged app launches it, a mirror session with a face runs through it', async (t) => {
    const command = engineCommand({ packaged: true, resourcesPath: resources, appDir: path.join(packed.asar, 'dist/electron'), platform: process.platform, env: {} });
    assert.equal(command.nodePath, path.join(resources, 'node', 'node'));
    assert.deepEqual(command.args, [path.join(packed.unpackedDir, 'dist/engine/cli.js')]);
    const logs: string[] = [];
    const t0 = performance.now();
    // A clean environment and a neutral working folder: nothing from the project can leak in.
    const engine: RunningEngine = await launchNodeEngine(command, { log: (l) => logs.push(l), env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir() } });
    t.diagnostic(`packaged engine ready in ${Math.round(performance.now() - t0)} ms at ${engine.uri}`);
    const hatDir = await makeHatDir();
    const hats = await HatServer.start({ dir: hatDir.dir });
    const registry = new KmsRegistry({ log: () => {} });
    const peer = new FakeCameraPeer({ background: 'face', width: 320, height: 240 });
    let page!: TutorialPage;
    const session = new MirrorSession({
      connect: () => registry.get(engine.uri),
      hatUri: await hats.uriFor(undefined, engine.uri),
      send: (m: ServerMessage) => page.receive(JSON.parse(JSON.stringify(m)) as ServerMessage),
    });
    page = new TutorialPage(peer, (m) => void session.handle(parseClientMessage(JSON.stringify(m))!), { statusEvents: true });
    try {
      await page.start();
      await page.waitFor((m) => m.id === 'startResponse', 20_000);
      await peer.connected(15_000);
      await peer.start();
      await peer.received.waitForCounters(20, 20_000);
      await waitFor(async () => (await engineCounts(engine.uri)).detections > 0, 30_000, 'face detections in the packaged engine');
      const problems = page.received.filter((m) => m.id === 'error' || (m.id === 'status' && m.status.kind === 'problem' && m.status.problem !== 'no-face'));
      assert.deepEqual(problems, [], 'no error from the packaged engine');
    } finally {
      await session.close();
      peer.close();
      await registry.close();
      await hats.close();
      await hatDir.remove();
      await engine.close();
    }
    assert.ok(!logs.some((l) => /Cannot find (module|package)|ERR_MODULE_NOT_FOUND|ENOENT/.test(l)), logs.join('\n'));
  });
});
