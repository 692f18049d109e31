/**
 * The mirror page (renderer/), built with Vite and driven in headless Chromium against a fake
 * server (test/helpers/fake-mirror-server.ts) that serves it under a strict CSP and plays the
 * protocol: answering `start` with an error, or with a real SDP answer from an echo peer
 * (test/helpers/echo-peer.ts) followed by scripted `status` messages. Checks every message a
 * person can see on a black mirror, the Start/Stop states, snapshot, stats, sound toggle and
 * CSP compatibility; writes docs/ui-idle.png, docs/ui-running.png and docs/ui-error.png.
 *
 * The real server and a real hat on a face are end-to-end tests' business, not this file's.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import type { Page } from 'playwright-core';
import type { MirrorProblem, ServerMessage } from '../common/mirror-protocol.js';
import { PROBLEMS, TEXT, type Problem } from '../renderer/messages.js';
import type { ChromiumHandle } from './helpers/chromium.js';
import { EchoPeer } from './helpers/echo-peer.js';
import { startRendererRig, type FakeMirrorServer, type MirrorScript } from './helpers/fake-mirror-server.js';
import { waitFor } from './helpers/wait.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DOCS = path.join(ROOT, 'docs');

let rig: Awaited<ReturnType<typeof startRendererRig>>;
let chromium: ChromiumHandle;
let server: FakeMirrorServer;
let echo: EchoPeer;

before(async () => {
  rig = await startRendererRig();
  ({ chromium, server, echo } = rig);
  await mkdir(DOCS, { recursive: true });
});

after(async () => {
  await rig?.close();
});

/**
 * Answers `start` like Kurento would, through the echo peer; then runs `then`, if given.
 * returnVideo false: the connection comes up but no video comes back.
 */
function echoing(then?: (reply: (m: ServerMessage) => void) => void | Promise<void>, returnVideo = true): MirrorScript {
  return async (message, reply) => {
    if (message.id === 'start') {
      const sdpAnswer = await echo.answer(message.sdpOffer, (candidate) => reply({ id: 'iceCandidate', candidate }), returnVideo);
      reply({ id: 'startResponse', sdpAnswer });
      await then?.(reply);
    } else if (message.id === 'onIceCandidate') {
      await echo.addIceCandidate(message.candidate);
    } else {
      await echo.hangUp();
    }
  };
}

interface MirrorPage {
  page: Page;
  /** console.error messages (and uncaught page errors) so far. */
  errors: string[];
  /** CSP violations reported in the page so far. */
  violations(): Promise<string[]>;
}

/**
 * Opens the mirror page in a fresh context, counting console errors and CSP violations.
 * getUserMediaError: the name of the DOMException getUserMedia rejects with (camera problems).
 */
async function openMirror(opts: { getUserMediaError?: string; cameraPermission?: PermissionState; permissionDelayMs?: number } = {}): Promise<MirrorPage> {
  const page = await chromium.page();
  await page.setViewportSize({ width: 1280, height: 800 });
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  // Init scripts run outside the page's CSP; strings, because tsx-compiled functions need a helper.
  await page.addInitScript(`
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
    window.__cameraOpens = 0;
    const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    navigator.mediaDevices.getUserMedia = (c) => { if (c && c.video) window.__cameraOpens++; return getUserMedia(c); };`);
  if (opts.cameraPermission) {
    // What the Permissions API says before anything was asked (this Chromium grants all: --use-fake-ui-for-media-stream).
    await page.addInitScript(`
      const query = navigator.permissions.query.bind(navigator.permissions);
      navigator.permissions.query = (d) => d && d.name === 'camera'
        ? new Promise((r) => setTimeout(() => r({ state: ${JSON.stringify(opts.cameraPermission)} }), ${opts.permissionDelayMs ?? 0}))
        : query(d);`);
  }
  if (opts.getUserMediaError) {
    // (replaces the counting wrapper: these tests count no opens)
    await page.addInitScript(`
      navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('test', ${JSON.stringify(opts.getUserMediaError)}));`);
  }
  await page.goto(`${server.url}/`);
  return { page, errors, violations: () => page.evaluate('window.__cspViolations') as Promise<string[]> };
}

/** How many times the page asked getUserMedia for a camera. */
const cameraOpens = (page: Page) => page.evaluate('window.__cameraOpens') as Promise<number>;
const cameraShown = (page: Page) =>
  page.locator('#camera-video').evaluate((v: HTMLVideoElement) => v.srcObject instanceof MediaStream && v.srcObject.getVideoTracks()[0]?.readyState === 'live');

async function expectClean(m: MirrorPage, allowedErrors: RegExp[] = []): Promise<void> {
  assert.deepEqual(await m.violations(), [], 'CSP violations');
  assert.deepEqual(m.errors.filter((e) => !allowedErrors.some((re) => re.test(e))), [], 'console errors');
  assert.deepEqual(server.errors, [], 'protocol errors');
}

/** Waits until the card (blocking) or banner (notice) for the problem shows, and checks its texts. */
async function expectProblem(page: Page, problem: Problem): Promise<void> {
  const { title, hint, weight, retry } = PROBLEMS[problem];
  const box = page.locator(weight === 'blocking' ? '#problem' : '#notice');
  await box.and(page.locator(`[data-problem="${problem}"]`)).waitFor({ state: 'visible', timeout: 20_000 });
  assert.equal(await box.locator(weight === 'blocking' ? '#problem-title' : '#notice-title').textContent(), title);
  assert.equal(await box.locator(weight === 'blocking' ? '#problem-hint' : '#notice-hint').textContent(), hint);
  assert.equal(await box.locator('button').isVisible(), retry, `"${TEXT.tryAgain}" shown for ${problem}`);
}

const startStop = (page: Page) => page.locator('#start-stop');
const stateOf = (page: Page) => startStop(page).getAttribute('data-state');

async function waitForState(page: Page, state: 'idle' | 'starting' | 'running'): Promise<void> {
  await page.locator(`#start-stop[data-state="${state}"]`).waitFor({ timeout: 15_000 });
}

async function waitForLive(page: Page): Promise<void> {
  await page.locator('#status-text', { hasText: TEXT.status.live }).waitFor({ timeout: 20_000 });
}

/** A mirror started and live, with a way to push server messages to its page. */
async function liveMirrorWithPush(): Promise<{ m: MirrorPage; page: Page; send: (msg: ServerMessage) => void }> {
  let send!: (msg: ServerMessage) => void;
  server.script = echoing((reply) => void (send = reply));
  const m = await openMirror();
  const { page } = m;
  await page.locator('#status-text', { hasText: TEXT.status.ready }).waitFor();
  await startStop(page).click();
  await waitForLive(page);
  return { m, page, send };
}

test('idle page: every text in place, ready to start, strict CSP holds', async () => {
  server.script = echoing();
  const m = await openMirror();
  const { page } = m;
  await page.locator('#status-text', { hasText: TEXT.status.ready }).waitFor();
  assert.equal(await page.title(), TEXT.appName);
  assert.equal(await startStop(page).textContent().then((t) => t?.trim()), TEXT.start);
  assert.equal(await stateOf(page), 'idle');
  assert.ok(await page.locator('#placeholder').isVisible());
  assert.equal(await page.locator('#placeholder h2').textContent(), TEXT.placeholderTitle);
  // The camera was allowed (this Chromium allows it): the page shows it before Start.
  await page.locator('#camera-off').waitFor({ state: 'hidden' });
  assert.ok(await cameraShown(page), 'camera previewed at load');
  assert.equal(await cameraOpens(page), 1);
  assert.ok(await page.locator('#snapshot').isDisabled(), 'no snapshot without a picture');
  assert.equal(await page.locator('#mute').getAttribute('aria-label'), TEXT.unmute);
  assert.equal(await page.locator('#mirror-video').evaluate((v: HTMLVideoElement) => v.muted), true, 'mirror sound off by default');
  assert.equal(await page.locator('#camera-select option').first().textContent(), TEXT.cameraDefault);
  // No element was left without its text.
  assert.equal(await page.locator('[data-text]:empty').count(), 0);
  await page.screenshot({ path: path.join(DOCS, 'ui-idle.png') });
  await expectClean(m);

  // The violation counter itself works: an inline style is refused and reported.
  await page.evaluate(`document.body.insertAdjacentHTML('beforeend', '<div style="color: red"></div>')`);
  await waitFor(async () => (await m.violations()).length > 0, 5000, 'a reported CSP violation');
  await page.context().close();
});

test('a Start that waits for the media engine says "Starting the media engine…", then goes live; every step is marked', async () => {
  let release!: () => void;
  const engineUp = new Promise<void>((r) => (release = r));
  const answer = echoing();
  server.script = async (message, reply) => {
    if (message.id === 'start') {
      reply({ id: 'status', status: { kind: 'waiting', for: 'engine' } });
      await engineUp;
    }
    await answer(message, reply);
  };
  const m = await openMirror();
  const { page } = m;
  await page.locator('#status-text', { hasText: TEXT.status.ready }).waitFor();
  await startStop(page).click();
  await page.locator('#status-text', { hasText: TEXT.status.startingEngine }).waitFor();
  assert.equal(await stateOf(page), 'starting');
  release();
  await waitForLive(page);
  // The Start's steps as the browser bench reads them (renderer/timing.ts), in order.
  const marks = await page.evaluate(() => performance.getEntriesByType('mark').filter((e) => e.name.startsWith('mirror:')).map((e) => [e.name, e.startTime] as const));
  const at = Object.fromEntries(marks);
  for (const step of ['mirror:start', 'mirror:camera', 'mirror:offer', 'mirror:answer', 'mirror:ice', 'mirror:first-frame']) assert.ok(step in at, `${step} marked: ${JSON.stringify(marks)}`);
  assert.ok(at['mirror:start']! <= at['mirror:camera']! && at['mirror:camera']! <= at['mirror:offer']! && at['mirror:offer']! < at['mirror:answer']! && at['mirror:answer']! < at['mirror:first-frame']!, JSON.stringify(marks));
  await startStop(page).click();
  await waitForState(page, 'idle');
  await expectClean(m);
  await page.context().close();
});

test('Start → I_AM_STARTING → I_CAN_STOP → live mirror; stats, snapshot, sound; Stop → I_CAN_START', async () => {
  let release!: () => void;
  const answerGate = new Promise<void>((r) => (release = r));
  const answer = echoing();
  server.received = [];
  server.script = async (message, reply) => {
    if (message.id === 'start') await answerGate; // hold the answer so the starting state can be seen
    await answer(message, reply);
  };
  const m = await openMirror();
  const { page } = m;
  await page.locator('#status-text', { hasText: TEXT.status.ready }).waitFor();

  await startStop(page).click();
  await waitForState(page, 'starting');
  assert.ok(await startStop(page).isDisabled(), 'nothing to press while starting, as in the tutorial');
  assert.ok(await page.locator('#spinner').isVisible(), 'spinner while starting');
  await waitFor(() => server.received.some((r) => r.id === 'start'), 10_000, 'the start message');
  const start = server.received.find((r) => r.id === 'start');
  assert.ok(start?.id === 'start' && start.sdpOffer.startsWith('v=0') && start.statusEvents === true);
  assert.ok(await page.locator('#camera-video').evaluate((v: HTMLVideoElement) => v.srcObject instanceof MediaStream), 'camera shown');

  release();
  await waitForState(page, 'running');
  assert.equal(await startStop(page).textContent().then((t) => t?.trim()), TEXT.stop);
  await waitForLive(page);
  assert.ok(server.received.some((r) => r.id === 'onIceCandidate'), 'the page trickles its ICE candidates');
  assert.ok(await page.locator('#spinner').isHidden());
  assert.ok(await page.locator('#placeholder').isHidden());
  assert.ok(await page.locator('#camera-off').isHidden());
  // After a Start the camera's name is known and listed.
  assert.ok((await page.locator('#camera-select option').count()) >= 2, 'cameras listed');

  // Stats: fps from painted frames, RTT and bitrates from getStats.
  await page.locator('#stats-toggle').click();
  assert.equal(await page.locator('#stats-toggle').getAttribute('aria-pressed'), 'true');
  await waitFor(async () => {
    const values = await page.locator('#stats dd').allTextContents();
    return values.length === 5 && parseFloat(values[0]) > 1 && /ms$/.test(values[1]) && /bit\/s$/.test(values[2]) && /×/.test(values[4]);
  }, 10_000, 'stats with fps, RTT, bitrate and size');

  // Sound: muted by default, the toggle turns it on.
  await page.locator('#mute').click();
  assert.equal(await page.locator('#mirror-video').evaluate((v: HTMLVideoElement) => v.muted), false);
  assert.equal(await page.locator('#mute').getAttribute('aria-label'), TEXT.mute);
  await page.locator('#mute').click();

  // Snapshot: a PNG of the mirror's frame.
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#snapshot').click()]);
  assert.match(download.suggestedFilename(), /^magic-mirror-\d{4}-\d{2}-\d{2}-\d{6}\.png$/);
  const png = PNG.sync.read(await readFile((await download.path())!));
  assert.deepEqual([png.width, png.height], [640, 480]);
  await page.locator('#status-text', { hasText: TEXT.status.snapshotSaved }).waitFor();

  await waitForLive(page); // the note gives way to the status it replaced
  await page.screenshot({ path: path.join(DOCS, 'ui-running.png') });

  // Choosing a camera restarts the mirror with it, and is remembered.
  const cameraId = (await page.locator('#camera-select option').nth(1).getAttribute('value'))!;
  await page.locator('#camera-select').selectOption(cameraId);
  await waitFor(() => server.received.filter((r) => r.id === 'start').length === 2, 10_000, 'a second start');
  await waitForLive(page);
  assert.equal(await page.evaluate(`localStorage.getItem('magic-mirror.camera')`), cameraId);
  assert.equal(await page.locator('#camera-select').inputValue(), cameraId);

  await startStop(page).click();
  await waitForState(page, 'idle');
  await waitFor(() => server.received.at(-1)?.id === 'stop', 5000, 'the stop message');
  assert.ok(await page.locator('#camera-off').isVisible());
  assert.ok(await page.locator('#placeholder').isVisible());
  assert.equal(await page.locator('#status-text').textContent(), TEXT.status.stopped);
  assert.equal(await page.locator('#camera-video').evaluate((v: HTMLVideoElement) => v.srcObject), null, 'camera released');
  await expectClean(m);
  await page.context().close();
});

test('camera allowed before: shown at load and used by Start (opened once); Stop turns it off; not allowed: nothing opened until Start', async () => {
  server.script = echoing();
  const m = await openMirror();
  const { page } = m;
  await page.locator('#camera-off').waitFor({ state: 'hidden' });
  assert.ok(await cameraShown(page), 'camera previewed at load');
  const previewTrack = await page.locator('#camera-video').evaluate((v: HTMLVideoElement) => (v.srcObject as MediaStream).getVideoTracks()[0]!.id);
  await startStop(page).click();
  await waitForLive(page);
  assert.equal(await cameraOpens(page), 1, 'Start took the previewed camera');
  const sentTrack = await page.evaluate(() => {
    const track = (document.querySelector('#camera-video') as HTMLVideoElement).srcObject as MediaStream;
    return track.getVideoTracks()[0]!.id;
  });
  assert.equal(sentTrack, previewTrack);
  await startStop(page).click();
  await waitForState(page, 'idle');
  assert.ok(await page.locator('#camera-off').isVisible(), 'Stop turns the camera off');
  assert.equal(await page.locator('#camera-video').evaluate((v: HTMLVideoElement) => v.srcObject), null, 'camera released');
  await startStop(page).click();
  await waitForLive(page);
  assert.equal(await cameraOpens(page), 2, 'the next Start opens it again');
  await startStop(page).click();
  await waitForState(page, 'idle');
  await expectClean(m);
  await page.context().close();

  // Start pressed while the page still asks whether the camera is allowed: one camera, the session's.
  const early = await openMirror({ cameraPermission: 'granted', permissionDelayMs: 1500 });
  await early.page.locator('#status-text', { hasText: TEXT.status.ready }).waitFor();
  await startStop(early.page).click();
  await waitForLive(early.page);
  await new Promise((r) => setTimeout(r, 2000)); // past the slow answer
  assert.equal(await cameraOpens(early.page), 1, 'no preview opened behind the running mirror');
  assert.ok(await cameraShown(early.page), 'the camera video still shows the session\'s camera');
  await startStop(early.page).click();
  await waitForState(early.page, 'idle');
  assert.equal(await early.page.locator('#camera-video').evaluate((v: HTMLVideoElement) => v.srcObject), null, 'camera released');
  await expectClean(early);
  await early.page.context().close();

  // Not allowed yet (the browser would ask): nothing is opened before the person presses Start.
  const asked = await openMirror({ cameraPermission: 'prompt' });
  await asked.page.locator('#status-text', { hasText: TEXT.status.ready }).waitFor();
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await cameraOpens(asked.page), 0, 'no camera at load');
  assert.ok(await asked.page.locator('#camera-off').isVisible());
  await startStop(asked.page).click();
  await waitForLive(asked.page);
  assert.equal(await cameraOpens(asked.page), 1);
  await startStop(asked.page).click();
  await waitForState(asked.page, 'idle');
  await expectClean(asked);
  await asked.page.context().close();
});

test('a server error on start shows its message and offers Try again', async () => {
  server.script = (message, reply) => {
    if (message.id === 'start') reply({ id: 'error', message: 'Could not reach Kurento at ws://localhost:8888/kurento', code: 'kms-unreachable' });
  };
  const m = await openMirror();
  const { page } = m;
  await startStop(page).click();
  await expectProblem(page, 'kms-unreachable');
  await waitForState(page, 'idle');
  assert.ok(await page.locator('#placeholder').isHidden(), 'one message, not the invitation too');
  assert.ok(await page.locator('#spinner').isHidden());
  await page.screenshot({ path: path.join(DOCS, 'ui-error.png') });

  // An error the page has no text for (a newer server, or the tutorial's own) shows the server's sentence.
  server.script = (message, reply) => {
    if (message.id === 'start') reply({ id: 'error', message: 'The mirror is closed for maintenance until 3 pm.' });
  };
  await page.locator('#problem-retry').click();
  await page.locator('#problem-hint', { hasText: 'closed for maintenance' }).waitFor();
  assert.equal(await page.locator('#problem-title').textContent(), PROBLEMS.internal.title);
  await expectClean(m);
  await page.context().close();
});

test('server unreachable: at load, on Try again, and when it goes away mid-session', async () => {
  server.accepting = false;
  server.script = echoing();
  const m = await openMirror();
  const { page } = m;
  await expectProblem(page, 'server-unreachable');
  assert.equal(await page.locator('#status-text').textContent(), TEXT.status.serverUnreachable);

  server.accepting = true;
  await page.locator('#problem-retry').click();
  await waitForLive(page);
  assert.ok(await page.locator('#problem').isHidden());

  server.dropClients();
  await expectProblem(page, 'server-unreachable');
  assert.equal(await stateOf(page), 'idle');
  assert.equal(await page.locator('#camera-video').evaluate((v: HTMLVideoElement) => v.srcObject), null, 'camera released');
  // Chromium logs the refused WebSocket itself.
  await expectClean(m, [/WebSocket connection to .* failed/]);
  await page.context().close();
});

for (const [error, problem] of [
  ['NotAllowedError', 'camera-denied'],
  ['NotReadableError', 'camera-busy'],
  ['NotFoundError', 'no-camera'],
  ['AbortError', 'camera-failed'],
] as const) {
  test(`getUserMedia ${error} shows "${PROBLEMS[problem].title}"`, async () => {
    server.received = [];
    server.script = echoing();
    const m = await openMirror({ getUserMediaError: error });
    const { page } = m;
    await page.locator('#status-text', { hasText: TEXT.status.ready }).waitFor();
    await startStop(page).click();
    await expectProblem(page, problem);
    await waitForState(page, 'idle');
    assert.ok(!server.received.some((r) => r.id === 'start'), 'no session without a camera');
    await expectClean(m);
    await page.context().close();
  });
}

for (const problem of ['ice-failed', 'no-media', 'hat-failed', 'no-face', 'kms-lost'] as const satisfies readonly MirrorProblem[]) {
  test(`status problem ${problem} shows "${PROBLEMS[problem].title}" until cleared`, async () => {
    const { m, page, send } = await liveMirrorWithPush();

    send({ id: 'status', status: { kind: 'problem', problem, message: 'from the server' } });
    await expectProblem(page, problem);
    if (PROBLEMS[problem].weight === 'notice') assert.ok(await page.locator('#problem').isHidden(), 'the mirror stays visible');
    assert.equal(await stateOf(page), 'running', 'a status problem does not end the session');

    send({ id: 'status', status: { kind: 'problem-cleared', problem } });
    await page.locator(PROBLEMS[problem].weight === 'blocking' ? '#problem' : '#notice').waitFor({ state: 'hidden' });
    await startStop(page).click();
    await waitForState(page, 'idle');
    await expectClean(m);
    await page.context().close();
  });
}

test('no video arriving over a working connection is noticed by the page itself', async () => {
  server.script = echoing(undefined, false);
  const m = await openMirror();
  const { page } = m;
  await page.locator('#status-text', { hasText: TEXT.status.ready }).waitFor();
  await startStop(page).click();
  await waitForState(page, 'running');
  assert.ok(await page.locator('#spinner').isVisible(), 'still waiting for a picture');
  await expectProblem(page, 'no-media'); // after ~10 s without a decoded frame
  assert.ok(await page.locator('#spinner').isHidden(), 'the message replaces the spinner');
  await startStop(page).click();
  await waitForState(page, 'idle');
  await expectClean(m);
  await page.context().close();
});

test('the server stopping the session returns to Start with its reason', async () => {
  const { m, page, send } = await liveMirrorWithPush();
  send({ id: 'status', status: { kind: 'stopped', reason: 'the app is closing' } });
  await waitForState(page, 'idle');
  assert.equal(await page.locator('#status-text').textContent(), TEXT.status.stoppedByServer('the app is closing'));
  await expectClean(m);
  await page.context().close();
});
