/**
 * Kiosk mode's main-process side without Electron: the staff PIN (scrypt + salt, constant-time
 * compare, rate limit), its file, the staff service and its IPC gate, the command line, the
 * preload's kiosk bridge, and the page's staff gestures.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { KIOSK_INVOKE, pinIssue } from '../common/kiosk-contract.js';
import { invokeKiosk, KIOSK_CHANNELS } from '../main/kiosk/ipc.js';
import { KioskService, NO_PIN_PROBLEM, UNLOCK_MS } from '../main/kiosk/kiosk-service.js';
import { kioskEnabled, kioskFromCommandLine, kioskPageUrl } from '../main/kiosk/launch.js';
import { LOCKOUT_MS, MAX_FAILURES, MAX_LOCKOUT_MS, PinGuard, constantTimeEqual, hashPin, isPinHash, pinProblem, verifyPin } from '../main/kiosk/pin.js';
import { PIN_FILE_NAME, PinStore } from '../main/kiosk/pin-store.js';
import { KIOSK_NEEDS_PIN, PIN_ALREADY_SET, PUBLIC_CHANNELS, STAFF_CHANNELS, STAFF_ONLY_DISMISS, STAFF_ONLY_PROBLEM, STAFF_ONLY_TEST, guardSettingsSave, guardStaffActions } from '../main/kiosk/settings-guard.js';
import { defaultSettings } from '../main/settings/defaults.js';
import { SETTINGS_FILE_NAME, SettingsStore } from '../main/settings/store.js';
import { createInvokeHandlers, type IpcServices } from '../main/ipc/handlers.js';
import { REQUEST_SCHEMAS } from '../main/ipc/payloads.js';
import { createIpcRouter, type InvokeHandlers } from '../main/ipc/router.js';
import { PAGE_URL, isMirrorPage } from '../main/security/app-protocol.js';
import { createKioskApi } from '../preload/kiosk-bridge.js';
import { TAPS, TAP_CORNER_PX, TAP_WINDOW_MS, cornerTaps, isStaffShortcut } from '../renderer/kiosk-staff.js';

/** A cheap scrypt cost for tests (the app uses SCRYPT_COST). */
const CHEAP = { N: 1024, r: 8, p: 1 };
const cheapHash = (pin: string) => hashPin(pin, CHEAP);

describe('staff PIN', () => {
  test('hashed with scrypt and a fresh salt; the right PIN is accepted, a wrong one refused', async () => {
    const a = await cheapHash('482916');
    const b = await cheapHash('482916');
    assert.match(a, /^scrypt\$1024\$8\$1\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$/);
    assert.notEqual(a, b, 'a new salt each time');
    assert.ok(!a.includes('482916'));
    assert.ok(isPinHash(a));
    assert.equal(await verifyPin('482916', a), true);
    assert.equal(await verifyPin('482917', a), false);
    assert.equal(await verifyPin('', a), false);
    assert.equal(await verifyPin('4829160', a), false);
    assert.equal(await verifyPin('482916', b), true);
  });

  test('the real cost is what the app stores', async () => {
    const h = await hashPin('482916');
    assert.match(h, /^scrypt\$32768\$8\$1\$/);
    assert.equal(await verifyPin('482916', h), true);
  });

  test('a damaged hash matches nothing (never throws)', async () => {
    const good = await cheapHash('482916');
    for (const bad of ['', 'scrypt$1024$8$1$abc', good.replace(/\$[^$]+$/, '$AAAA'), good.replace('scrypt$1024', 'scrypt$8'), 'plain 482916']) {
      assert.equal(isPinHash(bad), false, bad);
      assert.equal(await verifyPin('482916', bad), false, bad);
    }
  });

  test('compare is constant-time: crypto.timingSafeEqual over equal lengths, false (not a throw) on others', () => {
    const x = Buffer.from('0123456789abcdef0123456789abcdef');
    assert.equal(constantTimeEqual(Buffer.from(x), x), true);
    assert.equal(constantTimeEqual(Buffer.from('1123456789abcdef0123456789abcdef'), x), false);
    assert.equal(constantTimeEqual(Buffer.from('0123456789abcdef0123456789abcdeF'), x), false);
    assert.equal(constantTimeEqual(Buffer.alloc(3), x), false);
    // verifyPin compares scrypt outputs (always 32 bytes) with it: no early exit on the first differing byte.
  });

  test('new PINs: 4 to 8 digits, not trivially guessable', () => {
    for (const ok of ['4829', '48291637', '1357']) assert.equal(pinProblem(ok), undefined, ok);
    for (const bad of ['123', '123456789', 'abcd', '12 34', '0000', '1234', '98765', '', 1234]) assert.ok(pinProblem(bad), String(bad));
  });

  test(`rate limit: ${MAX_FAILURES} wrong PINs lock it for ${LOCKOUT_MS / 1000} s (the right one too), doubling each time`, async () => {
    let now = 0;
    const stored = await cheapHash('482916');
    const guard = new PinGuard(() => stored, () => now);
    for (let left = MAX_FAILURES - 1; left > 0; left--) assert.deepEqual(await guard.check('000000'), { ok: false, reason: 'wrong-pin', attemptsLeft: left });
    assert.deepEqual(await guard.check('000000'), { ok: false, reason: 'locked-out', retryAfterMs: LOCKOUT_MS });
    now += LOCKOUT_MS - 1;
    assert.deepEqual(await guard.check('482916'), { ok: false, reason: 'locked-out', retryAfterMs: 1 }, 'not even the right PIN');
    now += 1;
    for (let i = 0; i < MAX_FAILURES - 1; i++) await guard.check('111111');
    assert.deepEqual(await guard.check('111111'), { ok: false, reason: 'locked-out', retryAfterMs: 2 * LOCKOUT_MS });
    now += 2 * LOCKOUT_MS;
    assert.deepEqual(await guard.check('482916'), { ok: true });
    // A success resets both counts.
    for (let i = 0; i < MAX_FAILURES - 1; i++) await guard.check('111111');
    assert.deepEqual(await guard.check('111111'), { ok: false, reason: 'locked-out', retryAfterMs: LOCKOUT_MS });
  });

  test('parallel guesses are checked one at a time: the count holds', async () => {
    const stored = await cheapHash('482916');
    const guard = new PinGuard(() => stored, () => 0);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => guard.check(String(100000 + i))));
    assert.equal(results.filter((r) => !r.ok && r.reason === 'wrong-pin').length, MAX_FAILURES - 1);
    assert.equal(results.filter((r) => !r.ok && r.reason === 'locked-out').length, 20 - (MAX_FAILURES - 1));
    assert.equal((await guard.check('482916')).ok, false, 'locked');
  });

  test('no PIN stored: says so', async () => {
    assert.deepEqual(await new PinGuard(() => undefined).check('482916'), { ok: false, reason: 'no-pin' });
  });
});

describe('PIN file', () => {
  test('kept apart from settings.json, owner-only, survives a reopen; damaged → no PIN', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mm-pin-'));
    const store = await PinStore.open(dir);
    assert.equal(store.current(), undefined);
    const hash = await cheapHash('482916');
    await store.save(hash);
    assert.equal((await stat(path.join(dir, PIN_FILE_NAME))).mode & 0o777, 0o600);
    assert.equal((await PinStore.open(dir)).current(), hash);
    assert.deepEqual(JSON.parse(await readFile(path.join(dir, PIN_FILE_NAME), 'utf8')), { version: 1, pin: hash });
    const logs: string[] = [];
    await writeFile(path.join(dir, PIN_FILE_NAME), '{"version":1,"pin":"482916"}');
    assert.equal((await PinStore.open(dir, (l) => logs.push(l))).current(), undefined);
    assert.match(logs[0]!, /holds no valid PIN/);
  });
});

describe('staff service and its IPC gate', () => {
  const OWNER = 7;
  const sender = (over: Partial<{ webContentsId: number; url: string; isMainFrame: boolean }> = {}) => ({
    webContentsId: over.webContentsId ?? OWNER,
    frame: { url: over.url ?? `${PAGE_URL}?kiosk=1`, isMainFrame: over.isMainFrame ?? true },
  });
  function setup(opts: { pin?: string; kiosk?: boolean } = {}) {
    let now = 0;
    let hash: string | undefined = opts.pin;
    let exits = 0;
    const service = new KioskService({
      kiosk: () => opts.kiosk ?? true,
      pin: { current: () => hash, save: async (h) => void (hash = h) },
      exit: () => exits++,
      now: () => now,
      hash: cheapHash,
    });
    const call = (channel: string, ...args: unknown[]) => invokeKiosk(service, channel, sender(), args, new Set([OWNER]));
    return { service, call, exits: () => exits, tick: (ms: number) => (now += ms), hash: () => hash };
  }

  test('wrong PIN refused, right PIN accepted; exit only after the right PIN, and only until the staff session ends', async () => {
    const k = setup({ pin: await cheapHash('482916') });
    assert.deepEqual(await k.call(KIOSK_INVOKE.status), { kiosk: true, pinSet: true, pin: 'set' });
    assert.deepEqual(await k.call(KIOSK_INVOKE.exit), { ok: false });
    assert.deepEqual(await k.call(KIOSK_INVOKE.unlock, { pin: '111111' }), { ok: false, reason: 'wrong-pin', attemptsLeft: MAX_FAILURES - 1 });
    assert.deepEqual(await k.call(KIOSK_INVOKE.exit), { ok: false });
    assert.equal(k.exits(), 0);
    assert.deepEqual(await k.call(KIOSK_INVOKE.unlock, { pin: '482916' }), { ok: true });
    k.tick(UNLOCK_MS - 1);
    assert.deepEqual(await k.call(KIOSK_INVOKE.exit), { ok: true });
    assert.equal(k.exits(), 1);
    k.tick(1);
    assert.deepEqual(await k.call(KIOSK_INVOKE.exit), { ok: false }, 'the staff session is over');
    await k.call(KIOSK_INVOKE.unlock, { pin: '482916' });
    await k.call(KIOSK_INVOKE.lock);
    assert.deepEqual(await k.call(KIOSK_INVOKE.exit), { ok: false }, 'locked again');
  });

  test('PIN: the first one outside kiosk mode (never at a kiosk\'s screen), a new one only by staff; bad ones refused with a reason', async () => {
    const opts = { kiosk: true };
    const k = setup(opts);
    assert.deepEqual(await k.call(KIOSK_INVOKE.setPin, { pin: '4829' }), { ok: false, problem: NO_PIN_PROBLEM.unset }, 'a kiosk without a PIN stays locked');
    assert.equal(k.hash(), undefined);
    opts.kiosk = false;
    assert.deepEqual(await k.call(KIOSK_INVOKE.unlock, { pin: '1234' }), { ok: false, reason: 'no-pin' });
    assert.deepEqual(await k.call(KIOSK_INVOKE.setPin, { pin: '1111' }), { ok: false, problem: 'The PIN is too easy to guess.' });
    assert.deepEqual(await k.call(KIOSK_INVOKE.setPin, { pin: '4829' }), { ok: true });
    assert.ok(await verifyPin('4829', k.hash()!));
    opts.kiosk = true;
    assert.deepEqual(await k.call(KIOSK_INVOKE.exit), { ok: false }, 'a PIN set outside kiosk mode opens no staff session that would carry over into the kiosk');
    assert.deepEqual(await k.call(KIOSK_INVOKE.setPin, { pin: '9182' }), { ok: false, problem: 'Enter the current staff PIN first.' });
    await k.call(KIOSK_INVOKE.unlock, { pin: '4829' });
    assert.deepEqual(await k.call(KIOSK_INVOKE.setPin, { pin: '9182' }), { ok: true });
    assert.ok(await verifyPin('9182', k.hash()!));
  });

  test('settings: saved only in a staff session while a kiosk (the settings:set handler is guarded)', async () => {
    const k = setup({ pin: await cheapHash('482916') });
    const saves: unknown[] = [];
    const handlers = guardSettingsSave({ 'settings:set': (_owner: number, input: unknown) => (saves.push(input), { ok: true }) } as unknown as InvokeHandlers, k.service);
    assert.deepEqual(await handlers['settings:set'](OWNER, { kiosk: false }), { ok: false, problems: [STAFF_ONLY_PROBLEM] });
    assert.deepEqual(saves, []);
    await k.call(KIOSK_INVOKE.unlock, { pin: '482916' });
    assert.deepEqual(await handlers['settings:set'](OWNER, { kiosk: false }), { ok: true });
    assert.deepEqual(saves, [{ kiosk: false }]);
    assert.equal(setup({ kiosk: false }).service.settingsAllowed(OWNER), true, 'not a kiosk: anyone');
  });

  test('not a kiosk: exit is just quitting', async () => {
    const k = setup({ kiosk: false });
    assert.deepEqual(await k.call(KIOSK_INVOKE.exit), { ok: true });
  });

  test('the gate: other windows, subframes, other pages and malformed payloads are refused', async () => {
    const k = setup({ pin: await cheapHash('482916') });
    const ids = new Set([OWNER]);
    await assert.rejects(invokeKiosk(k.service, KIOSK_INVOKE.unlock, sender({ webContentsId: 9 }), [{ pin: '482916' }], ids), /kiosk:unlock: webContents 9 is not a mirror window/);
    await assert.rejects(invokeKiosk(k.service, KIOSK_INVOKE.unlock, sender({ isMainFrame: false }), [{ pin: '482916' }], ids), /subframe/);
    await assert.rejects(invokeKiosk(k.service, KIOSK_INVOKE.exit, sender({ url: 'https://evil.example/' }), [], ids), /not the mirror page/);
    await assert.rejects(k.call(KIOSK_INVOKE.unlock, { pin: 482916 }), /pin: must be text/);
    await assert.rejects(k.call(KIOSK_INVOKE.unlock, { pin: '1', extra: 1 }), /extra/);
    await assert.rejects(k.call(KIOSK_INVOKE.unlock, { pin: 'x'.repeat(65) }), /at most 64/);
    await assert.rejects(k.call(KIOSK_INVOKE.exit, {}), /kiosk:exit/);
    await assert.rejects(k.call('kiosk:format-disk'), /no such channel/);
    assert.equal(k.exits(), 0);
    assert.deepEqual([...KIOSK_CHANNELS].sort(), Object.values(KIOSK_INVOKE).sort());
  });
});

describe('command line, page address, bridge, gestures', () => {
  test('--kiosk overrides the setting either way', () => {
    assert.equal(kioskFromCommandLine(['electron', '.']), undefined);
    assert.equal(kioskFromCommandLine(['app', '--kiosk']), true);
    assert.equal(kioskFromCommandLine(['app', '--kiosk', '--kiosk=false']), false);
    assert.equal(kioskEnabled(['app'], true), true);
    assert.equal(kioskEnabled(['app', '--no-kiosk'], true), false);
    assert.equal(kioskEnabled(['app', '--kiosk'], false), true);
  });

  test('the kiosk page address is still the mirror page (IPC and navigation accept it)', () => {
    assert.equal(kioskPageUrl(PAGE_URL, true), `${PAGE_URL}?kiosk=1`);
    assert.equal(kioskPageUrl(`${PAGE_URL}?kiosk=1`, false), PAGE_URL);
    assert.ok(isMirrorPage(kioskPageUrl(PAGE_URL, true)));
  });

  test('preload bridge: each method is one invoke on its channel', async () => {
    const calls: unknown[][] = [];
    const api = createKioskApi({ invoke: async (...args: unknown[]) => (calls.push(args), { ok: true }) });
    await api.status();
    await api.unlock('4829');
    await api.setPin('9182');
    await api.lock();
    await api.exit();
    assert.deepEqual(calls, [['kiosk:status'], ['kiosk:unlock', { pin: '4829' }], ['kiosk:set-pin', { pin: '9182' }], ['kiosk:lock'], ['kiosk:exit']]);
  });

  test('staff shortcut Ctrl+Alt+K (Cmd+Alt+K), and five quick taps in the top-left corner', () => {
    const key = (o: Partial<KeyboardEvent>) => ({ ctrlKey: false, altKey: false, metaKey: false, shiftKey: false, code: 'KeyK', ...o });
    assert.ok(isStaffShortcut(key({ ctrlKey: true, altKey: true })));
    assert.ok(isStaffShortcut(key({ metaKey: true, altKey: true })));
    assert.ok(!isStaffShortcut(key({ ctrlKey: true })));
    assert.ok(!isStaffShortcut(key({ ctrlKey: true, altKey: true, shiftKey: true })));
    let times: number[] = [];
    let opened = 0;
    const tap = (x: number, t: number) => {
      const r = cornerTaps(times, { x, y: 10, t });
      times = r.times;
      opened += r.open ? 1 : 0;
    };
    for (let i = 0; i < TAPS - 1; i++) tap(10, i * 100);
    tap(TAP_CORNER_PX + 1, 500); // a tap elsewhere starts over
    for (let i = 0; i < TAPS - 1; i++) tap(10, 600 + i * 100);
    assert.equal(opened, 0);
    tap(10, 1100);
    assert.equal(opened, 1);
    for (let i = 0; i < TAPS; i++) tap(10, 5000 + i * TAP_WINDOW_MS); // too slow
    assert.equal(opened, 1);
  });
});

describe('a kiosk without a usable PIN, lockouts across restarts, staff-only channels (issue 23)', () => {
  const OWNER = 7;
  const sender = { webContentsId: OWNER, frame: { url: `${PAGE_URL}?kiosk=1`, isMainFrame: true } };
  const T0 = Date.UTC(2026, 11, 7, 12);
  /** A kiosk over the PIN file in `dir`, as main/electron/kiosk.ts makes it (PinStore + KioskService). */
  async function kioskOver(dir: string, clock = { now: T0 }, kiosk = true) {
    const logs: string[] = [];
    const pins = await PinStore.open(dir, { log: (l) => logs.push(l), hash: cheapHash });
    let exits = 0;
    const service = new KioskService({ kiosk: () => kiosk, pin: pins, exit: () => exits++, now: () => clock.now, hash: cheapHash });
    const call = (channel: string, ...args: unknown[]) => invokeKiosk(service, channel, sender, args, new Set([OWNER]));
    return { service, pins, call, logs, exits: () => exits };
  }
  const tmp = () => mkdtemp(path.join(os.tmpdir(), 'mm-kiosk-pin-'));
  /** Every staff action refused, and no PIN can be chosen at the screen. */
  async function assertLocked(k: Awaited<ReturnType<typeof kioskOver>>, state: 'unset' | 'damaged') {
    assert.deepEqual(await k.call(KIOSK_INVOKE.status), { kiosk: true, pinSet: false, pin: state });
    assert.deepEqual(await k.call(KIOSK_INVOKE.unlock, { pin: '4829' }), { ok: false, reason: 'no-pin' });
    assert.deepEqual(await k.call(KIOSK_INVOKE.setPin, { pin: '4829' }), { ok: false, problem: NO_PIN_PROBLEM[state] });
    assert.deepEqual(await k.call(KIOSK_INVOKE.exit), { ok: false });
    assert.equal(k.service.settingsAllowed(OWNER), false);
    assert.equal(k.exits(), 0);
    assert.equal(k.pins.current(), undefined);
  }

  test('missing PIN file in kiosk mode: staff actions refused, no PIN set from the screen, no file written', async () => {
    const dir = await tmp();
    const k = await kioskOver(dir);
    await assertLocked(k, 'unset');
    await assert.rejects(stat(path.join(dir, PIN_FILE_NAME)), { code: 'ENOENT' });
  });

  test('damaged PIN file in kiosk mode: staff actions refused, the file left as it was', async () => {
    const good = await cheapHash('482916');
    const damaged = [
      '{"version":1,"pin":"scry', // cut short
      '',
      '[]',
      'null',
      '{"version":1,"pin":"482916"}', // a PIN in plain text is no hash
      JSON.stringify({ version: 2, pin: good }),
      JSON.stringify({ version: 1, pin: good, failures: -1 }),
      JSON.stringify({ version: 1, pin: good, lockedUntil: 'later' }),
      JSON.stringify({ version: 1, newPin: '1111' }), // too easy: not taken
    ];
    for (const text of damaged) {
      const dir = await tmp();
      await writeFile(path.join(dir, PIN_FILE_NAME), text);
      const k = await kioskOver(dir);
      await assertLocked(k, 'damaged');
      assert.match(k.logs.join('\n'), /is damaged/, text);
      assert.equal(await readFile(path.join(dir, PIN_FILE_NAME), 'utf8'), text, 'not overwritten');
    }
    const unreadable = await tmp();
    await mkdir(path.join(unreadable, PIN_FILE_NAME)); // EISDIR: present but unreadable
    await assertLocked(await kioskOver(unreadable), 'damaged');
  });

  test('set or reset from outside the kiosk: a "newPin" in the file is hashed at the next start, its digits not kept', async () => {
    const dir = await tmp();
    await writeFile(path.join(dir, PIN_FILE_NAME), JSON.stringify({ version: 1, newPin: '4829' }));
    const k = await kioskOver(dir);
    assert.equal(k.pins.state(), 'set');
    const text = await readFile(path.join(dir, PIN_FILE_NAME), 'utf8');
    assert.ok(!text.includes('4829'), text);
    assert.ok(isPinHash(JSON.parse(text).pin));
    assert.deepEqual(await k.call(KIOSK_INVOKE.unlock, { pin: '4829' }), { ok: true });
    // The next start reads the hashed file as it is.
    assert.equal((await kioskOver(dir)).pins.current(), JSON.parse(text).pin);
  });

  test('a lockout survives a restart: a new PinStore and KioskService over the same folder keep the counts', async () => {
    const dir = await tmp();
    await writeFile(path.join(dir, PIN_FILE_NAME), JSON.stringify({ version: 1, newPin: '482916' }));
    const clock = { now: T0 };
    let k = await kioskOver(dir, clock);
    for (let i = 0; i < MAX_FAILURES; i++) await k.call(KIOSK_INVOKE.unlock, { pin: '111111' });
    clock.now += 1000;
    k = await kioskOver(dir, clock); // the plug pulled and put back
    assert.deepEqual(await k.call(KIOSK_INVOKE.unlock, { pin: '482916' }), { ok: false, reason: 'locked-out', retryAfterMs: LOCKOUT_MS - 1000 }, 'not even the right PIN');
    clock.now += LOCKOUT_MS;
    // Wrong PINs short of a lockout count across a restart too, and the next lockout is longer.
    k = await kioskOver(dir, clock);
    for (let left = MAX_FAILURES - 1; left > 1; left--) assert.deepEqual(await k.call(KIOSK_INVOKE.unlock, { pin: '111111' }), { ok: false, reason: 'wrong-pin', attemptsLeft: left });
    k = await kioskOver(dir, clock);
    assert.deepEqual(await k.call(KIOSK_INVOKE.unlock, { pin: '111111' }), { ok: false, reason: 'wrong-pin', attemptsLeft: 1 });
    k = await kioskOver(dir, clock);
    assert.deepEqual(await k.call(KIOSK_INVOKE.unlock, { pin: '111111' }), { ok: false, reason: 'locked-out', retryAfterMs: 2 * LOCKOUT_MS });
    clock.now += 2 * LOCKOUT_MS;
    k = await kioskOver(dir, clock);
    assert.deepEqual(await k.call(KIOSK_INVOKE.unlock, { pin: '482916' }), { ok: true });
    assert.deepEqual(Object.keys(JSON.parse(await readFile(path.join(dir, PIN_FILE_NAME), 'utf8'))), ['version', 'pin'], 'a right PIN clears the counts');
  });

  test('a lockout end far ahead (the clock set back) lasts at most the longest lockout', async () => {
    const dir = await tmp();
    const hash = await cheapHash('482916');
    await writeFile(path.join(dir, PIN_FILE_NAME), JSON.stringify({ version: 1, pin: hash, failures: 0, lockouts: 3, lockedUntil: T0 + 365 * 24 * 3600_000 }));
    const k = await kioskOver(dir);
    assert.deepEqual(await k.call(KIOSK_INVOKE.unlock, { pin: '482916' }), { ok: false, reason: 'locked-out', retryAfterMs: MAX_LOCKOUT_MS });
  });

  test('in kiosk mode Test connection (and dismissing notices) need the staff PIN too; every channel is staff or public', async () => {
    const k = { kiosk: true, unlocked: false };
    const probes: string[] = [];
    const dismissed: string[] = [];
    const services = {
      engineUri: async () => 'ws://127.0.0.1:1234/kurento',
      probeKms: async (uri: string) => (probes.push(uri), { ok: true as const, version: '7.2.0', message: `probed ${uri}` }),
      notices: { dismiss: (id: string) => void dismissed.push(id), list: () => [] },
    } as unknown as IpcServices;
    const router = createIpcRouter({
      handlers: guardStaffActions(createInvokeHandlers(services), {
        settingsAllowed: () => !k.kiosk || k.unlocked,
        status: () => ({ kiosk: k.kiosk, pinSet: true, pin: 'set' }),
        setPin: async () => assert.fail('no PIN set here'),
        lock: () => {},
      }),
      mirrorWindowIds: () => new Set([OWNER]),
      log: () => {},
    });
    const test = (kmsUri: string) => router.invoke('settings:test-connection', sender, [{ kmsUri, timeoutMs: 1000 }]);
    assert.deepEqual(await test('ws://192.0.2.7:8888/kurento'), { ok: false, problem: 'internal', message: STAFF_ONLY_TEST });
    assert.deepEqual(await test('builtin'), { ok: false, problem: 'internal', message: STAFF_ONLY_TEST });
    await assert.rejects(router.invoke('notices:dismiss', sender, [{ id: 'n1' }]), { message: STAFF_ONLY_DISMISS });
    assert.deepEqual(probes, [], 'nothing connected to');
    assert.deepEqual(dismissed, []);
    k.unlocked = true;
    assert.equal(((await test('ws://192.0.2.7:8888/kurento')) as { ok: boolean }).ok, true);
    await router.invoke('notices:dismiss', sender, [{ id: 'n1' }]);
    k.unlocked = false;
    k.kiosk = false;
    assert.equal(((await test('builtin')) as { ok: boolean }).ok, true, 'not a kiosk: anyone');
    assert.deepEqual(probes, ['ws://192.0.2.7:8888/kurento', 'ws://127.0.0.1:1234/kurento']);
    assert.deepEqual(dismissed, ['n1']);
    // Each channel is classified: a new one must be put in one list or the other.
    assert.deepEqual([...STAFF_CHANNELS, ...PUBLIC_CHANNELS].sort(), Object.keys(REQUEST_SCHEMAS).sort());
    assert.equal(guardSettingsSave, guardStaffActions);
  });
});

describe('turning kiosk mode on in Settings needs a staff PIN (no locked-out kiosk, issue 23)', () => {
  const OWNER = 7;
  const sender = { webContentsId: OWNER, frame: { url: PAGE_URL, isMainFrame: true } };
  /** The app's main side over `dir` as main.ts puts it together: SettingsStore, PinStore + KioskService, the guarded handlers behind the router. */
  async function appOver(dir: string, mode = { kiosk: false }) {
    const { store } = await SettingsStore.open(dir);
    const pins = await PinStore.open(dir, { hash: cheapHash });
    const service = new KioskService({ kiosk: () => mode.kiosk, pin: pins, exit: () => assert.fail('no exit'), hash: cheapHash });
    const saved: unknown[] = [];
    const services = { settings: store, settingsSaved: (s: unknown) => void saved.push(s) } as unknown as IpcServices;
    const router = createIpcRouter({ handlers: guardStaffActions(createInvokeHandlers(services), service), mirrorWindowIds: () => new Set([OWNER]), log: () => {} });
    const save = (request: unknown) => router.invoke('settings:set', sender, [request]);
    return { store, pins, service, saved, save };
  }
  const tmp = () => mkdtemp(path.join(os.tmpdir(), 'mm-kiosk-settings-'));
  const file = (dir: string, name: string) => readFile(path.join(dir, name), 'utf8');
  const kioskOn = { ...defaultSettings(), kiosk: true };

  test('kiosk: true without a usable PIN is refused at the kiosk field, nothing written; a bad new PIN or bad settings change nothing', async () => {
    const dir = await tmp();
    const a = await appOver(dir);
    assert.deepEqual(await a.save(kioskOn), { ok: false, problems: [KIOSK_NEEDS_PIN] });
    assert.deepEqual(await a.save({ ...kioskOn, newStaffPin: '1111' }), { ok: false, problems: [{ path: 'newStaffPin', message: 'The PIN is too easy to guess.' }] });
    assert.deepEqual(await a.save({ ...kioskOn, newStaffPin: '12a4' }), { ok: false, problems: [{ path: 'newStaffPin', message: 'The PIN must be 4 to 8 digits.' }] });
    assert.deepEqual(await a.save({ ...kioskOn, newStaffPin: 4829 }), { ok: false, problems: [{ path: 'newStaffPin', message: 'The PIN must be 4 to 8 digits.' }] });
    // A good PIN with a bad setting: the setting's problem, and the PIN is not set either.
    assert.deepEqual(await a.save({ ...kioskOn, cameraDeviceId: 42, newStaffPin: '4829' }), { ok: false, problems: [{ path: 'cameraDeviceId', message: 'must be text' }] });
    for (const name of [SETTINGS_FILE_NAME, PIN_FILE_NAME]) await assert.rejects(stat(path.join(dir, name)), { code: 'ENOENT' }, name);
    assert.equal(a.pins.state(), 'unset');
    assert.deepEqual(a.saved, []);
    assert.equal(a.store.current().kiosk, false);
    // Kiosk mode off needs no PIN.
    assert.equal(((await a.save({ ...defaultSettings(), hat: { kind: 'builtin', id: 'crown' } })) as { ok: boolean }).ok, true);
  });

  test('kiosk: true with a new valid PIN: the PIN hashed (scrypt) into kiosk-pin.json, the setting saved without it, the kiosk starts locked', async () => {
    const dir = await tmp();
    const a = await appOver(dir);
    assert.deepEqual(await a.save({ ...kioskOn, newStaffPin: '4829' }), { ok: true, settings: kioskOn });
    const pinText = await file(dir, PIN_FILE_NAME);
    assert.ok(!pinText.includes('4829'), pinText);
    const stored = JSON.parse(pinText) as { version: number; pin: string };
    assert.deepEqual(Object.keys(stored), ['version', 'pin']);
    assert.match(stored.pin, /^scrypt\$/);
    assert.ok(isPinHash(stored.pin) && (await verifyPin('4829', stored.pin)));
    const settingsText = await file(dir, SETTINGS_FILE_NAME);
    assert.ok(!settingsText.includes('4829') && !settingsText.includes('newStaffPin'), settingsText);
    assert.deepEqual(JSON.parse(settingsText), { version: 1, ...kioskOn });
    assert.deepEqual(a.saved, [kioskOn]);
    assert.equal(a.service.isUnlocked(OWNER), false, 'no staff session left open: the new kiosk asks for the PIN');
    // The next start: a kiosk with its PIN; staff get in with it.
    const b = await appOver(dir, { kiosk: true });
    assert.deepEqual(b.service.status(), { kiosk: true, pinSet: true, pin: 'set' });
    assert.deepEqual(await b.service.unlock(OWNER, '4829'), { ok: true });
    // With a PIN set, kiosk: true needs nothing new, and settings:set cannot replace the PIN.
    const c = await appOver(dir);
    assert.equal(((await c.save(kioskOn)) as { ok: boolean }).ok, true);
    assert.deepEqual(await c.save({ ...kioskOn, newStaffPin: '5173' }), { ok: false, problems: [PIN_ALREADY_SET] });
    assert.equal(await file(dir, PIN_FILE_NAME), pinText, 'the PIN unchanged');
  });

  test('a damaged PIN file is replaced by the new PIN outside kiosk mode; in kiosk mode no save reaches the PIN', async () => {
    const dir = await tmp();
    await writeFile(path.join(dir, PIN_FILE_NAME), '{"version":1,"pin":"scry');
    const kiosk = await appOver(dir, { kiosk: true });
    assert.deepEqual(await kiosk.save({ ...kioskOn, newStaffPin: '4829' }), { ok: false, problems: [STAFF_ONLY_PROBLEM] });
    assert.equal(await file(dir, PIN_FILE_NAME), '{"version":1,"pin":"scry');
    const a = await appOver(dir);
    assert.deepEqual(await a.save(kioskOn), { ok: false, problems: [KIOSK_NEEDS_PIN] });
    assert.equal(((await a.save({ ...kioskOn, newStaffPin: '4829' })) as { ok: boolean }).ok, true);
    assert.ok(await verifyPin('4829', (JSON.parse(await file(dir, PIN_FILE_NAME)) as { pin: string }).pin));
  });

  test("the rule for a new PIN is kiosk:set-pin's (one rule, common/kiosk-contract.ts, which the Settings page applies as typed)", () => {
    for (const [pin, issue] of [['4829', undefined], ['48291673', undefined], ['482', 'digits'], ['482916735', 'digits'], ['48 29', 'digits'], ['٤٨٢٩', 'digits'], ['0000', 'easy'], ['1234', 'easy'], ['6543', 'easy'], ['3456789', 'easy']] as const) {
      assert.equal(pinIssue(pin), issue, pin);
      assert.equal(pinProblem(pin) === undefined, issue === undefined, pin);
    }
  });
});
