/** window.magicMirrorKiosk for the page's TypeScript: present in the Electron app, absent in a browser. */
import type { KioskApi } from '../common/kiosk-contract.js';

declare global {
  interface Window {
    readonly magicMirrorKiosk?: KioskApi;
  }
}
