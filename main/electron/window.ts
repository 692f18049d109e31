/**
 * The mirror window: hardened webPreferences, the page at app://magic-mirror/index.html, and
 * its page's lifecycle reported so the page's mirror link is released whenever the page goes
 * away — reload or navigation, renderer crash, window closed.
 */
import { BrowserWindow } from 'electron';
import { navigationEndsLink } from '../ipc/mirror-links.js';
import { shouldReloadAfterCrash } from '../page-recovery.js';
import { PAGE_URL } from '../security/app-protocol.js';
import { mirrorWebPreferences } from '../security/web-preferences.js';

export interface MirrorWindowOptions {
  preload: string;
  devTools: boolean;
  kiosk: boolean;
  /** The page's address (default PAGE_URL; kiosk mode adds ?kiosk=1: main/kiosk/launch.ts). */
  pageUrl?: string;
  /** Reload the page after a crash by page-recovery.ts's rule (default true); false when a PageWatchdog does it (main/electron/kiosk.ts). */
  reloadAfterCrash?: boolean;
  /** The page in webContents `id` is gone (its link must be released). */
  pageGone(webContentsId: number): void;
  /** The webContents is destroyed for good. */
  closed(webContentsId: number): void;
}

export function createMirrorWindow(opts: MirrorWindowOptions): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 640,
    minHeight: 480,
    title: 'Magic Mirror',
    backgroundColor: '#101014',
    show: false,
    kiosk: opts.kiosk,
    autoHideMenuBar: true,
    webPreferences: mirrorWebPreferences({ preload: opts.preload, devTools: opts.devTools }),
  });
  const contents = win.webContents;
  const id = contents.id;
  let lastCrashReload: number | undefined;

  win.once('ready-to-show', () => win.show());
  contents.on('did-start-navigation', (details) => {
    if (navigationEndsLink(details)) opts.pageGone(id);
  });
  contents.on('render-process-gone', (_event, details) => {
    console.warn(`mirror page renderer gone: ${details.reason} (exit code ${details.exitCode})`);
    opts.pageGone(id);
    if (opts.reloadAfterCrash !== false && shouldReloadAfterCrash(details.reason, lastCrashReload, Date.now())) {
      lastCrashReload = Date.now();
      contents.reload();
    }
  });
  contents.once('destroyed', () => {
    opts.pageGone(id);
    opts.closed(id);
  });
  win.loadURL(opts.pageUrl ?? PAGE_URL).catch((err: Error) => console.error(`mirror page did not load: ${err.message}`));
  return win;
}
