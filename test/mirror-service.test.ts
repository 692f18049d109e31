/**
 * The desktop app's session service (main/app/mirror-service.ts) outside Electron, behind the
 * real IPC path: router (sender, payload schema) → channel handlers → MirrorLinks → the
 * service → MirrorSession → the built-in engine, launched as the app launches it (EngineHost +
 * launchNodeEngine with a plain Node). A wrtc FakeCameraPeer plays the page, its messages sent
 * as `mirror:send` payloads and the server's coming back as `mirror:message` events.
 * Checks hatted frames come back with the settings' hat and placement, STUN/TURN reach the
 * endpoint, and every way a link ends leaves no pipeline behind.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { EventChannel, EventPayload, LinkRef } from '../common/ipc-contract.js';
import type { ServerMessage } from '../common/mirror-protocol.js';
import { EYE_PIECES, type HatChoice, type HatOverlay, type Settings } from '../common/settings.js';
import { ANCHOR_TAG, TILT_TAG } from '../common/filter-tags.js';
import { MirrorService } from '../main/app/mirror-service.js';
import { EngineHost } from '../main/engine-host/engine-host.js';
import { launchNodeEngine } from '../main/engine-host/launch-node-engine.js';
import { createInvokeHandlers } from '../main/ipc/handlers.js';
import { MirrorLinks } from '../main/ipc/mirror-links.js';
import { createIpcRouter } from '../main/ipc/router.js';
import { NoticeBoard } from '../main/notices.js';
import { PAGE_URL } from '../main/security/app-protocol.js';
import type { IpcSenderFacts } from '../main/security/ipc-sender.js';
import { SettingsStore } from '../main/settings/store.js';
import { probeKms } from '../main/settings/test-connection.js';
import { engineCounts } from './helpers/engine-counts.js';
import { FakeCameraPeer } from './helpers/fake-camera-peer.js';
import { changedMask, maskBounds, testHatPng } from './helpers/hat-pixels.js';
import { exitAfterTests } from './helpers/process-exit.js';
import { connectRaw } from './helpers/rpc-client.js';
import { TutorialPage, isId } from './helpers/tutorial-page.js';
import { loadBackgroundI420 } from './helpers/video-fixtures.js';
import { waitFor } from './helpers/wait.js';

exitAfterTests();

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The engine from source on this Node, as the app runs dist/engine/cli.js; a short grace period so dropped sessions' objects go quickly. */
const ENGINE = { nodePath: process.execPath, args: ['--import', import.meta.resolve('tsx'), path.join(ROOT, 'engine', 'cli.ts'), '--grace-ms', '500'] };
/** KMS 7's face box for the 'face' background (astronaut 480×480 at x=80 on 640×480). */
const FACE = { x: 238, y: 57, width: 101, height: 101 };

let dir: string;
let hatFile: string;
let engine: EngineHost;
let store: SettingsStore;
let service: MirrorService;
let links: MirrorLinks;
let router: ReturnType<typeof createIpcRouter>;
const notices = new NoticeBoard();
const engineEvents: string[] = [];
/** The pages' ends of their links, by webContents id. */
const pages = new Map<number, { linkId: number; receive(m: ServerMessage): void; closed: boolean }>();

const facts = (owner: number): IpcSenderFacts => ({ webContentsId: owner, frame: { url: PAGE_URL, isMainFrame: true } });
/** As Electron does: structured-cloned across the process boundary. */
const invoke = (owner: number, channel: string, arg?: unknown) => router.invoke(channel, facts(owner), arg === undefined ? [] : [structuredClone(arg)]);

function sendToPage<C extends EventChannel>(owner: number, channel: C, payload: EventPayload<C>): void {
  const page = pages.get(owner);
  const { linkId } = payload as LinkRef;
  if (!page || page.linkId !== linkId) return; // the bridge drops events for an old link
  if (channel === 'mirror:message') page.receive(structuredClone((payload as EventPayload<'mirror:message'>).message));
  if (channel === 'mirror:closed') page.closed = true;
}

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mm-service-'));
  hatFile = path.join(dir, 'my-hat.png');
  await writeFile(hatFile, testHatPng());
  engine = new EngineHost(() => launchNodeEngine(ENGINE, { log: () => {} }), {
    startFailed: (reason) => engineEvents.push(`failed: ${reason}`),
    exitedUnexpectedly: (how) => engineEvents.push(`exited: ${how}`),
  });
  store = (await SettingsStore.open(dir)).store;
  service = new MirrorService({
    settings: () => store.current(),
    engineUri: () => engine.uri(),
    settingProblem: (text) => notices.add({ level: 'warning', text, opensSettings: true }),
    resolveHost: async (host) => (host === 'stun.example.org' ? '192.0.2.10' : host === 'turn.example.org' ? '192.0.2.20' : host),
  });
  links = new MirrorLinks(service.open, sendToPage, () => {});
  router = createIpcRouter({
    handlers: createInvokeHandlers({ links, settings: store, notices, engineUri: () => engine.uri(), probeKms, settingsSaved: () => {} }),
    mirrorWindowIds: () => new Set([1, 2]),
    log: () => {},
  });
});

after(async () => {
  await service?.close();
  await engine?.stop();
  await rm(dir, { recursive: true, force: true });
});

afterEach(async () => {
  links.releaseAll();
  await waitFor(() => service.linkCount === 0, 10_000, 'every link closed');
  const counts = await engineCounts(await engine.uri());
  assert.equal(counts.pipelines, 0, 'pipelines left on the engine');
  assert.equal(counts.peerConnections, 0, 'peer connections left on the engine');
});

async function save(changes: Partial<Settings>): Promise<void> {
  const result = await invoke(1, 'settings:set', { ...store.current(), ...changes });
  assert.deepEqual(result, { ok: true, settings: { ...store.current() } });
}

/** A page in webContents `owner` with a wrtc camera, connected over IPC. */
async function openPage(owner: number, camera: ConstructorParameters<typeof FakeCameraPeer>[0] = { background: 'face' }) {
  const { linkId } = (await invoke(owner, 'mirror:connect')) as LinkRef;
  const peer = new FakeCameraPeer(camera);
  const sendErrors: Error[] = [];
  const page = new TutorialPage(peer, (message) => void invoke(owner, 'mirror:send', { linkId, message }).catch((e: Error) => sendErrors.push(e)), {
    statusEvents: true,
  });
  const end = { linkId, receive: (m: ServerMessage) => page.receive(m), closed: false };
  pages.set(owner, end);
  return {
    linkId,
    peer,
    page,
    end,
    sendErrors,
    /** start → answer → ICE → our frames flowing. */
    async run() {
      await page.start();
      await page.waitFor(isId('startResponse'), 20_000);
      await peer.connected(15_000);
      await peer.start();
      await peer.received.waitForCounters(30, 20_000);
    },
  };
}

const engineUri = () => engine.uri();
const pipelines = async () => (await engineCounts(await engineUri())).pipelines;

describe('MirrorService behind the IPC path', () => {
  test('start over IPC → hatted video from the built-in engine, with the hat and placement of the settings → disconnect leaves nothing', async (t) => {
    const overlay = { offsetXPercent: 0, offsetYPercent: -0.5, widthPercent: 1, heightPercent: 0.5 };
    await save({ kmsUri: 'builtin', hat: { kind: 'image', uri: hatFile }, overlay });
    const a = await openPage(1);
    try {
      await a.run();
      assert.equal(await pipelines(), 1);
      // The hat: where the received frame differs from what was sent, once detection has settled.
      const sent = await loadBackgroundI420('face');
      const want = { x: FACE.x, y: FACE.y - FACE.height * 0.5, width: FACE.width, height: FACE.height * 0.5 };
      let found: ReturnType<typeof maskBounds>;
      await waitFor(() => {
        const frame = a.peer.received.frames.at(-1)!;
        const box = maskBounds(changedMask(frame, sent).mask, frame.width, frame.height);
        found = box && { x: (box.x * 640) / frame.width, y: (box.y * 480) / frame.height, width: (box.width * 640) / frame.width, height: (box.height * 480) / frame.height };
        return !!found && Math.abs(found.x - want.x) <= 20 && Math.abs(found.y - want.y) <= 20 && Math.abs(found.width - want.width) <= 25 && Math.abs(found.height - want.height) <= 20;
      }, 15_000, `the hat at ${JSON.stringify(want)}`).catch((err: Error) => assert.fail(`${err.message}; found ${JSON.stringify(found)}`));
      t.diagnostic(`hat found at ${JSON.stringify(found!)}, expected ${JSON.stringify(want)}`);

      await invoke(1, 'mirror:disconnect', { linkId: a.linkId });
      await waitFor(async () => (await pipelines()) === 0, 10_000, 'the pipeline released after disconnect');
      assert.equal(a.end.closed, false, 'a page that closed its link is not told it closed');
      assert.deepEqual(a.sendErrors, []);
    } finally {
      a.peer.close();
    }
  });

  /** Reads the engine's one pipeline through raw JSON-RPC: `get` invokes an operation, `child` finds an element by type. */
  async function onTheEngine<T>(read: (get: (object: string, operation: string) => Promise<unknown>, child: (type: string) => string) => Promise<T>): Promise<T> {
    const raw = await connectRaw(await engineUri());
    try {
      const get = async (object: string, operation: string) => (await raw.request('invoke', { object, operation })).result?.value as unknown;
      const [pipeline] = (await get('manager_ServerManager', 'getPipelines')) as string[];
      const children = (await get(pipeline!, 'getChildren')) as string[];
      return await read(get, (type) => children.find((id) => id.includes(type))!);
    } finally {
      await raw.close();
    }
  }

  test('the sunglasses: the filter is tagged to follow the eyes; a hat: tilt only', async () => {
    const tagsFor = async (hat: HatChoice, overlay: HatOverlay) => {
      await save({ hat, overlay });
      const a = await openPage(1, { background: 'none', width: 320, height: 240 });
      try {
        await a.page.start();
        await a.page.waitFor(isId('startResponse'), 20_000);
        return await onTheEngine(async (get, child) => {
          const tags = (await get(child('FaceOverlayFilter'), 'getTags')) as Array<{ key: string; value: string }>;
          return Object.fromEntries(tags.map((t) => [t.key, t.value]));
        });
      } finally {
        await invoke(1, 'mirror:disconnect', { linkId: a.linkId });
        a.peer.close();
        await waitFor(async () => (await pipelines()) === 0, 10_000, 'the pipeline released');
      }
    };
    assert.deepEqual(await tagsFor({ kind: 'builtin', id: 'glasses' }, EYE_PIECES.glasses!), { [TILT_TAG]: 'on', [ANCHOR_TAG]: 'eyes' });
    assert.deepEqual(await tagsFor({ kind: 'builtin', id: 'crown' }, store.current().overlay), { [TILT_TAG]: 'on' });
  });

  test('STUN and TURN settings reach the WebRtcEndpoint (host names resolved to addresses)', async () => {
    await save({
      hat: { kind: 'builtin', id: 'crown' },
      overlay: store.current().overlay,
      stun: { host: 'stun.example.org', port: 3479 },
      turn: { host: 'turn.example.org', port: 3480, username: 'mirror', password: 's3cret', transport: 'tcp' },
    });
    const a = await openPage(1, { background: 'none', width: 320, height: 240 });
    try {
      await a.page.start();
      await a.page.waitFor(isId('startResponse'), 20_000);
      await onTheEngine(async (get, child) => {
        const endpoint = child('WebRtcEndpoint');
        assert.equal(await get(endpoint, 'getStunServerAddress'), '192.0.2.10');
        assert.equal(await get(endpoint, 'getStunServerPort'), 3479);
        assert.equal(await get(endpoint, 'getTurnUrl'), 'mirror:s3cret@192.0.2.20:3480?transport=tcp');
      });
    } finally {
      a.peer.close();
      await save({ stun: null, turn: null });
    }
  });

  test('a link ends with its page: connecting again, reload/crash (release), and each page has its own session', async () => {
    await save({ hat: { kind: 'builtin', id: 'top-hat' } });
    const a = await openPage(1, { background: 'none', width: 320, height: 240 });
    const b = await openPage(2, { background: 'none', width: 320, height: 240 });
    try {
      await Promise.all([a.run(), b.run()]);
      assert.equal(await pipelines(), 2, 'one pipeline per page');
      // Page 1 connects again (as after a save): its old link and session go.
      const again = (await invoke(1, 'mirror:connect')) as LinkRef;
      assert.notEqual(again.linkId, a.linkId);
      await waitFor(async () => (await pipelines()) === 1, 10_000, "page 1's old session released");
      await assert.rejects(invoke(1, 'mirror:send', { linkId: a.linkId, message: { id: 'stop' } }), /mirror link \d+ is not open/);
      await b.peer.received.waitForCounters(b.peer.received.counters.size + 10, 10_000); // page 2 carries on
      // Page 2 reloads or its renderer crashes: the window reports it, the link is released.
      links.release(2);
      await waitFor(async () => (await pipelines()) === 0, 10_000, "page 2's session released");
    } finally {
      a.peer.close();
      b.peer.close();
    }
  });

  test('a list of media servers (a pool): the mirror runs on the one that answers; the page is told which, and how each is', async () => {
    const refused = 'ws://127.0.0.1:1/kurento';
    await save({ kmsUri: `${refused}, builtin` });
    const a = await openPage(1, { background: 'none', width: 320, height: 240 });
    try {
      await a.run();
      assert.equal(await pipelines(), 1, 'the mirror runs on the built-in engine');
      const status = a.page.received.find((m) => m.id === 'status' && m.status.kind === 'media-servers');
      assert.ok(status?.id === 'status' && status.status.kind === 'media-servers', 'a media-servers status');
      assert.equal(status.status.current, 'builtin');
      assert.deepEqual(status.status.servers.map((x) => [x.uri, x.state]), [[refused, 'down'], ['builtin', 'up']]);
      assert.match(status.status.servers[0]!.reason ?? '', /connection refused/);
    } finally {
      a.peer.close();
      await save({ kmsUri: 'builtin' });
    }
  });

  test('what keeps a start from working is told to the page: an unreachable media server, a hat file that is gone', async () => {
    await save({ kmsUri: 'ws://127.0.0.1:1/kurento' });
    const a = await openPage(1, { background: 'none', width: 320, height: 240 });
    try {
      await a.page.start();
      const error = await a.page.waitFor((m): m is Extract<ServerMessage, { id: 'error' }> => m.id === 'error', 10_000);
      assert.equal(error.code, 'kms-unreachable');
      assert.match(error.message, /ws:\/\/127\.0\.0\.1:1\/kurento: connection refused/);
    } finally {
      a.peer.close();
    }

    const gone = path.join(dir, 'deleted-hat.png');
    await save({ kmsUri: 'builtin', hat: { kind: 'image', uri: gone } });
    const b = await openPage(1, { background: 'none', width: 320, height: 240 });
    try {
      await b.page.start();
      const error = await b.page.waitFor((m): m is Extract<ServerMessage, { id: 'error' }> => m.id === 'error', 10_000);
      assert.equal(error.code, 'hat-failed');
      assert.match(error.message, /deleted-hat\.png" is not a hat/);
      const notice = notices.list().find((n) => n.opensSettings);
      assert.match(notice?.text ?? '', /^The hat in your settings cannot be used: .*deleted-hat\.png/);
      notices.dismiss(notice!.id);
    } finally {
      b.peer.close();
      await save({ hat: { kind: 'builtin', id: 'top-hat' } });
    }
  });

  test('the hosted engine stopping ends its sessions with the reason; the next link works', async () => {
    const a = await openPage(1, { background: 'none', width: 320, height: 240 });
    try {
      await a.run();
      service.engineExited('signal SIGKILL'); // what EngineHost reports when the engine dies
      const error = await a.page.waitFor((m): m is Extract<ServerMessage, { id: 'error' }> => m.id === 'error', 10_000);
      assert.equal(error.code, 'kms-lost');
      assert.equal(error.message, 'The built-in media server stopped unexpectedly (signal SIGKILL). Start the mirror again.');
      // The engine (alive here) drops the orphaned session's objects after its grace period.
      await waitFor(async () => (await pipelines()) === 0, 10_000, 'the dropped session released by the engine');
    } finally {
      a.peer.close();
    }
    const b = await openPage(1, { background: 'none', width: 320, height: 240 });
    try {
      await b.run();
      assert.equal(await pipelines(), 1);
    } finally {
      b.peer.close();
    }
    assert.deepEqual(engineEvents, []);
  });

  test('closing the service (app quit) ends running sessions; a link opened afterwards is told why', async () => {
    const a = await openPage(1, { background: 'none', width: 320, height: 240 });
    try {
      await a.run();
      await service.close();
      assert.equal(await pipelines(), 0, 'released before close() resolved');
      const b = await openPage(2, { background: 'none', width: 320, height: 240 });
      try {
        await b.page.start();
        const error = await b.page.waitFor((m): m is Extract<ServerMessage, { id: 'error' }> => m.id === 'error', 10_000);
        assert.match(error.message, /shutting down/);
      } finally {
        b.peer.close();
      }
    } finally {
      a.peer.close();
    }
  });
});
