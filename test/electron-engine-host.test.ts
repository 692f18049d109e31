/**
 * The built-in engine as the desktop app runs it: which Node and script (engineCommand), the
 * host's start/fail/restart logic (fake launches), real launches with a plain Node — from
 * source and from the esbuild bundle scripts/build-electron.ts makes — checked with the
 * Settings page's connection test, and the launch failures a person would see.
 */
import assert from 'node:assert/strict';
import { withoutEngineSecret } from '../common/kms-uri.js';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { after, before, describe, test } from 'node:test';
import { readFileSync } from 'node:fs';
import { devOverrides, ignoredDevOverrides } from '../main/engine-host/dev-overrides.js';
import { engineCommand } from '../main/engine-host/engine-command.js';
import { EngineHost, type RunningEngine } from '../main/engine-host/engine-host.js';
import { engineEnv, launchNodeEngine } from '../main/engine-host/launch-node-engine.js';
import { ENGINE_MALLOC_ENV } from '../engine/process-env.js';
import { probeKms } from '../main/settings/test-connection.js';
import { buildElectron } from '../scripts/build-electron.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FROM_SOURCE = { nodePath: process.execPath, args: ['--import', import.meta.resolve('tsx'), path.join(ROOT, 'engine', 'cli.ts')] };

describe('which Node runs the engine', () => {
  const base = { resourcesPath: '/opt/Magic Mirror/resources', platform: 'linux' as const, env: {} };

  test('development: the Node that runs npm, else node from PATH; the bundled engine beside dist/electron', () => {
    const dev = { ...base, packaged: false, appDir: '/src/mm/dist/electron' };
    assert.deepEqual(engineCommand({ ...dev, env: { npm_node_execpath: '/usr/bin/node20' } }), {
      nodePath: '/usr/bin/node20',
      args: ['/src/mm/dist/engine/cli.js'],
    });
    assert.equal(engineCommand(dev).nodePath, 'node');
  });

  test('packaged: the shipped Node, the engine outside the asar archive', () => {
    const packaged = { ...base, packaged: true, appDir: '/opt/Magic Mirror/resources/app.asar/dist/electron' };
    assert.deepEqual(engineCommand(packaged), {
      nodePath: '/opt/Magic Mirror/resources/node/node',
      args: ['/opt/Magic Mirror/resources/app.asar.unpacked/dist/engine/cli.js'],
    });
    const win = { packaged: true, platform: 'win32' as const, env: {}, resourcesPath: 'C:\\MM\\resources', appDir: 'C:\\MM\\resources\\app.asar\\dist\\electron' };
    assert.deepEqual(engineCommand(win), { nodePath: 'C:\\MM\\resources\\node\\node.exe', args: ['C:\\MM\\resources\\app.asar.unpacked\\dist\\engine\\cli.js'] });
  });

  test('MAGIC_MIRROR_NODE overrides in development; the engine does not inherit Electron/Node start-up variables', () => {
    assert.equal(engineCommand({ ...base, packaged: false, appDir: '/x', env: { MAGIC_MIRROR_NODE: '/custom/node' } }).nodePath, '/custom/node');
    assert.deepEqual(engineEnv({ PATH: '/bin', ELECTRON_RUN_AS_NODE: '1', NODE_OPTIONS: '--require /tmp/evil.js' }), { ...ENGINE_MALLOC_ENV, PATH: '/bin' });
  });

  test('packaged: the development overrides MAGIC_MIRROR_NODE and MAGIC_MIRROR_USER_DATA are ignored (issue 23)', () => {
    const env = { MAGIC_MIRROR_NODE: '/tmp/evil', MAGIC_MIRROR_USER_DATA: '/tmp/elsewhere', npm_node_execpath: '/usr/bin/node20' };
    const packaged = { ...base, env, packaged: true, appDir: '/opt/Magic Mirror/resources/app.asar/dist/electron' };
    assert.equal(engineCommand(packaged).nodePath, '/opt/Magic Mirror/resources/node/node', 'only the shipped Node');
    assert.deepEqual(devOverrides(env, true), {});
    assert.deepEqual(ignoredDevOverrides(env, true), ['MAGIC_MIRROR_NODE', 'MAGIC_MIRROR_USER_DATA']);
    assert.deepEqual(devOverrides(env, false), { nodePath: '/tmp/evil', userData: '/tmp/elsewhere' });
    assert.deepEqual(ignoredDevOverrides(env, false), []);
    // Every MAGIC_MIRROR_* variable the app's main process reads goes through devOverrides.
    const mainTs = readFileSync(path.join(ROOT, 'main', 'electron', 'main.ts'), 'utf8');
    assert.deepEqual(mainTs.match(/MAGIC_MIRROR_\w+/g) ?? [], [], 'main.ts names no override itself');
    assert.match(mainTs, /devOverrides\(process\.env, app\.isPackaged\)/);
  });
});

describe('engine host', () => {
  function fakeEngine(uri: string) {
    let exit!: (how: string) => void;
    const engine: RunningEngine & { closed: number } = {
      uri,
      closed: 0,
      exited: new Promise((resolve) => (exit = resolve)),
      close: async () => void engine.closed++,
    };
    return { engine, exit };
  }
  function host(launches: (() => Promise<RunningEngine>)[]) {
    const events: string[] = [];
    let n = 0;
    const h = new EngineHost(() => launches[n++]!(), {
      startFailed: (reason) => events.push(`failed: ${reason}`),
      exitedUnexpectedly: (how) => events.push(`exited: ${how}`),
    });
    return { h, events, launched: () => n };
  }

  test('concurrent callers share one start', async () => {
    const { engine } = fakeEngine('ws://127.0.0.1:1/kurento');
    const { h, launched } = host([async () => engine]);
    assert.deepEqual(await Promise.all([h.uri(), h.uri(), h.uri()]), Array(3).fill(engine.uri));
    assert.equal(await h.uri(), engine.uri);
    assert.equal(launched(), 1);
  });

  test('a failed start is reported, rejects with the reason, and the next call tries again', async () => {
    const { engine } = fakeEngine('ws://127.0.0.1:2/kurento');
    const { h, events } = host([
      async () => Promise.reject(new Error('the Node.js runtime "node" was not found')),
      () => {
        throw new Error('spawn failed synchronously');
      },
      async () => engine,
    ]);
    await assert.rejects(h.uri(), { message: 'the Node.js runtime "node" was not found' });
    await assert.rejects(h.uri(), { message: 'spawn failed synchronously' });
    assert.deepEqual(events, ['failed: the Node.js runtime "node" was not found', 'failed: spawn failed synchronously']);
    assert.equal(await h.uri(), engine.uri);
  });

  test('an engine that dies is reported and restarted on the next need', async () => {
    const first = fakeEngine('ws://127.0.0.1:3/kurento');
    const second = fakeEngine('ws://127.0.0.1:4/kurento');
    const { h, events } = host([async () => first.engine, async () => second.engine]);
    await h.uri();
    first.exit('signal SIGSEGV');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(events, ['exited: signal SIGSEGV']);
    assert.equal(await h.uri(), second.engine.uri);
  });

  test('stop closes the engine (also one still starting), and later calls reject', async () => {
    const running = fakeEngine('ws://127.0.0.1:5/kurento');
    const a = host([async () => running.engine]);
    await a.h.uri();
    await a.h.stop();
    assert.equal(running.engine.closed, 1);
    await assert.rejects(a.h.uri(), /shutting down/);
    running.exit('exit code 0');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(a.events, [], 'an engine we stopped did not exit unexpectedly');

    const starting = fakeEngine('ws://127.0.0.1:6/kurento');
    let finish!: () => void;
    const b = host([() => new Promise((resolve) => (finish = () => resolve(starting.engine)))]);
    const pending = b.h.uri();
    const stopped = b.h.stop();
    finish();
    await stopped;
    await pending;
    assert.equal(starting.engine.closed, 1);
  });
});

describe('launching the engine with a plain Node', () => {
  const scratch: string[] = [];
  after(() => Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true }))));
  async function script(source: string): Promise<string> {
    const dir = await mkdtemp(path.join(tmpdir(), 'mm-engine-'));
    scratch.push(dir);
    const file = path.join(dir, 'fake-engine.mjs');
    await writeFile(file, source);
    return file;
  }

  test('from source: it starts on loopback, answers as a Kurento server, and closes', async () => {
    const logs: string[] = [];
    const engine = await launchNodeEngine(FROM_SOURCE, { log: (l) => logs.push(l) });
    try {
      // The per-launch secret (docs/security.md): only this uri carries it, never the engine's log.
      const secret = /^ws:\/\/127\.0\.0\.1:\d+\/kurento\/([\w-]{32})$/.exec(engine.uri)?.[1];
      assert.ok(secret, engine.uri);
      assert.equal(logs.filter((l) => l.includes(secret)).length, 0, 'the secret is in no log line');
      const probe = await probeKms(engine.uri, 5000);
      const version = JSON.parse(await readFile(path.join(ROOT, 'node_modules/kurento-client-core/package.json'), 'utf8')).version as string;
      const { version: ours } = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
      assert.deepEqual(probe, {
        ok: true,
        version,
        message: `Connected to ${withoutEngineSecret(engine.uri)}: Magic Mirror's built-in media server ${ours} (Kurento ${version}), with FaceOverlayFilter.`,
      });
    } finally {
      await engine.close();
    }
    assert.match(await engine.exited, /exit code 0|signal SIGTERM/);
    assert.ok(logs.some((l) => l.includes('Kurento Protocol server')), 'engine log lines are passed on');
  });

  test('a missing Node runtime', async () => {
    await assert.rejects(launchNodeEngine({ nodePath: '/nonexistent/node', args: ['x.js'] }), {
      message: 'the Node.js runtime "/nonexistent/node" was not found',
    });
  });

  test('an engine that dies before it is ready: the reason ends with its error line', async () => {
    const exits = await script(`console.error('[engine] cannot listen on 127.0.0.1:0: EACCES'); process.exit(3);`);
    await assert.rejects(launchNodeEngine({ nodePath: process.execPath, args: [exits] }), {
      message: 'the engine exited (exit code 3) before it was ready: [engine] cannot listen on 127.0.0.1:0: EACCES',
    });
    // An uncaught error: Node prints the error, its stack, then its own version last.
    const throws = await script(`throw new Error("Cannot find module 'wrtc.node'");`);
    await assert.rejects(launchNodeEngine({ nodePath: process.execPath, args: [throws] }), {
      message: "the engine exited (exit code 1) before it was ready: Error: Cannot find module 'wrtc.node'",
    });
  });

  test('an engine that prints something else, or nothing in time', async () => {
    const chatty = await script(`console.log('hello'); setInterval(() => {}, 1000);`);
    await assert.rejects(launchNodeEngine({ nodePath: process.execPath, args: [chatty] }), { message: 'it printed something unexpected: hello' });
    const silent = await script(`setInterval(() => {}, 1000);`);
    await assert.rejects(launchNodeEngine({ nodePath: process.execPath, args: [silent] }, { timeoutMs: 300 }), { message: 'it did not start within 0.3 s' });
  });
});

describe('the bundled app (scripts/build-electron.ts)', () => {
  let dist: string;
  before(async () => {
    // A folder of the package root, like dist/: the bundles then resolve node_modules and
    // ../../package.json as they do in the app.
    dist = await mkdtemp(path.join(ROOT, '.test-build-'));
    await buildElectron(dist);
  });
  after(() => rm(dist, { recursive: true, force: true }));

  test('the bundled engine runs on a plain Node and answers as a Kurento server', async () => {
    const engine = await launchNodeEngine({ nodePath: process.execPath, args: [path.join(dist, 'engine', 'cli.js')] });
    try {
      assert.equal((await probeKms(engine.uri, 5000)).ok, true);
    } finally {
      await engine.close();
    }
  });

  test('the bundled image decoder worker decodes a hat PNG from dist/engine/', async () => {
    const worker = new Worker(path.join(dist, 'engine', 'image-decode-worker.js'));
    try {
      const png = await readFile(path.join(ROOT, 'assets', 'hats', 'top-hat.png'));
      const reply = new Promise<{ id: number; width?: number; height?: number; rgba?: Uint8Array; error?: string }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      worker.postMessage({ id: 1, bytes: new Uint8Array(png) });
      const { id, width, height, rgba, error } = await reply;
      assert.equal(error, undefined);
      assert.equal(id, 1);
      const ihdr = { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
      assert.deepEqual({ width, height }, ihdr);
      assert.equal(rgba!.length, ihdr.width * ihdr.height * 4);
    } finally {
      await worker.terminate();
    }
  });

  test('the bundled face detector worker finds its model and wasm from dist/engine/', async () => {
    const worker = new Worker(path.join(dist, 'engine', 'face-detector-worker.js'));
    try {
      const reply = await new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      assert.deepEqual(reply, { type: 'ready' });
    } finally {
      await worker.terminate();
    }
  });

  test('the preload is CommonJS and requires nothing but electron', async () => {
    const preload = await readFile(path.join(dist, 'electron', 'preload.cjs'), 'utf8');
    assert.deepEqual([...preload.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]), ['electron']);
    assert.doesNotMatch(preload, /^\s*(import|export)\s/m);
  });

  test('the main bundle is ESM and leaves electron and npm packages external', async () => {
    const main = await readFile(path.join(dist, 'electron', 'main.js'), 'utf8');
    assert.match(main, /^import .* from "electron";$/m);
    assert.match(main, /^import kurento from "kurento-client";$/m);
    // The session service is in (MirrorService, KmsConnections), the engine is not: its WebRTC
    // stack must never load into Electron (docs/electron.md), nor its face detector.
    assert.match(main, /\bMirrorService = class\b|class MirrorService\b/);
    assert.doesNotMatch(main, /@roamhq\/wrtc|@tensorflow|face-api|startEngine/);
  });
});
