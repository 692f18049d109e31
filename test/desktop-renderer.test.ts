/**
 * The desktop app's page in headless Chromium, everything behind window.magicMirror real
 * (test/helpers/desktop-harness.ts: the preload's bridge over a test stand-in for Electron's
 * IPC, then the app's IPC router, handlers, SettingsStore, probeKms and MirrorService on the
 * built-in engine, which runs on a plain Node as in the app). Checks the Settings dialog
 * (address checked as typed, Test connection, number fields, per-field problems on save,
 * saving to settings.json), notices (a corrupt settings file, one that opens Settings), and a
 * mirror started through the IPC transport with the hat where KMS puts it; kiosk mode turned on
 * without a staff PIN asks for one (the real KioskService and PinStore behind it). Writes
 * docs/ui-settings.png and docs/ui-settings-kiosk-pin.png.
 */
import assert from 'node:assert/strict';
import { withoutEngineSecret } from '../common/kms-uri.js';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { EYE_PIECES } from '../common/settings.js';
import { isPinHash, verifyPin } from '../main/kiosk/pin.js';
import { KIOSK_NEEDS_PIN } from '../main/kiosk/settings-guard.js';
import { defaultSettings } from '../main/settings/defaults.js';
import { EngineHost } from '../main/engine-host/engine-host.js';
import { launchNodeEngine } from '../main/engine-host/launch-node-engine.js';
import { SETTINGS_TEXT as T, TEXT } from '../renderer/messages.js';
import { buildRenderer, ROOT } from './helpers/build-renderer.js';
import { launchChromium, type ChromiumHandle } from './helpers/chromium.js';
import { startDesktopHarness, type DesktopHarness, type DesktopPage } from './helpers/desktop-harness.js';
import { engineCounts } from './helpers/engine-counts.js';
import { testHatPng } from './helpers/hat-pixels.js';
import { waitForHatWhere } from './helpers/hat-region.js';
import { makeY4m } from './helpers/video-fixtures.js';
import { waitFor } from './helpers/wait.js';

const ENGINE = { nodePath: process.execPath, args: ['--import', import.meta.resolve('tsx'), path.join(ROOT, 'engine', 'cli.ts'), '--grace-ms', '1000'] };
const KURENTO_VERSION = (JSON.parse(await readFile(path.join(ROOT, 'node_modules/kurento-client-core/package.json'), 'utf8')) as { version: string }).version;
const OUR_VERSION = (JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

let chromium: ChromiumHandle;
let engine: EngineHost;
const scratch: string[] = [];
const harnesses: DesktopHarness[] = [];

before(async () => {
  await buildRenderer();
  chromium = await launchChromium({ fakeVideo: await makeY4m({ background: 'face' }) });
  engine = new EngineHost(() => launchNodeEngine(ENGINE, { log: () => {} }), { startFailed: () => {}, exitedUnexpectedly: () => {} });
});

after(async () => {
  for (const h of harnesses) await h.close();
  await chromium?.close();
  await engine?.stop();
  await Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true })));
});

/** An app start on a settings folder (optionally with a settings.json written first). */
async function app(settingsText?: string): Promise<{ h: DesktopHarness; userData: string }> {
  const userData = await mkdtemp(path.join(tmpdir(), 'mm-desktop-'));
  scratch.push(userData);
  if (settingsText !== undefined) await writeFile(path.join(userData, 'settings.json'), settingsText);
  const h = await startDesktopHarness({ userData, engine });
  harnesses.push(h);
  return { h, userData };
}

async function expectClean(p: DesktopPage): Promise<void> {
  assert.deepEqual(await p.violations(), [], 'CSP violations');
  assert.deepEqual(p.errors, [], 'console errors');
}

async function openSettings(page: Page): Promise<void> {
  await page.locator('#settings-open').click();
  await page.locator('#settings[open]').waitFor();
  await page.locator('#settings-kms-uri').and(page.locator(':not([value=""])')).waitFor();
}

const errorOf = (page: Page, field: string) => page.locator(`#settings-${field}-error`);

async function expectError(page: Page, field: string, text: string | RegExp): Promise<void> {
  await errorOf(page, field).waitFor({ state: 'visible', timeout: 5000 });
  const shown = (await errorOf(page, field).textContent()) ?? '';
  if (typeof text === 'string') assert.equal(shown, text, `#settings-${field}-error`);
  else assert.match(shown, text, `#settings-${field}-error`);
  assert.equal(await page.locator(`#settings-${field}`).getAttribute('aria-invalid'), 'true');
}

async function expectNoError(page: Page, field: string): Promise<void> {
  await errorOf(page, field).waitFor({ state: 'hidden', timeout: 5000 });
}

async function testConnection(page: Page, uri: string): Promise<{ tone: string; text: string }> {
  await page.locator('#settings-kms-uri').fill(uri);
  await page.locator('#settings-test').click();
  const result = page.locator('#settings-test-result:is([data-tone="ok"], [data-tone="error"])');
  await result.waitFor({ timeout: 15_000 });
  return { tone: (await result.getAttribute('data-tone'))!, text: (await result.textContent())! };
}

/** A port that was just listening on 127.0.0.1 and is closed now: connecting is refused. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('the desktop page over IPC (headless Chromium, real main side)', () => {
  test('Settings: the address is checked as typed; Test connection names the server and version, or why not', async () => {
    const { h } = await app();
    const p = await h.open(chromium);
    const { page } = p;
    await page.locator('#status-text', { hasText: TEXT.status.ready }).waitFor({ timeout: 10_000 });
    await openSettings(page);
    assert.equal(await page.locator('#settings-kms-uri').inputValue(), 'builtin');
    assert.equal(await page.locator('#settings-hat-top-hat').isChecked(), true);

    // As typed, each mistake in its own words; nothing goes to the main side for a bad address.
    const cases: [string, string][] = [
      ['http://localhost:8888/kurento', T.kmsUriIssue.scheme],
      ['localhost:8888/kurento', T.kmsUriIssue.scheme],
      ['ws://', T.kmsUriIssue.host],
      ['ws://kms host:8888/kurento', T.kmsUriIssue.spaces],
      ['', T.kmsUriIssue.empty],
      ['Builtin', T.kmsUriIssue.scheme],
    ];
    for (const [typed, message] of cases) {
      await page.locator('#settings-kms-uri').fill('');
      await page.locator('#settings-kms-uri').pressSequentially(typed);
      if (typed === '') await page.locator('#settings-kms-uri').dispatchEvent('input');
      await expectError(page, 'kms-uri', message);
    }
    const before = h.calls.length;
    await page.locator('#settings-test').click();
    assert.equal(h.calls.slice(before).filter((c) => c.channel === 'settings:test-connection').length, 0, 'a bad address is not tested');
    await page.locator('#settings-kms-uri').fill('ws://kms.example.org:8888/kurento');
    await expectNoError(page, 'kms-uri');

    // The built-in engine, by name and by its ws:// address.
    const builtin = await testConnection(page, 'builtin');
    assert.equal(builtin.tone, 'ok', builtin.text);
    assert.ok(builtin.text.includes(T.testVersion(KURENTO_VERSION)), builtin.text);
    assert.ok(builtin.text.includes(`Magic Mirror's built-in media server ${OUR_VERSION} (Kurento ${KURENTO_VERSION}), with FaceOverlayFilter`), builtin.text);
    assert.ok(builtin.text.includes(T.testFaceOverlay));
    const engineUri = await engine.uri();
    const direct = await testConnection(page, engineUri);
    assert.equal(direct.tone, 'ok', direct.text);
    // The page is told the address without the engine's per-launch secret (docs/security.md).
    assert.ok(direct.text.includes(`Connected to ${withoutEngineSecret(engineUri)}:`) && direct.text.includes(T.testVersion(KURENTO_VERSION)), direct.text);
    assert.ok(!direct.text.includes(engineUri), `the secret is not shown: ${direct.text}`);

    // Nothing listening: refused, in words.
    for (const uri of ['ws://127.0.0.1:1/kurento', `ws://127.0.0.1:${await closedPort()}/kurento`]) {
      const refused = await testConnection(page, uri);
      assert.equal(refused.tone, 'error', refused.text);
      assert.ok(refused.text.includes(T.testFailed['kms-unreachable']!), refused.text);
      assert.ok(refused.text.includes(`Cannot reach the media server at ${uri}: connection refused.`), refused.text);
    }

    // A list (a pool): each server on its own line, with its reason; usable since one answers.
    const refusedUri = `ws://127.0.0.1:${await closedPort()}/kurento`;
    const list = await testConnection(page, `builtin, ${refusedUri}`);
    assert.equal(list.tone, 'ok', list.text);
    assert.ok(list.text.includes(T.testServers(1, 2)), list.text);
    const lines = await page.locator('#settings-test-result .test-servers li').allTextContents();
    assert.equal(lines.length, 2, lines.join(' | '));
    assert.match(lines[0]!, /^✓ Connected to ws:\/\/127\.0\.0\.1:\d+\/kurento: Magic Mirror's built-in media server/);
    assert.equal(lines[1], `✗ Cannot reach the media server at ${refusedUri}: connection refused. Is Kurento Media Server running there?`);
    await page.screenshot({ path: path.join(ROOT, 'docs/ui-settings-pool.png') });

    // For the screenshot: the built-in engine, tested.
    const ok = await testConnection(page, 'builtin');
    assert.equal(ok.tone, 'ok');
    await page.screenshot({ path: path.join(ROOT, 'docs/ui-settings.png') });
    await expectClean(p);
    await page.context().close();
  });

  test('Settings: number fields refuse text, the preview follows the numbers, problems from the main side show at their fields, a save persists', async () => {
    const { h, userData } = await app();
    const p = await h.open(chromium);
    const { page } = p;
    await openSettings(page);
    const file = path.join(userData, 'settings.json');

    // "-0.35F" (the Kurento tutorial's Java float) and "1,5": refused as typed, with a reason.
    const offsetX = page.locator('#settings-offset-x');
    await offsetX.fill('');
    await offsetX.pressSequentially('-0.2F');
    await expectError(page, 'offset-x', `${T.offsetX}: ${T.numberIssue.character('F')}`);
    assert.equal(await offsetX.inputValue(), '-0.2', 'the F was not taken');
    await offsetX.fill('');
    await offsetX.focus();
    await page.keyboard.insertText('-0.35F'); // pasted
    await expectError(page, 'offset-x', `${T.offsetX}: ${T.numberIssue.character('F')}`);
    assert.equal(await offsetX.inputValue(), '');
    await page.keyboard.insertText('-0.5');
    await expectNoError(page, 'offset-x');
    const width = page.locator('#settings-width');
    await width.fill('');
    await width.focus();
    await page.keyboard.insertText('1,5');
    await expectError(page, 'width', `${T.width}: ${T.numberIssue.comma}`);
    await width.fill('');
    await width.pressSequentially('1e');
    await expectError(page, 'width', `${T.width}: ${T.numberIssue.notNumber}`);

    // Save refuses while a field is wrong, without asking the main side.
    const sets = () => h.calls.filter((c) => c.channel === 'settings:set').length;
    await page.locator('#settings-save').click();
    assert.equal(await page.locator('#settings-status').textContent(), T.fixFields);
    assert.equal(sets(), 0);

    // The preview draws the hat where the numbers put it.
    await width.fill('1.6');
    await expectNoError(page, 'width');
    const preview = () => page.locator('#settings-preview').evaluate((c: HTMLCanvasElement) => c.toDataURL());
    const first = await preview();
    await page.locator('#settings-height').fill('3');
    await waitFor(async () => (await preview()) !== first, 3000, 'the preview redrawn for a taller hat');
    await page.locator('#settings-reset-placement').click();
    assert.equal(await offsetX.inputValue(), '-0.35');

    // Problems only the main side knows (bounds, TURN's forbidden characters) come back per field.
    await page.locator('#settings-offset-y').fill('12');
    await page.locator('#settings-network summary').click();
    await page.locator('#settings-turn-on').check();
    await page.locator('#settings-turn-host').fill('turn.example.org');
    await page.locator('#settings-turn-port').fill('3478');
    await page.locator('#settings-turn-username').fill('me:you');
    await page.locator('#settings-turn-password').fill('secret');
    await page.locator('#settings-save').click();
    await expectError(page, 'offset-y', `${T.offsetY}: Must be between -10 and 10.`);
    await expectError(page, 'turn-username', 'Must not contain ":" or "@".');
    assert.equal(await page.locator('#settings-status').textContent(), T.fixFields);
    assert.equal(sets(), 1);
    await assert.rejects(readFile(file, 'utf8'), { code: 'ENOENT' }, 'nothing saved');

    // Fixed: saved, the dialog closes, the file holds it, the page reconnects.
    await page.locator('#settings-offset-y').fill('-1.1');
    await page.locator('#settings-turn-username').fill('mirror');
    await page.locator('#settings-hat-crown').check({ force: true });
    await page.locator('#settings-stun-on').check();
    await page.locator('#settings-stun-host').fill('stun.example.org');
    await page.locator('#settings-stun-port').fill('3479');
    const connects = h.calls.filter((c) => c.channel === 'mirror:connect').length;
    await page.locator('#settings-save').click();
    await page.locator('#settings').waitFor({ state: 'hidden' });
    const expected = {
      ...defaultSettings(),
      hat: { kind: 'builtin', id: 'crown' },
      overlay: { ...defaultSettings().overlay, offsetYPercent: -1.1 },
      stun: { host: 'stun.example.org', port: 3479 },
      turn: { host: 'turn.example.org', port: 3478, username: 'mirror', password: 'secret', transport: 'udp' },
    };
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), { version: 1, ...expected });
    assert.deepEqual(h.store.current(), expected);
    await waitFor(() => h.calls.filter((c) => c.channel === 'mirror:connect').length === connects + 1, 5000, 'a new link after the save');

    // Opened again (after a reload): the saved values.
    await page.reload();
    await openSettings(page);
    assert.equal(await page.locator('#settings-hat-crown').isChecked(), true);
    assert.equal(await page.locator('#settings-offset-y').inputValue(), '-1.1');
    assert.equal(await page.locator('#settings-stun-host').inputValue(), 'stun.example.org');
    assert.equal(await page.locator('#settings-turn-password').inputValue(), 'secret');
    await page.locator('#settings-cancel').click();
    await page.locator('#settings').waitFor({ state: 'hidden' });
    await expectClean(p);
    await page.context().close();
  });

  test('Settings: glasses and the mask bring their own placement (on the eyes), a hat takes the hat placement back; saved as chosen (docs/settings-glasses.png)', async () => {
    const { h, userData } = await app();
    const p = await h.open(chromium);
    const { page } = p;
    await openSettings(page);
    const numbers = async () => ({
      offsetXPercent: Number(await page.locator('#settings-offset-x').inputValue()),
      offsetYPercent: Number(await page.locator('#settings-offset-y').inputValue()),
      widthPercent: Number(await page.locator('#settings-width').inputValue()),
      heightPercent: Number(await page.locator('#settings-height').inputValue()),
    });
    const preview = () => page.locator('#settings-preview').evaluate((c: HTMLCanvasElement) => c.toDataURL());
    const hatPreview = await preview();
    await page.locator('#settings-hat-glasses').check({ force: true });
    assert.deepEqual(await numbers(), EYE_PIECES.glasses);
    await waitFor(async () => (await preview()) !== hatPreview, 3000, 'the preview shows the glasses');
    await page.locator('#settings').screenshot({ path: path.join(ROOT, 'docs', 'settings-glasses.png') });
    await page.locator('#settings-hat-crown').check({ force: true });
    assert.deepEqual(await numbers(), defaultSettings().overlay, 'a hat after glasses: the hat placement');
    // Between hats, numbers the person typed stay.
    await page.locator('#settings-offset-y').fill('-1.1');
    await page.locator('#settings-hat-party-hat').check({ force: true });
    assert.equal((await numbers()).offsetYPercent, -1.1);
    await page.locator('#settings-hat-mask').check({ force: true });
    assert.deepEqual(await numbers(), EYE_PIECES.mask);
    await page.locator('#settings-width').fill('2');
    await page.locator('#settings-reset-placement').click();
    assert.deepEqual(await numbers(), EYE_PIECES.mask, "the mask's default placement is its own");
    await page.locator('#settings-save').click();
    await page.locator('#settings').waitFor({ state: 'hidden' });
    const saved = JSON.parse(await readFile(path.join(userData, 'settings.json'), 'utf8'));
    assert.deepEqual({ hat: saved.hat, overlay: saved.overlay }, { hat: { kind: 'builtin', id: 'mask' }, overlay: EYE_PIECES.mask });

    // Each face its own hat: after the mask, the hat placement again; saved and shown as chosen.
    await openSettings(page);
    await page.locator('#settings-hat-each-face').check({ force: true });
    assert.deepEqual(await numbers(), defaultSettings().overlay);
    await page.locator('#settings-save').click();
    await page.locator('#settings').waitFor({ state: 'hidden' });
    assert.deepEqual(JSON.parse(await readFile(path.join(userData, 'settings.json'), 'utf8')).hat, { kind: 'each-face' });
    await page.reload();
    await openSettings(page);
    assert.equal(await page.locator('#settings-hat-each-face').isChecked(), true);
    await page.locator('#settings-cancel').click();
    await page.locator('#settings').waitFor({ state: 'hidden' });
    await expectClean(p);
    await page.context().close();
  });

  test('Settings: kiosk mode turned on without a staff PIN asks for a new one, twice; a bad one shows its reason, a good one is saved with the setting (docs/ui-settings-kiosk-pin.png)', async () => {
    const { h, userData } = await app();
    const p = await h.open(chromium);
    const { page } = p;
    await openSettings(page);
    const sets = () => h.calls.filter((c) => c.channel === 'settings:set');
    const pin = page.locator('#settings-staff-pin');
    const again = page.locator('#settings-staff-pin-again');
    assert.equal(await page.locator('#settings-kiosk').isChecked(), false);
    assert.equal(await page.locator('#settings-staff-pin-block').isHidden(), true, 'no PIN fields while kiosk mode is off');

    await page.locator('#settings-kiosk').check();
    await page.locator('#settings-staff-pin-block').waitFor();
    assert.equal(await page.locator('#settings-staff-pin-intro').textContent(), T.kioskPinNeeded);
    assert.equal(await pin.evaluate((el) => document.activeElement === el), true, 'the first PIN field has the focus');
    // Save without a PIN: asked for, nothing sent.
    await page.locator('#settings-save').click();
    await expectError(page, 'staff-pin', T.staffPinIssue.empty);
    // Only digits are taken as typed.
    await pin.pressSequentially('12a');
    await expectError(page, 'staff-pin', T.staffPinIssue.digitsOnly);
    assert.equal(await pin.inputValue(), '12');
    // A PIN the rules refuse (main/kiosk/pin.ts's, common/kiosk-contract.ts): its reason, nothing sent.
    await pin.fill('1234');
    await again.fill('1234');
    await page.locator('#settings-save').click();
    await expectError(page, 'staff-pin', T.staffPinIssue.easy);
    await page.locator('.section-kiosk').scrollIntoViewIfNeeded();
    await page.locator('#settings').screenshot({ path: path.join(ROOT, 'docs', 'ui-settings-kiosk-pin.png') });
    await pin.fill('123');
    await page.locator('#settings-save').click();
    await expectError(page, 'staff-pin', T.staffPinIssue.digits);
    await pin.fill('4829');
    await again.fill('4828');
    await page.locator('#settings-save').click();
    await expectNoError(page, 'staff-pin');
    await expectError(page, 'staff-pin-again', T.staffPinIssue.mismatch);
    assert.equal(sets().length, 0, 'the page refused them itself');

    // The main side refuses kiosk mode without a PIN whatever the page does (a hand-made call).
    const handMade = await page.evaluate(async () => {
      const { settings } = await window.magicMirror!.settings.get();
      return window.magicMirror!.settings.set({ ...settings, kiosk: true });
    });
    assert.deepEqual(handMade, { ok: false, problems: [KIOSK_NEEDS_PIN] });
    await assert.rejects(readFile(path.join(userData, 'settings.json'), 'utf8'), { code: 'ENOENT' });
    await assert.rejects(readFile(path.join(userData, 'kiosk-pin.json'), 'utf8'), { code: 'ENOENT' });

    // The same good PIN twice: saved with the setting, the dialog closes.
    await again.fill('4829');
    await page.locator('#settings-save').click();
    await page.locator('#settings').waitFor({ state: 'hidden' });
    const settingsText = await readFile(path.join(userData, 'settings.json'), 'utf8');
    assert.deepEqual(JSON.parse(settingsText), { version: 1, ...defaultSettings(), kiosk: true });
    assert.ok(!settingsText.includes('4829'), settingsText);
    const pinText = await readFile(path.join(userData, 'kiosk-pin.json'), 'utf8');
    assert.ok(!pinText.includes('4829'), pinText);
    const stored = (JSON.parse(pinText) as { pin: string }).pin;
    assert.match(stored, /^scrypt\$32768\$/);
    assert.ok(isPinHash(stored) && (await verifyPin('4829', stored)));
    assert.equal(h.staff.isUnlocked(p.owner), false, 'the new kiosk asks for the PIN');
    assert.deepEqual(sets().map((c) => Object.keys(c.args[0] as object).includes('newStaffPin')), [false, true], 'the hand-made call, then the dialog with the PIN');

    // Opened again: kiosk mode on, a PIN set, nothing more to enter.
    await openSettings(page);
    assert.equal(await page.locator('#settings-kiosk').isChecked(), true);
    assert.equal(await page.locator('#settings-staff-pin-block').isHidden(), true);
    assert.equal(await page.locator('#settings-kiosk-pin-set').textContent(), T.kioskPinSet);
    await page.locator('#settings-hat-crown').check({ force: true });
    await page.locator('#settings-save').click();
    await page.locator('#settings').waitFor({ state: 'hidden' });
    assert.deepEqual(h.store.current(), { ...defaultSettings(), hat: { kind: 'builtin', id: 'crown' }, kiosk: true });
    await expectClean(p);
    await page.context().close();
  });

  test('a corrupt settings file: defaults, the bad file kept, the notice shown; a notice whose fix is a setting opens Settings', async () => {
    const { h, userData } = await app('{"version": 1, "kmsUri": ');
    const files = await readdir(userData);
    const backup = files.find((f) => f.startsWith('settings.json.corrupt-'));
    assert.ok(backup, `a backup in ${JSON.stringify(files)}`);
    assert.equal(await readFile(path.join(userData, backup), 'utf8'), '{"version": 1, "kmsUri": ');
    assert.deepEqual(JSON.parse(await readFile(path.join(userData, 'settings.json'), 'utf8')), { version: 1, ...defaultSettings() });

    const p = await h.open(chromium);
    const { page } = p;
    const card = page.locator('#notices .app-notice');
    await card.waitFor({ timeout: 10_000 });
    const text = (await card.textContent()) ?? '';
    assert.match(text, /Your settings could not be read: it is not valid JSON/);
    assert.ok(text.includes(`The old file was kept as ${backup}.`), text);
    assert.equal(await page.locator('#settings[open]').count(), 0, 'this one does not open Settings');
    await openSettings(page);
    assert.match((await page.locator('#settings-notices').textContent()) ?? '', /could not be read/);
    assert.equal(await page.locator('#settings-kms-uri').inputValue(), 'builtin', 'the defaults');
    await page.locator('#settings-cancel').click();

    // A notice whose fix is a setting (as when the built-in engine cannot start) opens Settings.
    h.notices.add({ level: 'error', text: 'The built-in media server could not start: the Node.js runtime "node" was not found', opensSettings: true });
    await page.locator('#settings[open]').waitFor({ timeout: 5000 });
    await page.locator('#settings-notices .app-notice[data-level="error"]').waitFor();
    // Dismissed in the page: gone on the main side too.
    for (const id of await page.locator('#settings-notices .app-notice').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.notice!))) {
      await page.locator(`#settings-notices [data-notice="${id}"] .notice-dismiss`).click();
    }
    await waitFor(() => h.notices.list().length === 0, 5000, 'notices dismissed on the main side');
    await expectClean(p);
    await page.context().close();
  });

  test('Start through the IPC transport: the mirror shows the camera with the hat; a reload releases the session; Stop leaves no pipeline', async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'mm-desktop-hat-'));
    scratch.push(dir);
    const hatFile = path.join(dir, 'test-hat.png');
    await writeFile(hatFile, testHatPng());
    const { h } = await app(JSON.stringify({ version: 1, hat: { kind: 'image', uri: hatFile } }));
    const engineUri = await engine.uri();
    const pipelines = async () => (await engineCounts(engineUri)).pipelines;
    const p = await h.open(chromium);
    const { page } = p;
    const start = async () => {
      await page.locator('#start-stop[data-state="idle"]').click();
      await page.locator('#start-stop[data-state="running"]').waitFor({ timeout: 20_000 });
      await page.locator('#status-text', { hasText: TEXT.status.live }).waitFor({ timeout: 20_000 });
    };
    await start();
    // The fake camera is astronaut.png at 480×480 centred on 640×480: KMS's hat with the
    // tutorial's values spans about x 203–365, y 0–97 there (measured on a real KMS 7).
    const near = (a: number, b: number) => Math.abs(a - b) <= 30;
    const hat = await waitForHatWhere(page, (b) => near(b.x0, 203) && near(b.x1, 365) && b.y0 <= 5 && near(b.y1, 97), 'the hat at x 203–365, y 0–97');
    t.diagnostic(`hat found at ${JSON.stringify(hat.box)}`);
    const [r, g, b] = hat.colourAt(hat.box!.x0 + (hat.box!.x1 - hat.box!.x0) * 0.25, 5);
    assert.ok(r > 150 && g < 100 && b < 100, `the test hat's red top-left quadrant: ${[r, g, b]}`);
    assert.equal(await pipelines(), 1);
    assert.ok(h.calls.some((c) => c.channel === 'mirror:send' && (c.args[0] as { message: { id: string } }).message.id === 'onIceCandidate'), 'candidates over IPC');

    // Saved settings apply at once: the page reconnects and restarts the mirror on the new link.
    await openSettings(page);
    await page.locator('#settings-offset-y').fill('-0.6');
    await page.locator('#settings-height').fill('0.6');
    await page.locator('#settings-save').click();
    await page.locator('#settings').waitFor({ state: 'hidden' });
    // Face box (238, 57, 101, 101): the hat now spans y 57 − 0.6·101 ≈ -4 to 57.
    await waitForHatWhere(page, (b) => near(b.x0, 203) && b.y0 <= 5 && near(b.y1, 57), 'the hat at y 0–57 after the save');
    assert.equal(await pipelines(), 1, 'the old session was released');

    await page.reload();
    await waitFor(async () => (await pipelines()) === 0, 10_000, 'the session released on reload');
    await start();
    assert.equal(await pipelines(), 1);
    await page.locator('#start-stop').click();
    await page.locator('#start-stop[data-state="idle"]').waitFor();
    await waitFor(async () => (await pipelines()) === 0, 10_000, 'no pipeline after Stop');
    assert.equal((await engineCounts(engineUri)).peerConnections, 0);
    await expectClean(p);
    await page.context().close();
    await waitFor(() => h.service.linkCount === 0, 5000, 'the closed page has no link');
  });
});
