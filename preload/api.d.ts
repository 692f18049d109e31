/**
 * window.magicMirror for the page's TypeScript: present in the Electron app (the preload
 * exposes it), absent when the page runs in a browser (web mode), hence optional.
 */
import type { MagicMirrorApi } from '../common/ipc-contract.js';

declare global {
  interface Window {
    readonly magicMirror?: MagicMirrorApi;
  }
}
