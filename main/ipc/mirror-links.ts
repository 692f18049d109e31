/**
 * The mirror links of the Electron pages: at most one per page (webContents), each one a
 * session-core connection — what a WebSocket connection is in web mode. A link ends when the
 * page closes it, when the session core ends it, or when the page goes away (reload,
 * navigation, renderer crash, window closed): then the session core's close() releases its
 * media objects, exactly as for a dropped WebSocket.
 */
import type { ClientMessage, ServerMessage } from '../../common/mirror-protocol.js';
import type { EventChannel, EventPayload, LinkRef } from '../../common/ipc-contract.js';

/** The session core's side of a link (supplied by main/mirror through OpenMirrorLink). */
export interface MirrorLink {
  /** A page → server message, already validated. */
  receive(message: ClientMessage): void;
  /** The page is gone or closed the link: stop and release everything. Called once. */
  close(): void;
}

/** The page's side, handed to the session core. */
export interface MirrorLinkPeer {
  send(message: ServerMessage): void;
  /** The session core ends the link (the page is told, and close() is not called back). */
  close(): void;
}

export type OpenMirrorLink = (peer: MirrorLinkPeer) => MirrorLink;

export type SendToPage = <C extends EventChannel>(ownerId: number, channel: C, payload: EventPayload<C>) => void;

/** A main-frame navigation to a new document (including reload) ends the page's link. */
export function navigationEndsLink(details: { isMainFrame: boolean; isSameDocument: boolean }): boolean {
  return details.isMainFrame && !details.isSameDocument;
}

interface Entry {
  linkId: number;
  link: MirrorLink;
}

export class MirrorLinks {
  private readonly byOwner = new Map<number, Entry>();
  private lastLinkId = 0;

  constructor(
    private readonly open: OpenMirrorLink,
    private readonly sendToPage: SendToPage,
    private readonly log: (message: string) => void = console.warn,
  ) {}

  get size(): number {
    return this.byOwner.size;
  }

  /** A new link for the page `ownerId` (webContents id); its previous link, if any, is closed. */
  connect(ownerId: number): LinkRef {
    this.release(ownerId);
    const linkId = ++this.lastLinkId;
    const isCurrent = () => this.byOwner.get(ownerId)?.linkId === linkId;
    const link = this.open({
      send: (message) => {
        if (isCurrent()) this.sendToPage(ownerId, 'mirror:message', { linkId, message });
      },
      close: () => {
        if (!isCurrent()) return;
        this.byOwner.delete(ownerId);
        this.sendToPage(ownerId, 'mirror:closed', { linkId });
      },
    });
    this.byOwner.set(ownerId, { linkId, link });
    return { linkId };
  }

  send(ownerId: number, ref: LinkRef, message: ClientMessage): void {
    this.current(ownerId, ref).link.receive(message);
  }

  disconnect(ownerId: number, ref: LinkRef): void {
    this.current(ownerId, ref);
    this.release(ownerId);
  }

  /** Ends the page's link, if it has one (the page is not told: it is gone or going). */
  release(ownerId: number): void {
    const entry = this.byOwner.get(ownerId);
    if (!entry) return;
    this.byOwner.delete(ownerId);
    try {
      entry.link.close();
    } catch (err) {
      this.log(`mirror link ${entry.linkId}: close failed: ${(err as Error).message}`);
    }
  }

  releaseAll(): void {
    [...this.byOwner.keys()].forEach((id) => this.release(id));
  }

  private current(ownerId: number, ref: LinkRef): Entry {
    const entry = this.byOwner.get(ownerId);
    if (entry?.linkId !== ref.linkId) throw new Error(`mirror link ${ref.linkId} is not open`);
    return entry;
  }
}
