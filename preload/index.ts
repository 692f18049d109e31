/**
 * The mirror window's preload: exposes window.magicMirror (bridge.ts) and window.magicMirrorKiosk
 * (kiosk-bridge.ts), and nothing else.
 * Runs sandboxed with context isolation, so it is bundled to CommonJS (scripts/build-electron.ts)
 * and may use only Electron's sandboxed preload modules.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { createMagicMirrorApi } from './bridge.js';
import { createKioskApi } from './kiosk-bridge.js';

contextBridge.exposeInMainWorld('magicMirror', createMagicMirrorApi(ipcRenderer));
// Kiosk mode's staff calls (common/kiosk-contract.ts); main checks each one (main/kiosk/ipc.ts).
contextBridge.exposeInMainWorld('magicMirrorKiosk', createKioskApi(ipcRenderer));
