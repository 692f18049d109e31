/**
 * The desktop app end to end, under Playwright's Electron driver: the page on app://, only
 * window.magicMirror exposed, settings and notices over IPC, a corrupt settings file, an
 * engine that cannot start, refused navigation, windows and permissions.
 *
 * Needs the Electron binary. Where it is not installed (ELECTRON_SKIP_BINARY_DOWNLOAD=1, as on
 * this project's machines), every test reports itself skipped with the missing path.
 * On a Linux machine without a display, run under xvfb-run.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, test, type TestContext } from 'node:test';
import { buildApp, electronBinaryPath, launchApp, type LaunchAppOptions, type LaunchedApp } from './helpers/electron-app.js';

const BINARY = electronBinaryPath();
const MISSING = existsSync(BINARY) ? undefined : `Electron binary not installed: ${BINARY} missing`;

/** A test with its own app instance (own user data), or a skip that says why. */
function appTest(name: string, fn: (app: LaunchedApp, t: TestContext) => Promise<void>, launch: LaunchAppOptions = {}): void {
  test(name, async (t) => {
    if (MISSING) return t.skip(MISSING);
    const app = await launchApp(launch);
    try {
      await fn(app, t);
    } finally {
      await app.close();
    }
  });
}

/** Polls a page expression until it is truthy. */
async function until<T>(read: () => Promise<T>, what: string, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('desktop app', () => {
  before(async () => {
    if (!MISSING) await buildApp();
  });

  appTest('shows the mirror page from app://, with its CSP, and exposes only window.magicMirror', async ({ page }) => {
    assert.equal(page.url(), 'app://magic-mirror/index.html');
    const facts = await page.evaluate(async () => ({
      api: Object.keys(window.magicMirror ?? {}).sort(),
      require: typeof (globalThis as { require?: unknown }).require,
      process: typeof (globalThis as { process?: unknown }).process,
      csp: (await fetch(location.href)).headers.get('content-security-policy'),
    }));
    assert.deepEqual(facts.api, ['mirror', 'notices', 'settings']);
    assert.equal(facts.require, 'undefined');
    assert.equal(facts.process, 'undefined');
    assert.match(facts.csp ?? '', /default-src 'none'/);
  });

  appTest('settings over IPC: defaults, problems for invalid ones, saved to the user-data folder', async ({ page, userData }) => {
    const snapshot = await page.evaluate(() => window.magicMirror!.settings.get());
    assert.deepEqual(snapshot.settings, snapshot.defaults);
    const invalid = await page.evaluate((s) => window.magicMirror!.settings.set({ ...s, kmsUri: 'http://nope' }), snapshot.settings);
    assert.equal(invalid.ok, false);
    const saved = await page.evaluate((s) => window.magicMirror!.settings.set({ ...s, cameraDeviceId: 'cam-1' }), snapshot.settings);
    assert.equal(saved.ok, true);
    const file = JSON.parse(await readFile(path.join(userData, 'settings.json'), 'utf8')) as { cameraDeviceId: string };
    assert.equal(file.cameraDeviceId, 'cam-1');
  });

  appTest('a malformed IPC payload is refused with a clear error', async ({ page }) => {
    const error = await page.evaluate(() =>
      window.magicMirror!.settings.testConnection({ kmsUri: 'http://x', timeoutMs: 1 }).then(
        () => 'resolved',
        (err: Error) => err.message,
      ),
    );
    assert.match(error, /settings:test-connection: kmsUri: must be "builtin" or a ws:\/\/ or wss:\/\/ address.*timeoutMs: must be between 500 and 60000/);
  });

  appTest(
    'a corrupt settings file: defaults, a backup, and a notice on the page',
    async ({ page, userData }) => {
      const notices = await page.evaluate(() => window.magicMirror!.notices.list());
      assert.ok(notices.some((n) => /could not be read: it is not valid JSON/.test(n.text)), JSON.stringify(notices));
      assert.ok((await readdir(userData)).some((f) => f.startsWith('settings.json.corrupt-')));
    },
    { settingsText: '{"version": 1, "kmsUri": ' },
  );

  appTest(
    'an engine that cannot start: a notice that opens Settings',
    async ({ page }) => {
      const notice = await until(
        () => page.evaluate(() => window.magicMirror!.notices.list().then((list) => list.find((n) => n.opensSettings))),
        'the engine notice',
      );
      assert.equal(notice.level, 'error');
      assert.equal(notice.text, 'The built-in media server could not start: the Node.js runtime "/nonexistent/node" was not found');
    },
    { env: { MAGIC_MIRROR_NODE: '/nonexistent/node' } },
  );

  appTest(
    'kiosk: a full-screen kiosk window without menu, the mirror starting by itself',
    async ({ app, page }) => {
      const win = await app.browserWindow(page);
      const state = await win.evaluate((w) => ({ kiosk: w.isKiosk(), fullScreen: w.isFullScreen(), menu: w.isMenuBarVisible() }));
      assert.deepEqual(state, { kiosk: true, fullScreen: true, menu: false });
      assert.match(page.url(), /[?&]kiosk=1/);
      await page.waitForFunction(() => document.querySelector('#start-stop')?.getAttribute('data-state') === 'running', undefined, { timeout: 30_000 });
    },
    { args: ['--kiosk'] },
  );

  appTest('the built-in engine starts with the app and passes the connection test', async ({ page }) => {
    const result = await page.evaluate(() => window.magicMirror!.settings.testConnection({ kmsUri: 'builtin', timeoutMs: 20_000 }));
    assert.equal(result.ok, true, JSON.stringify(result));
  });

  appTest('no navigation away, no new windows', async ({ app, page }) => {
    await page.evaluate(() => {
      window.open('https://example.com/');
      location.href = 'https://example.com/';
    });
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(page.url(), 'app://magic-mirror/index.html');
    assert.equal(app.windows().length, 1);
  });

  appTest('the camera is allowed, other permissions are not', async ({ page }) => {
    const camera = await page.evaluate(() =>
      navigator.mediaDevices.getUserMedia({ video: true }).then(
        (s) => (s.getTracks().forEach((t) => t.stop()), 'granted'),
        (e: Error) => e.name,
      ),
    );
    assert.equal(camera, 'granted');
    const geolocation = await page.evaluate(
      () => new Promise<number | string>((resolve) => navigator.geolocation.getCurrentPosition(() => resolve('granted'), (e) => resolve(e.code))),
    );
    assert.equal(geolocation, 1 /* PERMISSION_DENIED */);
  });

  appTest('a mirror link opens and closes over IPC', async ({ page }) => {
    const closed = await page.evaluate(async () => {
      const link = await window.magicMirror!.mirror.connect();
      link.close();
      return true;
    });
    assert.ok(closed);
  });
});

