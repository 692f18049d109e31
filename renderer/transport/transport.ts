/**
 * How the mirror page talks to the application server: the page → server and server → page
 * messages of common/mirror-protocol.ts, over a link that may go away. The web mode uses a
 * WebSocket (websocket.ts); in the Electron app the preload's window.magicMirror.mirror
 * links (MirrorLinkApi in common/ipc-contract.ts) have the same four methods.
 */
import type { ClientMessage, ServerMessage } from '../../common/mirror-protocol.js';

export interface MirrorTransport {
  send(message: ClientMessage): void;
  /** Sets the listener for server messages (one at a time: a new one replaces the old). */
  onMessage(listener: (message: ServerMessage) => void): void;
  /** Sets the listener called once when the link is gone, whichever side ended it. */
  onClose(listener: () => void): void;
  /** Ends the link; the onClose listener is not called for a close asked for here. */
  close(): void;
}

/** Opens a link; rejects if the server cannot be reached. */
export type ConnectTransport = () => Promise<MirrorTransport>;
