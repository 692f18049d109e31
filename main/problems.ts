/**
 * What a person reads when the mirror does not work: every sentence, in one table, keyed by
 * the MirrorProblem the page also receives (common/mirror-protocol.ts). Code elsewhere throws
 * MirrorError with one of these texts and never writes its own.
 */
import type { MirrorProblem } from '../common/mirror-protocol.js';

/** An error whose message is fit to show as it is, with the problem code the page gets. */
export class MirrorError extends Error {
  constructor(
    readonly problem: MirrorProblem,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MirrorError';
  }
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

export const PROBLEM_TEXT = {
  // kms-unreachable
  refused: (uri: string) => `Cannot reach the media server at ${uri}: connection refused. Is Kurento Media Server running there?`,
  hostNotFound: (uri: string, host: string) => `Cannot reach the media server at ${uri}: the host name "${host}" was not found.`,
  tlsFailed: (uri: string, detail: string) => `Cannot reach the media server at ${uri}: the secure connection failed (${detail}).`,
  notKurento: (uri: string, detail: string) => `The server at ${uri} is not a Kurento media server (${detail}).`,
  noFaceOverlay: (uri: string, version: string) =>
    `The media server at ${uri}${version ? ` (Kurento ${version})` : ''} has no FaceOverlayFilter (its "filters" module is not installed).`,
  networkError: (uri: string, detail: string) => `Cannot reach the media server at ${uri}: ${detail}.`,
  // kms-timeout
  connectTimeout: (uri: string, ms: number) => `The media server at ${uri} did not answer within ${seconds(ms)}.`,
  callTimeout: (uri: string, what: string, ms: number) => `The media server at ${uri} did not answer "${what}" within ${seconds(ms)}.`,
  // kms-lost
  interrupted: (uri: string) => `Lost the connection to the media server at ${uri}; reconnecting…`,
  reconnecting: (uri: string) => `The connection to the media server at ${uri} is down; trying to reconnect.`,
  lost: (uri: string) => `Lost the connection to the media server at ${uri}. Start the mirror again.`,
  restarted: (uri: string) => `The media server at ${uri} restarted, so this mirror is gone. Start it again.`,
  poolAnswers: (ok: number, of: number) => `${ok} of ${of} media servers answer.`,
  noMediaServer: (why: string[]) => `No media server can take this mirror now: ${why.join('; ')}.`,
  engineExited: (how: string) => `The built-in media server stopped unexpectedly (${how}). Start the mirror again.`,
  // engine-failed
  engineFailed: (reason: string) => `The built-in media server could not start: ${reason}`,
  // bad-offer
  badOffer: (detail: string) => `The media server rejected this browser's video offer: ${detail}.`,
  // ice-failed
  iceFailed: () =>
    'The video connection to the media server failed: no network path between this browser and the media server (a firewall may block UDP).',
  // no-media
  noMedia: (ms: number) => `No video from your camera is reaching the media server (nothing for ${seconds(ms)}).`,
  // hat-failed
  hatFailed: (hatUri: string, detail: string) => `The media server could not load the hat image ${hatUri}: ${detail}`,
  noBuiltinHats: (dir: string) => `There are no built-in hats (no .png files in ${dir}).`,
  unknownHat: (name: string, available: string[]) => `There is no built-in hat "${name}" (there are: ${available.join(', ') || 'none'}).`,
  badHatUri: (hat: string) => `"${hat}" is not a hat: give a built-in hat's name, an http(s):// URL or a local .png file.`,
  hatsUnreachable: (kmsUri: string, host: string) =>
    `The media server at ${kmsUri} cannot fetch hats from this computer: the hat server listens on ${host} only. ` +
    'Let it listen on a network address (e.g. 0.0.0.0) or give its public URL.',
  // busy
  busy: () => 'A mirror is already running on this connection: stop it before starting another.',
  // internal
  callFailed: (what: string, detail: string) => `The media server failed at "${what}": ${detail}`,
  elementError: (element: string, detail: string) => `The media server reported a problem in the ${element}: ${detail}`,
  unexpected: (detail: string) => `Something went wrong in the mirror: ${detail}`,
  // a page message that is not one of the protocol's (an `error` message without a problem code)
  invalidMessage: (text: string) => `Invalid message: ${text.length > 100 ? `${text.slice(0, 100)}…` : text}`,
} as const;

/** Any thrown value as a MirrorError (unknown ones become 'internal'). */
export function asMirrorError(err: unknown): MirrorError {
  if (err instanceof MirrorError) return err;
  return new MirrorError('internal', PROBLEM_TEXT.unexpected(err instanceof Error ? err.message : String(err)), { cause: err });
}
