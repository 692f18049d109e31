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

/**
 * Bounds of a page's ICE candidate, the IPC schema's (main/ipc/payloads.ts CLIENT_MESSAGE): a
 * browser's candidate line is 100–250 characters, its sdpMid a short token ("0", "video").
 */
export const ICE_CANDIDATE_LIMITS = { candidateChars: 2048, sdpMidChars: 256, maxMLineIndex: 1024 } as const;

/**
 * What is wrong with a page's ICE candidate (undefined: nothing). Checked like the IPC schema:
 * `candidate` text of bounded length ('' is the end-of-candidates marker), `sdpMid` text or
 * null, `sdpMLineIndex` a whole number or null; absent is null. Other keys (a browser's
 * RTCIceCandidate.toJSON() adds usernameFragment) are ignored and not passed on.
 */
export function iceCandidateProblem(c: unknown): string | undefined {
  if (!c || typeof c !== 'object' || Array.isArray(c)) return 'candidate: must be an object';
  const { candidate, sdpMid, sdpMLineIndex } = c as Record<string, unknown>;
  const L = ICE_CANDIDATE_LIMITS;
  if (typeof candidate !== 'string') return 'candidate.candidate: must be text';
  if (candidate.length > L.candidateChars) return `candidate.candidate: must be at most ${L.candidateChars} characters`;
  if (sdpMid !== undefined && sdpMid !== null) {
    if (typeof sdpMid !== 'string') return 'candidate.sdpMid: must be text or null';
    if (sdpMid.length > L.sdpMidChars) return `candidate.sdpMid: must be at most ${L.sdpMidChars} characters`;
  }
  if (sdpMLineIndex !== undefined && sdpMLineIndex !== null) {
    if (typeof sdpMLineIndex !== 'number' || !Number.isInteger(sdpMLineIndex) || sdpMLineIndex < 0 || sdpMLineIndex > L.maxMLineIndex) {
      return `candidate.sdpMLineIndex: must be a whole number between 0 and ${L.maxMLineIndex}, or null`;
    }
  }
  return undefined;
}

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
      if (iceCandidateProblem(msg.candidate) !== undefined) return undefined;
      const c = msg.candidate as IceCandidateJson;
      return { id: 'onIceCandidate', candidate: { candidate: c.candidate, sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null } };
    }
    case 'stop':
      return { id: 'stop' };
    default:
      return undefined;
  }
}
