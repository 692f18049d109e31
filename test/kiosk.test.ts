/**
 * Kiosk mode's main-process side without Electron: the staff PIN (scrypt + salt, constant-time
 * compare, rate limit), its file, the staff service and its IPC gate, the command line, the
 * preload's kiosk bridge, and the page's staff gestures.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { KIOSK_INVOKE } from '../common/kiosk-contract.js';
import { invokeKiosk, KIOSK_CHANNELS } from '../main/kiosk/ipc.js';
import { KioskService, UNLOCK_MS } from '../main/kiosk/kiosk-service.js';
import { kioskEnabled, kioskFromCommandLine, kioskPageUrl } from '../main/kiosk/launch.js';
import { LOCKOUT_MS, MAX_FAILURES, PinGuard, constantTimeEqual, hashPin, isPinHash, pinProblem, verifyPin } from '../main/kiosk/pin.js';
import { PIN_FILE_NAME, PinStore } from '../main/kiosk/pin-store.js';
import { STAFF_ONLY_PROBLEM, guardSettingsSave } from '../main/kiosk/settings-guard.js';
import type { InvokeHandlers } from '../main/ipc/router.js';
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
    assert.deepEqual(await k.call(KIOSK_INVOKE.status), { kiosk: true, pinSet: true });
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

  test('PIN: the first one by anyone, a new one only by staff; bad ones refused with a reason', async () => {
    const k = setup();
    assert.deepEqual(await k.call(KIOSK_INVOKE.unlock, { pin: '1234' }), { ok: false, reason: 'no-pin' });
    assert.deepEqual(await k.call(KIOSK_INVOKE.setPin, { pin: '1111' }), { ok: false, problem: 'The PIN is too easy to guess.' });
    assert.deepEqual(await k.call(KIOSK_INVOKE.setPin, { pin: '4829' }), { ok: true });
    assert.ok(await verifyPin('4829', k.hash()!));
    assert.deepEqual(await k.call(KIOSK_INVOKE.exit), { ok: true }, 'setting the first PIN opens a staff session');
    await k.call(KIOSK_INVOKE.lock);
    assert.deepEqual(await k.call(KIOSK_INVOKE.setPin, { pin: '9182' }), { ok: false, problem: 'Enter the current staff PIN first.' });
    await k.call(KIOSK_INVOKE.unlock, { pin: '4829' });
    assert.deepEqual(await k.call(KIOSK_INVOKE.setPin, { pin: '9182' }), { ok: true });
    assert.ok(await verifyPin('9182', k.hash()!));
  });

  test('settings: saved only in a staff session while a kiosk (the settings:set handler is guarded)', async () => {
    const k = setup({ pin: await cheapHash('482916') });
    const saves: unknown[] = [];
    const handlers = guardSettingsSave({ 'settings:set': (_owner: number, input: unknown) => (saves.push(input), { ok: true }) } as unknown as InvokeHandlers, (id) => k.service.settingsAllowed(id));
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
