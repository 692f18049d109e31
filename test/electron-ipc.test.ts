/**
 * The Electron IPC path without Electron: the router (sender, then payload, then handler),
 * every channel's payload schema, the per-page mirror links, the channel handlers, the notice
 * board, and the preload bridge over a fake ipcRenderer.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { AppNotice, ConnectionTestResult, EventChannel, MagicMirrorApi, MirrorLinkApi } from '../common/ipc-contract.js';
import type { ClientMessage, ServerMessage } from '../common/mirror-protocol.js';
import { createInvokeHandlers, type IpcServices } from '../main/ipc/handlers.js';
import { MirrorLinks, navigationEndsLink, type MirrorLink, type MirrorLinkPeer } from '../main/ipc/mirror-links.js';
import { REQUEST_SCHEMAS } from '../main/ipc/payloads.js';
import { createIpcRouter, IpcRefusal, type InvokeHandlers } from '../main/ipc/router.js';
import { NoticeBoard } from '../main/notices.js';
import { PAGE_URL } from '../main/security/app-protocol.js';
import type { IpcSenderFacts } from '../main/security/ipc-sender.js';
import { defaultSettings } from '../main/settings/defaults.js';
import { SettingsStore } from '../main/settings/store.js';
import { createMagicMirrorApi } from '../preload/bridge.js';
import type { ConnectTransport, MirrorTransport } from '../renderer/transport/transport.js';

// Compile-time: the bridged link is a MirrorTransport, connect() a ConnectTransport.
const asTransport: (link: MirrorLinkApi) => MirrorTransport = (link) => link;
const asConnect: (api: MagicMirrorApi) => ConnectTransport = (api) => api.mirror.connect;
void asTransport;
void asConnect;

const OWNER = 7;
const ours: IpcSenderFacts = { webContentsId: OWNER, frame: { url: PAGE_URL, isMainFrame: true } };
const offer: ClientMessage = { id: 'start', sdpOffer: 'v=0\r\n', statusEvents: true };

/** A session-core stand-in that records what it is told. */
class FakeSessions {
  readonly peers: MirrorLinkPeer[] = [];
  readonly received: ClientMessage[][] = [];
  readonly closed: number[] = [];
  open = (peer: MirrorLinkPeer): MirrorLink => {
    const n = this.peers.push(peer) - 1;
    this.received[n] = [];
    return { receive: (m) => void this.received[n]!.push(m), close: () => void this.closed.push(n) };
  };
}

function fixture() {
  const sessions = new FakeSessions();
  const sent: { owner: number; channel: EventChannel; payload: unknown }[] = [];
  const links = new MirrorLinks(sessions.open, (owner, channel, payload) => void sent.push({ owner, channel, payload }), () => {});
  return { sessions, sent, links };
}

describe('payload schemas', () => {
  const check = (channel: keyof typeof REQUEST_SCHEMAS, value: unknown) => REQUEST_SCHEMAS[channel].check(value);
  const problems = (channel: keyof typeof REQUEST_SCHEMAS, value: unknown) => {
    const r = check(channel, value);
    assert.equal(r.ok, false, `${channel} accepted ${JSON.stringify(value)?.slice(0, 80)}`);
    return (r as { problems: { path: string; message: string }[] }).problems;
  };

  test('mirror:send takes exactly the page → server messages', () => {
    assert.ok(check('mirror:send', { linkId: 1, message: offer }).ok);
    assert.ok(check('mirror:send', { linkId: 1, message: { id: 'stop' } }).ok);
    assert.ok(check('mirror:send', { linkId: 1, message: { id: 'onIceCandidate', candidate: { candidate: 'candidate:1 1 udp 1 1.2.3.4 5 typ host', sdpMid: '0', sdpMLineIndex: 0 } } }).ok);
    assert.ok(check('mirror:send', { linkId: 1, message: { id: 'onIceCandidate', candidate: { candidate: '', sdpMid: null } } }).ok);
  });

  test('wrong types are refused, with where and why', () => {
    assert.deepEqual(problems('mirror:send', { linkId: '1', message: offer }), [{ path: 'linkId', message: 'must be a number' }]);
    assert.deepEqual(problems('mirror:send', { linkId: 1.5, message: offer }), [{ path: 'linkId', message: 'must be a whole number' }]);
    assert.deepEqual(problems('mirror:send', { linkId: 1, message: { id: 'start', sdpOffer: 42 } }), [{ path: 'message.sdpOffer', message: 'must be text' }]);
    assert.deepEqual(problems('mirror:send', { linkId: 1, message: { id: 'launch' } }), [{ path: 'message.id', message: 'must be one of "start", "onIceCandidate", "stop"' }]);
    assert.deepEqual(problems('mirror:send', { linkId: 1, message: { id: 'start', sdpOffer: 'x', statusEvents: 'yes' } }), [
      { path: 'message.statusEvents', message: 'must be one of true, false' },
    ]);
    assert.equal(problems('mirror:send', [1, offer])[0]!.message, 'must be an object');
    assert.equal(problems('mirror:send', null)[0]!.message, 'must be an object');
    assert.equal(problems('mirror:send', new Map([['linkId', 1]]))[0]!.message, 'must be an object');
    assert.equal(problems('mirror:send', Object.assign(Object.create({ polluted: true }), { linkId: 1, message: offer }))[0]!.message, 'must be an object');
    assert.deepEqual(problems('settings:test-connection', { kmsUri: 'ws://kms:8888/kurento', timeoutMs: Infinity }), [{ path: 'timeoutMs', message: 'must be a number' }]);
  });

  test('extra fields are refused', () => {
    assert.deepEqual(problems('mirror:send', { linkId: 1, message: { id: 'stop', now: true } }), [{ path: 'message.now', message: 'is not expected here' }]);
    // An own "__proto__" key (as JSON.parse or structured clone can make) is just an extra field.
    assert.deepEqual(problems('mirror:disconnect', JSON.parse('{"linkId": 1, "__proto__": {"polluted": true}}')), [
      { path: '__proto__', message: 'is not expected here' },
    ]);
    assert.deepEqual(problems('notices:dismiss', { id: 'notice-1', all: true }), [{ path: 'all', message: 'is not expected here' }]);
    assert.equal(problems('mirror:connect', { linkId: 1 })[0]!.message, 'takes no argument');
    // A hostile payload with many bad keys gets a bounded answer.
    const many = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, i]));
    assert.equal(problems('mirror:disconnect', { linkId: 1, ...many }).length, 10);
  });

  test('oversized values are refused', () => {
    const huge = 'a'.repeat(2 * 1024 * 1024);
    assert.match(problems('mirror:send', { linkId: 1, message: { id: 'start', sdpOffer: huge } })[0]!.message, /at most 262144 characters/);
    assert.match(problems('mirror:send', { linkId: 1, message: { id: 'onIceCandidate', candidate: { candidate: huge } } })[0]!.message, /at most/);
    assert.match(problems('notices:dismiss', { id: huge })[0]!.message, /at most 64/);
    assert.match(problems('settings:test-connection', { kmsUri: `ws://${huge}`, timeoutMs: 1000 })[0]!.message, /at most/);
  });

  test('test-connection: only builtin or ws(s):// URIs, sane timeouts', () => {
    assert.ok(check('settings:test-connection', { kmsUri: 'builtin', timeoutMs: 5000 }).ok);
    assert.ok(check('settings:test-connection', { kmsUri: 'wss://kms.example.org/kurento', timeoutMs: 5000 }).ok);
    assert.match(problems('settings:test-connection', { kmsUri: 'http://kms:8888/', timeoutMs: 5000 })[0]!.message, /ws:\/\/ or wss:\/\//);
    assert.match(problems('settings:test-connection', { kmsUri: 'builtin', timeoutMs: 10 })[0]!.message, /between 500 and 60000/);
  });

  test('test-connection: the address is refused where the URL parser would rewrite it, and probed normalised (issue 23)', () => {
    assert.match(problems('settings:test-connection', { kmsUri: 'ws:///kurento', timeoutMs: 5000 })[0]!.message, /has no host .*ws:\/\/kurento\//);
    assert.match(problems('settings:test-connection', { kmsUri: 'ws://me:pw@kms/kurento', timeoutMs: 5000 })[0]!.message, /user name or password/);
    const checked = check('settings:test-connection', { kmsUri: 'WS://KMS:8888', timeoutMs: 5000 });
    assert.deepEqual(checked.ok && checked.value, { kmsUri: 'ws://kms:8888/', timeoutMs: 5000 });
  });
});

describe('IPC router', () => {
  function routerFixture() {
    const calls: { channel: string; owner: number; input: unknown }[] = [];
    const logs: string[] = [];
    const record = (channel: string) => (owner: number, input: unknown) => {
      calls.push({ channel, owner, input });
      return channel === 'mirror:connect' ? { linkId: 1 } : undefined;
    };
    const handlers = Object.fromEntries(Object.keys(REQUEST_SCHEMAS).map((c) => [c, record(c)])) as unknown as InvokeHandlers;
    const router = createIpcRouter({ handlers, mirrorWindowIds: () => new Set([OWNER]), log: (m) => logs.push(m) });
    return { router, calls, logs };
  }

  test('a valid call from the mirror page reaches its handler, with the owner', async () => {
    const { router, calls } = routerFixture();
    assert.deepEqual(await router.invoke('mirror:connect', ours, []), { linkId: 1 });
    await router.invoke('mirror:send', ours, [{ linkId: 1, message: offer }]);
    assert.deepEqual(calls, [
      { channel: 'mirror:connect', owner: OWNER, input: undefined },
      { channel: 'mirror:send', owner: OWNER, input: { linkId: 1, message: offer } },
    ]);
    assert.deepEqual([...router.channels].sort(), Object.keys(REQUEST_SCHEMAS).sort());
  });

  test('refused senders: other frame, other URL, subframe, DevTools, gone frame — handler never runs', async () => {
    const { router, calls, logs } = routerFixture();
    const senders: [string, IpcSenderFacts][] = [
      ['another window', { webContentsId: 8, frame: { url: PAGE_URL, isMainFrame: true } }],
      ['devtools', { webContentsId: 9, frame: { url: 'devtools://devtools/bundled/devtools_app.html', isMainFrame: true } }],
      ['another URL', { webContentsId: OWNER, frame: { url: 'https://evil.example/', isMainFrame: true } }],
      ['a subframe', { webContentsId: OWNER, frame: { url: PAGE_URL, isMainFrame: false } }],
      ['a gone frame', { webContentsId: OWNER, frame: null }],
    ];
    for (const [what, sender] of senders) {
      await assert.rejects(router.invoke('settings:get', sender, []), (err: Error) => err instanceof IpcRefusal && /^settings:get: /.test(err.message), what);
    }
    assert.equal(calls.length, 0);
    assert.equal(logs.length, senders.length, 'each refusal is logged');
  });

  test('refused payloads reject with a clear error and never reach the handler', async () => {
    const { router, calls } = routerFixture();
    await assert.rejects(router.invoke('mirror:send', ours, [{ linkId: 1, message: { id: 'start', sdpOffer: 1 } }]), {
      name: 'IpcRefusal',
      message: 'mirror:send: message.sdpOffer: must be text',
    });
    await assert.rejects(router.invoke('mirror:send', ours, [{ linkId: 1, message: offer }, 'extra']), { message: 'mirror:send: takes at most one argument' });
    await assert.rejects(router.invoke('settings:get', ours, [{}]), { message: 'settings:get: takes no argument' });
    await assert.rejects(router.invoke('shell:open', ours, ['https://evil.example']), { message: 'shell:open: no such channel' });
    await assert.rejects(router.invoke('__proto__', ours, []), { message: '__proto__: no such channel' });
    assert.equal(calls.length, 0);
  });

  test('a handler error rejects the call (the main process does not crash)', async () => {
    const { links } = fixture();
    const router = createIpcRouter({
      handlers: createInvokeHandlers({ links } as unknown as IpcServices),
      mirrorWindowIds: () => new Set([OWNER]),
      log: () => {},
    });
    await assert.rejects(router.invoke('mirror:send', ours, [{ linkId: 99, message: offer }]), { message: 'mirror link 99 is not open' });
  });
});

describe('mirror links', () => {
  test('a page gets a link; its messages reach the session, the session answers on it', () => {
    const { sessions, sent, links } = fixture();
    const { linkId } = links.connect(OWNER);
    links.send(OWNER, { linkId }, offer);
    assert.deepEqual(sessions.received[0], [offer]);
    const answer: ServerMessage = { id: 'startResponse', sdpAnswer: 'v=0' };
    sessions.peers[0]!.send(answer);
    assert.deepEqual(sent, [{ owner: OWNER, channel: 'mirror:message', payload: { linkId, message: answer } }]);
  });

  test('reconnecting closes the old link; the old id is refused and its late messages dropped', () => {
    const { sessions, sent, links } = fixture();
    const first = links.connect(OWNER);
    const second = links.connect(OWNER);
    assert.notEqual(first.linkId, second.linkId);
    assert.deepEqual(sessions.closed, [0]);
    assert.throws(() => links.send(OWNER, first, offer), /is not open/);
    sessions.peers[0]!.send({ id: 'error', message: 'late' });
    assert.equal(sent.length, 0);
    assert.equal(links.size, 1);
  });

  test('another page cannot use a link it does not own', () => {
    const { links } = fixture();
    const ref = links.connect(OWNER);
    assert.throws(() => links.send(OWNER + 1, ref, offer), /is not open/);
    assert.throws(() => links.disconnect(OWNER + 1, ref), /is not open/);
  });

  test('the page going away (reload, crash, close) releases its session once', () => {
    const { sessions, links } = fixture();
    links.connect(OWNER);
    links.connect(OWNER + 1);
    links.release(OWNER);
    links.release(OWNER);
    assert.deepEqual(sessions.closed, [0]);
    links.releaseAll();
    assert.deepEqual(sessions.closed, [0, 1]);
    assert.equal(links.size, 0);
  });

  test('the page closing its link releases the session', () => {
    const { sessions, links } = fixture();
    const ref = links.connect(OWNER);
    links.disconnect(OWNER, ref);
    assert.deepEqual(sessions.closed, [0]);
  });

  test('the session ending the link tells the page, and is not closed back', () => {
    const { sessions, sent, links } = fixture();
    const { linkId } = links.connect(OWNER);
    sessions.peers[0]!.close();
    assert.deepEqual(sent, [{ owner: OWNER, channel: 'mirror:closed', payload: { linkId } }]);
    assert.deepEqual(sessions.closed, []);
    assert.equal(links.size, 0);
  });

  test('a session whose close() throws does not stop the release of others', () => {
    const logs: string[] = [];
    const links = new MirrorLinks(() => ({ receive: () => {}, close: () => { throw new Error('boom'); } }), () => {}, (m) => logs.push(m));
    links.connect(1);
    links.connect(2);
    links.releaseAll();
    assert.equal(links.size, 0);
    assert.equal(logs.length, 2);
  });

  test('reloads and navigations end the link; in-page (same document) navigations and subframes do not', () => {
    assert.ok(navigationEndsLink({ isMainFrame: true, isSameDocument: false }));
    assert.equal(navigationEndsLink({ isMainFrame: true, isSameDocument: true }), false);
    assert.equal(navigationEndsLink({ isMainFrame: false, isSameDocument: false }), false);
  });
});

describe('channel handlers', () => {
  const dirs: string[] = [];
  after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  async function services(overrides: Partial<IpcServices> = {}) {
    const dir = await mkdtemp(path.join(tmpdir(), 'mm-handlers-'));
    dirs.push(dir);
    const saved: unknown[] = [];
    const s: IpcServices = {
      links: fixture().links,
      settings: (await SettingsStore.open(dir)).store,
      notices: new NoticeBoard(),
      engineUri: async () => 'ws://127.0.0.1:1234/kurento',
      probeKms: async (uri) => ({ ok: true, version: '7.2.0', message: `probed ${uri}` }),
      settingsSaved: (x) => void saved.push(x),
      ...overrides,
    };
    return { handlers: createInvokeHandlers(s), saved };
  }

  test('settings: get gives settings and defaults; a valid set saves and applies', async () => {
    const { handlers, saved } = await services();
    assert.deepEqual(await handlers['settings:get'](OWNER, undefined), { settings: defaultSettings(), defaults: defaultSettings() });
    const next = { ...defaultSettings(), kiosk: true };
    assert.deepEqual(await handlers['settings:set'](OWNER, next), { ok: true, settings: next });
    assert.deepEqual(saved, [next]);
    assert.equal((await handlers['settings:get'](OWNER, undefined)).settings.kiosk, true);
  });

  test('settings: an invalid set answers per-field problems and saves nothing', async () => {
    const { handlers, saved } = await services();
    const result = await handlers['settings:set'](OWNER, { ...defaultSettings(), kmsUri: 'http://x', overlay: { ...defaultSettings().overlay, widthPercent: '1.6F' } });
    assert.deepEqual(result, {
      ok: false,
      problems: [
        { path: 'kmsUri', message: 'must be "builtin" or a ws:// or wss:// address, like ws://localhost:8888/kurento (several: separated by commas)' },
        { path: 'overlay.widthPercent', message: 'must be a number' },
      ],
    });
    assert.deepEqual(saved, []);
  });

  test('test connection: a URI is probed as is; builtin starts the engine first', async () => {
    const { handlers } = await services();
    assert.deepEqual(await handlers['settings:test-connection'](OWNER, { kmsUri: 'ws://kms:8888/kurento', timeoutMs: 1000 }), { ok: true, version: '7.2.0', message: 'probed ws://kms:8888/kurento' });
    assert.deepEqual(await handlers['settings:test-connection'](OWNER, { kmsUri: 'builtin', timeoutMs: 1000 }), { ok: true, version: '7.2.0', message: 'probed ws://127.0.0.1:1234/kurento' });
  });

  test('test connection: an engine that cannot start is reported as engine-failed', async () => {
    const { handlers } = await services({ engineUri: () => Promise.reject(new Error('the Node.js runtime "x" was not found')) });
    const result: ConnectionTestResult = await handlers['settings:test-connection'](OWNER, { kmsUri: 'builtin', timeoutMs: 1000 });
    assert.deepEqual(result, { ok: false, problem: 'engine-failed', message: 'The built-in media server could not start: the Node.js runtime "x" was not found' });
  });
});

describe('notice board', () => {
  test('keeps notices until dismissed, pushes new ones, does not repeat one still shown', () => {
    const board = new NoticeBoard();
    const pushed: AppNotice[] = [];
    const stop = board.onAdded((n) => pushed.push(n));
    const a = board.add({ level: 'error', text: 'engine down', opensSettings: true });
    assert.equal(board.add({ level: 'error', text: 'engine down', opensSettings: true }).id, a.id);
    board.add({ level: 'warning', text: 'settings repaired', opensSettings: false });
    assert.deepEqual(board.list().map((n) => n.text), ['engine down', 'settings repaired']);
    assert.equal(pushed.length, 2);
    assert.ok(board.dismiss(a.id));
    assert.equal(board.dismiss(a.id), false);
    assert.equal(board.add({ level: 'error', text: 'engine down', opensSettings: true }).id === a.id, false, 'shown again once dismissed');
    stop();
    board.add({ level: 'info', text: 'later', opensSettings: false });
    assert.equal(pushed.length, 3);
  });
});

describe('preload bridge', () => {
  /** ipcRenderer stand-in: records invokes, lets the test emit main → page events. */
  function fakeIpc(answers: Record<string, unknown> = {}) {
    const invoked: { channel: string; args: unknown[] }[] = [];
    const listeners = new Map<string, Set<(event: unknown, payload: unknown) => void>>();
    return {
      invoked,
      emit: (channel: string, payload: unknown) => listeners.get(channel)?.forEach((l) => l({ sender: 'ipc event' }, payload)),
      count: (channel: string) => listeners.get(channel)?.size ?? 0,
      ipc: {
        invoke: async (channel: string, ...args: unknown[]) => {
          invoked.push({ channel, args });
          return typeof answers[channel] === 'function' ? (answers[channel] as () => unknown)() : answers[channel];
        },
        on: (channel: string, l: (event: unknown, payload: unknown) => void) => void (listeners.get(channel) ?? listeners.set(channel, new Set()).get(channel)!).add(l),
        removeListener: (channel: string, l: (event: unknown, payload: unknown) => void) => void listeners.get(channel)?.delete(l),
      },
    };
  }

  test('exposes only the contract API', () => {
    const api = createMagicMirrorApi(fakeIpc().ipc);
    assert.deepEqual(Object.keys(api).sort(), ['mirror', 'notices', 'settings']);
    assert.deepEqual(Object.keys(api.mirror), ['connect']);
    assert.deepEqual(Object.keys(api.settings).sort(), ['get', 'set', 'testConnection']);
    assert.deepEqual(Object.keys(api.notices).sort(), ['dismiss', 'list', 'onAdded']);
  });

  test('a link sends on its id and hears only its own messages; an old link is deaf and mute', async () => {
    let next = 0;
    const fake = fakeIpc({ 'mirror:connect': () => ({ linkId: ++next }) });
    const api = createMagicMirrorApi(fake.ipc);
    const first = await api.mirror.connect();
    const second = await api.mirror.connect();
    const heard: ServerMessage[] = [];
    first.onMessage(() => assert.fail('old link heard a message'));
    second.onMessage((m) => heard.push(m));
    first.send({ id: 'stop' });
    second.send(offer);
    fake.emit('mirror:message', { linkId: 1, message: { id: 'error', message: 'old' } });
    fake.emit('mirror:message', { linkId: 2, message: { id: 'startResponse', sdpAnswer: 'a' } });
    assert.deepEqual(heard, [{ id: 'startResponse', sdpAnswer: 'a' }]);
    assert.deepEqual(fake.invoked.map((c) => c.channel), ['mirror:connect', 'mirror:connect', 'mirror:send']);
    assert.deepEqual(fake.invoked[2]!.args, [{ linkId: 2, message: offer }]);
  });

  test('main closing the link calls onClose once; a close asked by the page does not', async () => {
    const fake = fakeIpc({ 'mirror:connect': { linkId: 5 } });
    const api = createMagicMirrorApi(fake.ipc);
    const link = await api.mirror.connect();
    let closes = 0;
    link.onClose(() => closes++);
    fake.emit('mirror:closed', { linkId: 5 });
    fake.emit('mirror:closed', { linkId: 5 });
    assert.equal(closes, 1);
    link.send({ id: 'stop' });
    assert.equal(fake.invoked.filter((c) => c.channel === 'mirror:send').length, 0, 'nothing sent on a closed link');

    const again = await api.mirror.connect();
    again.onClose(() => assert.fail('onClose for a close the page asked for'));
    again.close();
    fake.emit('mirror:closed', { linkId: 5 });
    assert.deepEqual(fake.invoked.at(-1), { channel: 'mirror:disconnect', args: [{ linkId: 5 }] });
  });

  test('settings and notices map to their channels; listeners get the payload only and can unsubscribe', async () => {
    const fake = fakeIpc({ 'notices:list': [] });
    const api = createMagicMirrorApi(fake.ipc);
    await api.settings.get();
    await api.settings.set(defaultSettings());
    await api.settings.testConnection({ kmsUri: 'builtin', timeoutMs: 3000 });
    await api.notices.list();
    await api.notices.dismiss('notice-1');
    assert.deepEqual(fake.invoked, [
      { channel: 'settings:get', args: [] },
      { channel: 'settings:set', args: [defaultSettings()] },
      { channel: 'settings:test-connection', args: [{ kmsUri: 'builtin', timeoutMs: 3000 }] },
      { channel: 'notices:list', args: [] },
      { channel: 'notices:dismiss', args: [{ id: 'notice-1' }] },
    ]);
    const got: unknown[][] = [];
    const stop = api.notices.onAdded((...args: unknown[]) => got.push(args));
    const notice: AppNotice = { id: 'notice-2', level: 'error', text: 'x', opensSettings: true };
    fake.emit('notices:added', notice);
    stop();
    fake.emit('notices:added', notice);
    assert.deepEqual(got, [[notice]], 'one call, payload only (no IPC event object)');
    assert.equal(fake.count('notices:added'), 0);
  });
});
