/**
 * Kiosk mode of the mirror page (renderer/kiosk*.ts), in headless Chromium against the fake
 * server (test/helpers/fake-mirror-server.ts) with the echo peer as the media server, the
 * page opened as /?kiosk=1 (what the desktop app loads in kiosk mode):
 *
 * - the mirror starts by itself, full screen, no controls;
 * - every failure shows the "Reconnecting…" card (never a black mirror) and the page starts
 *   again by itself: the server's link dropping, the media server lost (kms-lost), ICE failing,
 *   the camera unplugged (waits, resumes on devicechange);
 * - the pointer hides when still;
 * - the staff dialog: a wrong PIN refused, the right one accepted — checked by the real
 *   KioskService (scrypt, rate limit) in Node, behind an injected window.magicMirrorKiosk.
 * Writes docs/ui-kiosk-reconnecting.png.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import type { ServerMessage } from '../common/mirror-protocol.js';
import { KioskService } from '../main/kiosk/kiosk-service.js';
import { MAX_FAILURES, hashPin } from '../main/kiosk/pin.js';
import { NO_PIN_TEXT } from '../renderer/kiosk-staff.js';
import { KIOSK_TEXT, PROBLEMS, TEXT } from '../renderer/messages.js';
import type { ChromiumHandle } from './helpers/chromium.js';
import { EchoPeer } from './helpers/echo-peer.js';
import { startRendererRig, type FakeMirrorServer, type MirrorScript } from './helpers/fake-mirror-server.js';
import { waitFor } from './helpers/wait.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

let rig: Awaited<ReturnType<typeof startRendererRig>>;
let chromium: ChromiumHandle;
let server: FakeMirrorServer;
let echo: EchoPeer;

before(async () => {
  rig = await startRendererRig();
  ({ chromium, server, echo } = rig);
});

after(async () => {
  await rig?.close();
});

/** Answers `start` through the echo peer, then hands `onLive` a way to send more. */
function echoing(onStarted?: (reply: (m: ServerMessage) => void) => void): MirrorScript {
  return async (message, reply) => {
    if (message.id === 'start') {
      const sdpAnswer = await echo.answer(message.sdpOffer, (candidate) => reply({ id: 'iceCandidate', candidate }));
      reply({ id: 'startResponse', sdpAnswer });
      onStarted?.(reply);
    } else if (message.id === 'onIceCandidate') {
      await echo.addIceCandidate(message.candidate);
    } else {
      await echo.hangUp();
    }
  };
}

const starts = () => server.received.filter((m) => m.id === 'start').length;
const card = (page: Page) => page.locator('#kiosk-recovery');

async function openKiosk(init?: string): Promise<{ page: Page; errors: string[] }> {
  const page = await chromium.page();
  await page.setViewportSize({ width: 1024, height: 768 });
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  if (init) await page.addInitScript(init);
  await page.goto(`${server.url}/?kiosk=1`);
  return { page, errors };
}

async function waitLive(page: Page): Promise<void> {
  await page.locator('#status-text', { hasText: TEXT.status.live }).waitFor({ state: 'attached', timeout: 20_000 });
  await waitFor(async () => (await page.locator('#mirror-video').evaluate((v: HTMLVideoElement) => v.readyState >= 2 && v.videoWidth > 0)), 20_000, 'mirror frames');
}

/** The card shows "Reconnecting…" (or another recovery title) for `reason`. */
async function expectCard(page: Page, title: string, reason: string): Promise<void> {
  await card(page).and(page.locator(`[data-reason="${reason}"]`)).waitFor({ state: 'visible', timeout: 10_000 });
  assert.equal(await page.locator('#kiosk-recovery-title').textContent(), title);
  assert.equal(await page.locator('#kiosk-recovery-reason').textContent(), PROBLEMS[reason as keyof typeof PROBLEMS].title);
}

test('kiosk: starts by itself, full screen without controls; link dropped → "Reconnecting…" → back by itself', async () => {
  server.received = [];
  server.accepting = true;
  server.script = echoing();
  const { page, errors } = await openKiosk();
  await waitLive(page); // nobody pressed Start
  assert.equal(starts(), 1);
  for (const hidden of ['.topbar', '.controls', '.side-column']) assert.ok(await page.locator(hidden).isHidden(), hidden);
  const box = await page.locator('.mirror-frame').boundingBox();
  assert.deepEqual([box?.width, box?.height], [1024, 768], 'the mirror fills the screen');
  assert.ok(await card(page).isHidden());

  server.accepting = false;
  server.dropClients();
  await expectCard(page, KIOSK_TEXT.reconnecting, 'server-unreachable');
  assert.match((await page.locator('#kiosk-recovery-next').textContent())!, /^(Trying again in \d+ s|Trying again now…) · Attempt \d+$/);
  await page.screenshot({ path: path.join(ROOT, 'docs/ui-kiosk-reconnecting.png') });
  await waitFor(async () => Number(/Attempt (\d+)/.exec((await page.locator('#kiosk-recovery-next').textContent()) ?? '')?.[1]) >= 2, 15_000, 'a second attempt');
  assert.ok(await card(page).isVisible(), 'still saying so while the server is away');

  server.accepting = true;
  await waitFor(() => starts() >= 2, 20_000, 'a new start once the server is back');
  await waitLive(page);
  await card(page).waitFor({ state: 'hidden' });
  assert.deepEqual(errors.filter((e) => !/WebSocket connection to .* failed/.test(e)), []);
  await page.context().close();
});

test('kiosk: the server ends the mirror (kms-lost) or ICE fails → "Reconnecting…", then a new session by itself', async () => {
  server.received = [];
  server.accepting = true;
  let send!: (m: ServerMessage) => void;
  server.script = echoing((reply) => (send = reply));
  const { page } = await openKiosk();
  await waitLive(page);

  send({ id: 'error', code: 'kms-lost', message: 'The built-in media server stopped unexpectedly (signal SIGKILL). Start the mirror again.' });
  await expectCard(page, KIOSK_TEXT.reconnecting, 'kms-lost');
  await waitFor(() => starts() === 2, 10_000, 'restart after kms-lost');
  await waitLive(page);
  await card(page).waitFor({ state: 'hidden' });

  // The server reconnecting to its media server: "Reconnecting…" while it tries, gone when it is back.
  send({ id: 'status', status: { kind: 'problem', problem: 'kms-lost', message: 'reconnecting' } });
  await expectCard(page, KIOSK_TEXT.reconnecting, 'kms-lost');
  assert.equal(await page.locator('#kiosk-recovery-next').textContent(), KIOSK_TEXT.resuming);
  send({ id: 'status', status: { kind: 'problem-cleared', problem: 'kms-lost' } });
  await card(page).waitFor({ state: 'hidden' });
  assert.equal(starts(), 2, 'a resumed session is not restarted');

  send({ id: 'status', status: { kind: 'problem', problem: 'ice-failed', message: 'ICE failed' } });
  await expectCard(page, KIOSK_TEXT.reconnecting, 'ice-failed');
  await waitFor(() => starts() === 3, 10_000, 'restart after ICE failed');
  assert.ok(server.received.some((m) => m.id === 'stop'), 'the old session was stopped first');
  await waitLive(page);
  await card(page).waitFor({ state: 'hidden' });
  await page.context().close();
});

test('kiosk: camera unplugged → "Waiting for the camera…"; plugged back (devicechange) → mirror resumes', async () => {
  server.received = [];
  server.accepting = true;
  server.script = echoing();
  // Lets the test unplug the camera: 'ended' on the track is what Chromium fires when a device goes.
  const { page } = await openKiosk(`
    const gum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    window.__unplugged = false;
    navigator.mediaDevices.getUserMedia = async (c) => {
      if (window.__unplugged) throw new DOMException('no camera', 'NotFoundError');
      const s = await gum(c);
      window.__camera = s;
      return s;
    };`);
  await waitLive(page);
  await page.evaluate(`window.__unplugged = true; window.__camera.getVideoTracks()[0].dispatchEvent(new Event('ended'))`);
  await expectCard(page, KIOSK_TEXT.waitingForCamera, 'camera-lost');
  assert.equal(await page.locator('#kiosk-recovery-next').textContent(), KIOSK_TEXT.waitingForCameraHint);
  await page.evaluate(`navigator.mediaDevices.dispatchEvent(new Event('devicechange'))`); // a device came, but not a camera
  await expectCard(page, KIOSK_TEXT.waitingForCamera, 'no-camera');
  const before = starts();
  await page.evaluate(`window.__unplugged = false; navigator.mediaDevices.dispatchEvent(new Event('devicechange'))`);
  await waitFor(() => starts() === before + 1, 10_000, 'a start once the camera is back');
  await waitLive(page);
  await card(page).waitFor({ state: 'hidden' });
  await page.context().close();
});

test('kiosk: the pointer hides after 3 s still and shows when it moves', async () => {
  server.script = echoing();
  const { page } = await openKiosk();
  const cursor = () => page.locator('.mirror-frame').evaluate((e) => getComputedStyle(e).cursor);
  await page.mouse.move(200, 200);
  assert.notEqual(await cursor(), 'none');
  await waitFor(async () => (await cursor()) === 'none', 6000, 'pointer hidden');
  await page.mouse.move(300, 250);
  assert.notEqual(await cursor(), 'none');
  await page.context().close();
});

/** A page whose window.magicMirrorKiosk (the preload's bridge) calls this real KioskService, as page 1. */
async function pageWithKioskBridge(service: KioskService) {
  const page = await chromium.page();
  await page.exposeFunction('__kioskCall', (method: string, pin?: string) => {
    if (method === 'status') return service.status();
    if (method === 'unlock') return service.unlock(1, pin!);
    if (method === 'setPin') return service.setPin(1, pin!);
    if (method === 'lock') return service.lock(1);
    return service.exit(1);
  });
  await page.addInitScript(`window.magicMirrorKiosk = {
    status: () => window.__kioskCall('status'),
    unlock: (pin) => window.__kioskCall('unlock', pin),
    setPin: (pin) => window.__kioskCall('setPin', pin),
    lock: () => window.__kioskCall('lock'),
    exit: () => window.__kioskCall('exit'),
  };`);
  return page;
}

test('kiosk: staff dialog — wrong PIN refused, right PIN accepted (real KioskService), lockout after repeated failures', async () => {
  server.script = echoing();
  const stored = await hashPin('482916', { N: 1024, r: 8, p: 1 });
  let exits = 0;
  const service = new KioskService({ kiosk: () => true, pin: { current: () => stored, save: async () => {} }, exit: () => exits++ });
  const page = await pageWithKioskBridge(service);
  await page.goto(`${server.url}/?kiosk=1`);
  const dialog = page.locator('#kiosk-staff');
  const message = page.locator('#kiosk-staff-message');
  assert.ok(await dialog.isHidden());

  await page.keyboard.press('Control+Alt+KeyK');
  await dialog.waitFor({ state: 'visible' });
  assert.equal(await message.textContent(), KIOSK_TEXT.enterPin);
  await page.locator('#kiosk-staff-pin').fill('111111');
  await page.locator('#kiosk-staff-submit').click();
  await message.filter({ hasText: KIOSK_TEXT.wrongPin(MAX_FAILURES - 1) }).waitFor();
  assert.ok(await page.locator('#kiosk-staff-exit').count() === 0, 'no staff menu after a wrong PIN');
  await page.locator('#kiosk-staff-pin').fill('482916');
  await page.keyboard.press('Enter');
  await page.locator('#kiosk-staff-exit').waitFor();
  await page.locator('#kiosk-staff-exit').click();
  await waitFor(() => exits === 1, 5000, 'exit after the right PIN');

  // Back, locked again: repeated wrong PINs lock the dialog out.
  await page.locator('#kiosk-staff-cancel').click();
  await dialog.waitFor({ state: 'hidden' });
  await page.keyboard.press('Control+Alt+KeyK');
  for (let i = 0; i < MAX_FAILURES; i++) {
    await page.locator('#kiosk-staff-pin').fill(`99999${i}`);
    await page.locator('#kiosk-staff-submit').click();
    await page.locator('#kiosk-staff-message[data-tone="error"]').waitFor();
    await waitFor(async () => (await page.locator('#kiosk-staff-pin').inputValue()) === '', 5000, 'answered');
  }
  await message.filter({ hasText: KIOSK_TEXT.lockedOut(30) }).waitFor();
  await page.locator('#kiosk-staff-pin').fill('482916');
  await page.locator('#kiosk-staff-submit').click();
  await message.filter({ hasText: /Too many wrong PINs/ }).waitFor();
  assert.equal(await page.locator('#kiosk-staff-exit').count(), 0, 'not even the right PIN while locked out');
  assert.equal(exits, 1);
  await page.context().close();
});

test('kiosk without a staff PIN: the staff dialog says it is locked and offers no PIN to choose (issue 23)', async () => {
  server.script = echoing();
  const service = new KioskService({ kiosk: () => true, pin: { current: () => undefined, save: async () => assert.fail('no PIN may be saved'), state: () => 'damaged' }, exit: () => assert.fail('no exit') });
  const page = await pageWithKioskBridge(service);
  await page.goto(`${server.url}/?kiosk=1`);
  await page.keyboard.press('Control+Alt+KeyK');
  await page.locator('#kiosk-staff-message', { hasText: NO_PIN_TEXT.damaged }).waitFor();
  assert.equal(await page.locator('#kiosk-staff-pin').isHidden(), true);
  assert.equal(await page.locator('#kiosk-staff-submit').count(), 0);
  assert.equal(await page.locator('#kiosk-staff-exit').count(), 0);
  await page.context().close();
});

test('kiosk in a plain browser (no app bridge): the staff shortcut says how to leave instead', async () => {
  server.script = echoing();
  const { page } = await openKiosk();
  await page.keyboard.press('Control+Alt+KeyK');
  await page.locator('#kiosk-staff-message', { hasText: KIOSK_TEXT.noStaffBridge }).waitFor();
  assert.equal(await page.locator('#kiosk-staff-pin').isHidden(), true);
  await page.context().close();
});
