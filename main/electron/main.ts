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
import { BUILTIN_KMS } from '../defaults.js';
import { engineCommand } from '../engine-host/engine-command.js';
import { EngineHost } from '../engine-host/engine-host.js';
import { launchNodeEngine } from '../engine-host/launch-node-engine.js';
import { createInvokeHandlers } from '../ipc/handlers.js';
import { MirrorLinks, type OpenMirrorLink } from '../ipc/mirror-links.js';
import { createIpcRouter } from '../ipc/router.js';
import { NoticeBoard } from '../notices.js';
import { PROBLEM_TEXT } from '../problems.js';
import { SettingsStore } from '../settings/store.js';
import { probeKms } from '../settings/test-connection.js';
import { registerAppScheme, serveAppProtocol } from './app-protocol.js';
import { bindIpc, sendToPage } from './ipc.js';
import { guardAllWebContents, guardSession } from './security.js';
import { createMirrorWindow } from './window.js';

/** dist/electron/: main.js, preload.cjs and engine/ side by side; the page in dist/renderer/. */
const HERE = path.dirname(fileURLToPath(import.meta.url));
const PRELOAD = path.join(HERE, 'preload.cjs');
const RENDERER_DIR = path.join(HERE, '..', 'renderer');

/**
 * The session core plugs in here: a link per page, like a WebSocket connection in web mode
 * (docs/electron.md, "Plugging in the session core"). Until then a page that starts the
 * mirror is told so, instead of waiting for an answer that never comes.
 */
const openMirrorLink: OpenMirrorLink = (peer) => ({
  receive: (message) => {
    if (message.id === 'start') {
      peer.send({ id: 'error', code: 'internal', message: PROBLEM_TEXT.unexpected('this build of the desktop app has no mirror session service yet') });
    }
  },
  close: () => {},
});

// Before the app is ready: the scheme's privileges, where user data goes, the sandbox for all.
registerAppScheme();
// Tests give each run its own settings folder.
if (process.env.MAGIC_MIRROR_USER_DATA) app.setPath('userData', process.env.MAGIC_MIRROR_USER_DATA);
app.enableSandbox();

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
      exitedUnexpectedly: (how) => notices.add({ level: 'warning', text: PROBLEM_TEXT.engineExited(how), opensSettings: false }),
    },
  );
  /** With the built-in engine chosen, start it now, so a failure shows before the person presses Start. */
  const warmUp = (s: Settings) => {
    if (s.kmsUri === BUILTIN_KMS) engine.uri().catch(() => undefined); // reported by startFailed
  };
  const links = new MirrorLinks(openMirrorLink, sendToPage);

  const security = { isMirrorWindow: (id: number) => windows.has(id), kiosk: () => settings.current().kiosk };
  guardAllWebContents(security);
  guardSession(session.defaultSession, security);
  serveAppProtocol(RENDERER_DIR);
  bindIpc(
    createIpcRouter({
      handlers: createInvokeHandlers({
        links,
        settings,
        notices,
        engineUri: () => engine.uri(),
        probeKms,
        settingsSaved: (saved) => {
          windows.forEach((win) => win.setKiosk(saved.kiosk));
          warmUp(saved);
        },
      }),
      mirrorWindowIds: () => new Set(windows.keys()),
    }),
  );

  const openWindow = () => {
    const win = createMirrorWindow({
      preload: PRELOAD,
      devTools: !app.isPackaged,
      kiosk: settings.current().kiosk,
      pageGone: (id) => links.release(id),
      closed: (id) => windows.delete(id),
    });
    windows.set(win.webContents.id, win);
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
    engine
      .stop()
      .catch((err: Error) => console.error(`stopping the engine failed: ${err.message}`))
      .finally(() => {
        cleanedUp = true;
        app.quit();
      });
  });
}
