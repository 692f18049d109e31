/**
 * The mirror window's preload: exposes window.magicMirror (bridge.ts) and nothing else.
 * Runs sandboxed with context isolation, so it is bundled to CommonJS (scripts/build-electron.ts)
 * and may use only Electron's sandboxed preload modules.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { createMagicMirrorApi } from './bridge.js';

contextBridge.exposeInMainWorld('magicMirror', createMagicMirrorApi(ipcRenderer));
