/**
 * The desktop app's main process (bundled to dist/electron/main.js by scripts/build-electron.ts):
 * puts together the settings, the notices, the built-in engine host, the IPC API and the
 * mirror window. Every decision lives in a pure module (main/security/, main/ipc/,
 * main/settings/, main/engine-host/); this folder is the only code that imports 'electron'.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, dialog, session, type BrowserWindow } from 'electron';
import { EVENT } from '../../common/ipc-contract.js';
import type { Settings } from '../../common/settings.js';
import { MirrorService } from '../app/mirror-service.js';
import { BUILTIN_KMS } from '../defaults.js';
import { devOverrides, ignoredDevOverrides } from '../engine-host/dev-overrides.js';
import { engineCommand } from '../engine-host/engine-command.js';
import { EngineHost } from '../engine-host/engine-host.js';
import { launchNodeEngine } from '../engine-host/launch-node-engine.js';
import { createInvokeHandlers } from '../ipc/handlers.js';
import { MirrorLinks } from '../ipc/mirror-links.js';
import { createIpcRouter } from '../ipc/router.js';
import { guardStaffActions } from '../kiosk/settings-guard.js';
import { NoticeBoard } from '../notices.js';
import { PROBLEM_TEXT } from '../problems.js';
import { SettingsStore } from '../settings/store.js';
import { probeKms } from '../settings/test-connection.js';
import { registerAppScheme, serveAppProtocol } from './app-protocol.js';
import { bindIpc, sendToPage } from './ipc.js';
import { applyChromiumSwitches, setUpKiosk } from './kiosk.js';
import { guardAllWebContents, guardSession } from './security.js';
import { createMirrorWindow } from './window.js';

/** dist/electron/: main.js, preload.cjs and engine/ side by side; the page in dist/renderer/. */
const HERE = path.dirname(fileURLToPath(import.meta.url));
const PRELOAD = path.join(HERE, 'preload.cjs');
const RENDERER_DIR = path.join(HERE, '..', 'renderer');

// Before the app is ready: the scheme's privileges, where user data goes, the sandbox for all.
registerAppScheme();
// Tests give each run its own settings folder; a packaged app ignores the development overrides.
const overrides = devOverrides(process.env, app.isPackaged);
if (overrides.userData) app.setPath('userData', overrides.userData);
for (const name of ignoredDevOverrides(process.env, app.isPackaged)) console.warn(`${name} is ignored: this is a packaged app`);
app.enableSandbox();
applyChromiumSwitches();

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app
    .whenReady()
    .then(start)
    .catch((err: Error) => {
      dialog.showErrorBox('Magic Mirror could not start', err.stack ?? err.message);
      app.exit(1);
    });
}

async function start(): Promise<void> {
  const windows = new Map<number, BrowserWindow>();
  const notices = new NoticeBoard();
  const opened = await SettingsStore.open(app.getPath('userData'));
  const settings = opened.store;
  opened.notices.forEach((n) => notices.add(n));
  notices.onAdded((notice) => windows.forEach((_win, id) => sendToPage(id, EVENT.noticeAdded, notice)));

  const engine = new EngineHost(
    () =>
      launchNodeEngine(
        engineCommand({ packaged: app.isPackaged, resourcesPath: process.resourcesPath, appDir: HERE, platform: process.platform, env: process.env }),
        { log: (line) => console.error(`[engine] ${line}`) },
      ),
    {
      startFailed: (reason) => notices.add({ level: 'error', text: PROBLEM_TEXT.engineFailed(reason), opensSettings: true }),
      exitedUnexpectedly: (how) => {
        notices.add({ level: 'warning', text: PROBLEM_TEXT.engineExited(how), opensSettings: false });
        mirrors.engineExited(how);
      },
    },
  );
  // The session core: one MirrorSession per page link (main/app/mirror-service.ts), on the
  // settings in use when the link opens; `builtin` is the engine hosted above.
  const mirrors = new MirrorService({
    settings: () => settings.current(),
    engineUri: () => engine.uri(),
    log: (line) => console.warn(`[mirror] ${line}`),
    settingProblem: (text) => notices.add({ level: 'warning', text, opensSettings: true }),
  });
  /** With the built-in engine chosen, start it now, so a failure shows before the person presses Start. */
  const warmUp = (s: Settings) => {
    if (s.kmsUri === BUILTIN_KMS) engine.uri().catch(() => undefined); // reported by startFailed
  };
  const links = new MirrorLinks(mirrors.open, sendToPage);

  // Kiosk mode (--kiosk or the setting), page crash/hang recovery, the staff PIN: main/electron/kiosk.ts.
  const kiosk = await setUpKiosk({ userData: app.getPath('userData'), setting: () => settings.current().kiosk, mirrorWindowIds: () => new Set(windows.keys()) });
  const security = { isMirrorWindow: (id: number) => windows.has(id), kiosk: () => kiosk.enabled() };
  guardAllWebContents(security);
  guardSession(session.defaultSession, security);
  serveAppProtocol(RENDERER_DIR);
  bindIpc(
    createIpcRouter({
      // In kiosk mode, only a staff session (PIN) may save settings, test a connection or dismiss
      // notices; kiosk: true is saved only with a usable staff PIN (or a new one with it).
      handlers: guardStaffActions(createInvokeHandlers({
        links,
        settings,
        notices,
        engineUri: () => engine.uri(),
        probeKms,
        settingsSaved: (saved) => {
          kiosk.apply(windows.values());
          warmUp(saved);
        },
      }), kiosk.staff),
      mirrorWindowIds: () => new Set(windows.keys()),
    }),
  );

  const openWindow = () => {
    const win = createMirrorWindow({
      preload: PRELOAD,
      devTools: !app.isPackaged,
      kiosk: kiosk.enabled(),
      pageUrl: kiosk.pageUrl(),
      reloadAfterCrash: false, // kiosk.attach's PageWatchdog reloads (crash and hang)
      pageGone: (id) => links.release(id),
      closed: (id) => windows.delete(id),
    });
    windows.set(win.webContents.id, win);
    kiosk.attach(win);
  };
  openWindow();
  warmUp(settings.current());

  app.on('second-instance', () => {
    const win = windows.values().next().value;
    if (win?.isMinimized()) win.restore();
    win?.focus();
  });
  app.on('activate', () => windows.size === 0 && openWindow());
  app.on('window-all-closed', () => app.quit());
  // Release every session and stop the engine before the process goes.
  let cleanedUp = false;
  app.on('before-quit', (event) => {
    if (cleanedUp) return;
    event.preventDefault();
    links.releaseAll();
    mirrors
      .close() // waits for the sessions' pipelines to be released, while the engine still runs
      .catch((err: Error) => console.error(`closing the mirror sessions failed: ${err.message}`))
      .then(() => engine.stop())
      .catch((err: Error) => console.error(`stopping the engine failed: ${err.message}`))
      .finally(() => {
        cleanedUp = true;
        app.quit();
      });
  });
}
