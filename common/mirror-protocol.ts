/**
 * The messages between the mirror page (renderer) and the application server (main), the
 * single home of their shapes. The first six are exactly the Kurento magic-mirror tutorial's
 * WebSocket protocol, so the tutorial's own page works against our web mode; `status` and
 * `hello` are our additions, sent only to clients that ask for them (`start.statusEvents`).
 */

export interface IceCandidateJson {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
}

// ── page → server ────────────────────────────────────────────────────────────
export interface StartMessage {
  id: 'start';
  sdpOffer: string;
  /** Ours: the page wants `status` messages (the tutorial page does not send this). */
  statusEvents?: boolean;
}
export interface ClientIceCandidateMessage {
  id: 'onIceCandidate';
  candidate: IceCandidateJson;
}
export interface StopMessage {
  id: 'stop';
}
export type ClientMessage = StartMessage | ClientIceCandidateMessage | StopMessage;

// ── server → page ────────────────────────────────────────────────────────────
export interface StartResponseMessage {
  id: 'startResponse';
  sdpAnswer: string;
}
export interface ServerIceCandidateMessage {
  id: 'iceCandidate';
  candidate: IceCandidateJson;
}
export interface ErrorMessage {
  id: 'error';
  /** A sentence a person can act on. */
  message: string;
  /** Ours: which problem, so the page can pick its help text. */
  code?: MirrorProblem;
  /**
   * Ours: another media server can take the mirror now (a pool, issue 13) — the page starts
   * again at once (a new offer) and shows "Reconnecting…" meanwhile rather than the error.
   */
  retry?: boolean;
}
export interface StatusMessage {
  id: 'status';
  status: MirrorStatus;
}
export type ServerMessage = StartResponseMessage | ServerIceCandidateMessage | ErrorMessage | StatusMessage;

/** Things that leave a person looking at a black or hat-less mirror, each with its own message. */
export type MirrorProblem =
  | 'kms-unreachable'
  | 'kms-timeout'
  | 'kms-lost'
  | 'engine-failed'
  | 'bad-offer'
  | 'ice-failed'
  | 'no-media'
  | 'hat-failed'
  | 'no-face'
  | 'busy'
  | 'internal';

/** What the session knows about itself, pushed as it changes. */
export type MirrorStatus =
  | { kind: 'ice'; state: string }
  /** Start waits for the media server: the built-in engine still starting, or a connection being opened. */
  | { kind: 'waiting'; for: 'engine' | 'media-server' }
  /** Camera video is (not) reaching the media server. */
  | { kind: 'media-in'; flowing: boolean }
  /** Hatted video is (not) leaving the media server for the page. */
  | { kind: 'media-out'; flowing: boolean }
  | { kind: 'problem'; problem: MirrorProblem; message: string }
  | { kind: 'problem-cleared'; problem: MirrorProblem }
  /** With a pool of media servers (issue 13): which one took this mirror, and every server's state then. */
  | { kind: 'media-servers'; current: string; servers: MediaServerSummary[] }
  /** The mirror ended: reason 'stop' (the page asked) or the MirrorProblem that ended it. */
  | { kind: 'stopped'; reason: string };

/** One media server of a pool, as the page's stats overlay shows it. */
export interface MediaServerSummary {
  uri: string;
  state: 'checking' | 'up' | 'down';
  /** Its pipelines (every client's) at the last check, plus mirrors placed since. */
  mirrors: number;
  /** Why it is down. */
  reason?: string;
}

export const MIRROR_WS_PATH = '/magicmirror';

/** Parses and checks a page → server message; undefined if it is not one. */
export function parseClientMessage(text: string): ClientMessage | undefined {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!m || typeof m !== 'object') return undefined;
  const msg = m as Record<string, unknown>;
  switch (msg.id) {
    case 'start':
      return typeof msg.sdpOffer === 'string' ? { id: 'start', sdpOffer: msg.sdpOffer, statusEvents: msg.statusEvents === true } : undefined;
    case 'onIceCandidate': {
      const c = msg.candidate as Record<string, unknown> | undefined;
      return c && typeof c.candidate === 'string'
        ? { id: 'onIceCandidate', candidate: { candidate: c.candidate, sdpMid: (c.sdpMid as string) ?? null, sdpMLineIndex: (c.sdpMLineIndex as number) ?? null } }
        : undefined;
    }
    case 'stop':
      return { id: 'stop' };
    default:
      return undefined;
  }
}
