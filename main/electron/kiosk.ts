/**
 * Kiosk mode and self-healing in the desktop app, the Electron side (the decisions are in
 * main/kiosk/ and main/recovery/):
 *
 * - kiosk on (`--kiosk`, or the `kiosk` setting): full-screen kiosk window showing the page
 *   with `?kiosk=1` (the page then starts the mirror itself and recovers by itself), no
 *   application menu (so no reload/DevTools/quit accelerators), the display kept awake
 *   (powerSaveBlocker), closing the window refused (Alt+F4) — leaving is the staff's, through
 *   the staff dialog and its PIN (kiosk:* IPC → KioskService).
 * - always: a crashed page is reloaded, a hung one (unresponsive for HANG_GRACE_MS) crashed
 *   and reloaded (PageWatchdog).
 * - Chromium may use loopback for WebRTC: on a machine whose only network is loopback the
 *   page otherwise finds no ICE candidate at all (docs/networking.md).
 *
 * Single instance: main.ts takes app.requestSingleInstanceLock() before anything else.
 */
import { app, ipcMain, Menu, powerSaveBlocker, type BrowserWindow, type IpcMainInvokeEvent } from 'electron';
import { KIOSK_CHANNELS, invokeKiosk } from '../kiosk/ipc.js';
import { KioskService } from '../kiosk/kiosk-service.js';
import { kioskEnabled, kioskPageUrl } from '../kiosk/launch.js';
import { PinStore } from '../kiosk/pin-store.js';
import { PageWatchdog } from '../recovery/page-watchdog.js';
import { PAGE_URL } from '../security/app-protocol.js';

/** Must run before the app is ready. */
export function applyChromiumSwitches(): void {
  app.commandLine.appendSwitch('allow-loopback-in-peer-connection');
}

export interface KioskGlueOptions {
  userData: string;
  /** The `kiosk` setting as it is now. */
  setting: () => boolean;
  mirrorWindowIds: () => ReadonlySet<number>;
  log?: (line: string) => void;
}

export interface KioskGlue {
  /** Whether the app is a kiosk now (command line over setting). */
  enabled(): boolean;
  /** The page address for a new window. */
  pageUrl(): string;
  /** Watchdog, close guard and kiosk state for a new mirror window. */
  attach(win: BrowserWindow): void;
  /** Whether page `webContentsId` may save settings (kiosk mode: only in a staff session). */
  settingsAllowed(webContentsId: number): boolean;
  /** The staff side, for the guard of the staff actions (main/kiosk/settings-guard.ts: settings:set's kiosk and PIN rules). */
  staff: KioskService;
  /** After the setting changed: windows, menu and display sleep follow. */
  apply(windows: Iterable<BrowserWindow>): void;
}

export async function setUpKiosk(o: KioskGlueOptions): Promise<KioskGlue> {
  const log = o.log ?? ((line: string) => console.warn(`[kiosk] ${line}`));
  const enabled = () => kioskEnabled(process.argv, o.setting());
  let quitting = false;
  app.on('before-quit', () => (quitting = true));

  const pins = await PinStore.open(o.userData, log);
  const service = new KioskService({ kiosk: enabled, pin: pins, exit: () => app.quit(), log });
  for (const channel of KIOSK_CHANNELS) {
    ipcMain.handle(channel, (event: IpcMainInvokeEvent, ...args: unknown[]) => {
      const frame = event.senderFrame;
      const sender = { webContentsId: event.sender.id, frame: frame && { url: frame.url, isMainFrame: frame.parent === null } };
      return invokeKiosk(service, channel, sender, args, o.mirrorWindowIds()).catch((err: Error) => {
        log(`IPC ${err.message}`);
        throw err;
      });
    });
  }

  let blocker: number | undefined;
  let wasKiosk = enabled();
  const applyGlobal = (on: boolean) => {
    if (on) {
      Menu.setApplicationMenu(null);
      if (blocker === undefined) blocker = powerSaveBlocker.start('prevent-display-sleep');
    } else if (blocker !== undefined) {
      powerSaveBlocker.stop(blocker);
      blocker = undefined;
    }
  };
  applyGlobal(enabled());

  return {
    enabled,
    pageUrl: () => kioskPageUrl(PAGE_URL, enabled()),
    settingsAllowed: (id) => service.settingsAllowed(id),
    staff: service,
    attach(win) {
      const contents = win.webContents;
      const watchdog = new PageWatchdog({
        kiosk: enabled,
        log,
        reload: (hung) => {
          if (contents.isDestroyed()) return;
          if (hung) contents.forcefullyCrashRenderer();
          contents.loadURL(kioskPageUrl(PAGE_URL, enabled())).catch((err: Error) => log(`reloading the page failed: ${err.message}`));
        },
      });
      contents.on('render-process-gone', (_event, details) => watchdog.rendererGone(details.reason));
      win.on('unresponsive', () => watchdog.unresponsive());
      win.on('responsive', () => watchdog.responsive());
      win.on('close', (event) => {
        if (enabled() && !quitting) {
          event.preventDefault();
          log('closing the kiosk window refused: staff quit through the staff dialog');
        }
      });
    },
    apply(windows) {
      const on = enabled();
      applyGlobal(on);
      if (on === wasKiosk) return;
      wasKiosk = on;
      for (const win of windows) {
        win.setKiosk(on);
        win.loadURL(kioskPageUrl(PAGE_URL, on)).catch((err: Error) => log(`reloading the page failed: ${err.message}`));
      }
    },
  };
}
