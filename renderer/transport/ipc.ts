/**
 * MirrorTransport over the desktop app's IPC: window.magicMirror.mirror links (the preload's
 * bridge, preload/bridge.ts) to the main process's session service (main/app/). What the
 * WebSocket is in web mode, one link per page: connecting again ends the previous link, and
 * the main side ends a page's link when the page reloads, navigates or crashes.
 */
import type { MagicMirrorApi } from '../../common/ipc-contract.js';
import type { ServerMessage } from '../../common/mirror-protocol.js';
import type { ConnectTransport, MirrorTransport } from './transport.js';

export function ipcTransport(api: Pick<MagicMirrorApi, 'mirror'>): ConnectTransport {
  return async (): Promise<MirrorTransport> => {
    // Rejects (the page shows "can't reach the service") if the main side refuses the link.
    const link = await api.mirror.connect();
    return {
      send: (message) => link.send(message),
      onMessage: (listener) =>
        link.onMessage((message: ServerMessage) => {
          // Like the WebSocket transport: only messages with an id reach the page.
          if (message && typeof message === 'object' && typeof message.id === 'string') listener(message);
        }),
      onClose: (listener) => link.onClose(listener),
      close: () => link.close(),
    };
  };
}
