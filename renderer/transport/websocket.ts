/**
 * MirrorTransport over a WebSocket to the page's own origin, path /magicmirror (the Kurento
 * tutorial's endpoint). It does not reconnect by itself: the page offers "Try again" instead,
 * which connects anew.
 */
import { MIRROR_WS_PATH, type ServerMessage } from '../../common/mirror-protocol.js';
import type { MirrorTransport } from './transport.js';

/** ws://host/magicmirror from an http:// page, wss:// from an https:// one. */
export function mirrorSocketUrl(page: Location = location): string {
  return `${page.protocol === 'https:' ? 'wss:' : 'ws:'}//${page.host}${MIRROR_WS_PATH}`;
}

export function connectWebSocket(url = mirrorSocketUrl()): Promise<MirrorTransport> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    let onMessage: (message: ServerMessage) => void = () => {};
    let onClose: () => void = () => {};
    let opened = false;
    let closedByUs = false;

    ws.addEventListener('message', (event) => {
      let message: unknown;
      try {
        message = JSON.parse(String(event.data));
      } catch {
        console.warn('mirror: ignoring a message that is not JSON', event.data);
        return;
      }
      if (message && typeof message === 'object' && typeof (message as { id?: unknown }).id === 'string') {
        onMessage(message as ServerMessage);
      }
    });
    // A failed connection fires 'error' then 'close'; 'close' alone covers both cases.
    ws.addEventListener('close', () => {
      if (!opened) reject(new Error(`cannot connect to ${url}`));
      else if (!closedByUs) onClose();
    });
    ws.addEventListener('open', () => {
      opened = true;
      resolve({
        send: (message) => ws.send(JSON.stringify(message)),
        onMessage: (listener) => void (onMessage = listener),
        onClose: (listener) => void (onClose = listener),
        close: () => {
          closedByUs = true;
          ws.close();
        },
      });
    });
  });
}
