/**
 * The object the preload exposes as window.magicMirror: typed wrappers over invoke and the
 * main → page events of common/ipc-contract.ts, and nothing else — the page never gets
 * ipcRenderer, an IPC event object, or a channel name of its choosing. Kept apart from
 * index.ts (which hands it to contextBridge) so it can be tested without Electron.
 */
import {
  EVENT,
  INVOKE,
  type EventChannel,
  type EventPayload,
  type InvokeChannel,
  type InvokeRequest,
  type InvokeResponse,
  type MagicMirrorApi,
  type MirrorLinkApi,
} from '../common/ipc-contract.js';
import type { ServerMessage } from '../common/mirror-protocol.js';

/** The part of Electron's ipcRenderer the bridge uses. */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, payload: unknown) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, payload: unknown) => void): unknown;
}

export function createMagicMirrorApi(ipc: IpcRendererLike): MagicMirrorApi {
  const call = <C extends InvokeChannel>(channel: C, ...request: InvokeRequest<C> extends undefined ? [] : [InvokeRequest<C>]) =>
    ipc.invoke(channel, ...request) as Promise<InvokeResponse<C>>;
  /** Subscribes to a main → page event; the listener sees the payload only. */
  const listen = <C extends EventChannel>(channel: C, listener: (payload: EventPayload<C>) => void) => {
    const handler = (_event: unknown, payload: unknown) => listener(payload as EventPayload<C>);
    ipc.on(channel, handler);
    return () => void ipc.removeListener(channel, handler);
  };

  // The page's one open link; events for any other (older) link are dropped.
  let current: { linkId: number; onMessage: (m: ServerMessage) => void; onClose: () => void } | undefined;
  listen(EVENT.mirrorMessage, ({ linkId, message }) => {
    if (current?.linkId === linkId) current.onMessage(message);
  });
  listen(EVENT.mirrorClosed, ({ linkId }) => {
    if (current?.linkId !== linkId) return;
    const closed = current;
    current = undefined;
    closed.onClose();
  });
  const warn = (what: string) => (err: unknown) => console.warn(`magicMirror: ${what} failed:`, err);

  async function connect(): Promise<MirrorLinkApi> {
    const { linkId } = await call(INVOKE.mirrorConnect);
    const link = { linkId, onMessage: (_m: ServerMessage) => {}, onClose: () => {} };
    current = link;
    return {
      send: (message) => {
        // Like a WebSocket after close: a message on a closed link goes nowhere.
        if (current === link) call(INVOKE.mirrorSend, { linkId, message }).catch(warn(`sending "${message.id}"`));
      },
      onMessage: (listener) => void (link.onMessage = listener),
      onClose: (listener) => void (link.onClose = listener),
      close: () => {
        if (current !== link) return;
        current = undefined;
        call(INVOKE.mirrorDisconnect, { linkId }).catch(warn('closing the link'));
      },
    };
  }

  return {
    mirror: { connect },
    settings: {
      get: () => call(INVOKE.settingsGet),
      set: (request) => call(INVOKE.settingsSet, request),
      testConnection: (request) => call(INVOKE.settingsTestConnection, request),
    },
    notices: {
      list: () => call(INVOKE.noticesList),
      dismiss: (id) => call(INVOKE.noticesDismiss, { id }),
      onAdded: (listener) => listen(EVENT.noticeAdded, listener),
    },
  };
}
