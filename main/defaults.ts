/**
 * Every default value and timing of the app side, in one place. Modules take overrides in
 * their options (tests shorten the timeouts); nothing else hard-codes these numbers.
 */

/** Where the hat sits relative to each face, as fractions of the face box (the Kurento tutorial's values). */
export interface HatPlacement {
  offsetXPercent: number;
  offsetYPercent: number;
  widthPercent: number;
  heightPercent: number;
}

export const HAT_PLACEMENT: HatPlacement = {
  offsetXPercent: -0.35,
  offsetYPercent: -1.2,
  widthPercent: 1.6,
  heightPercent: 1.6,
};

/** The media server URI that means "the embedded engine" (started on demand on loopback). */
export const BUILTIN_KMS = 'builtin';

export interface KmsTimeouts {
  /** Opening the WebSocket and checking the server is a Kurento server with FaceOverlayFilter. */
  connectMs: number;
  /** Any single request (create, connect, processOffer, …). */
  callMs: number;
  /** WebSocket-level ping period on the KMS connection. */
  pingIntervalMs: number;
  /** No pong for this long: the socket is dead even if TCP has not noticed; it is dropped. */
  pingTimeoutMs: number;
  /** How long sessions wait for a dropped connection to come back with their objects intact. */
  resumeMs: number;
}

export const KMS_TIMEOUTS: KmsTimeouts = {
  connectMs: 5000,
  callMs: 10_000,
  pingIntervalMs: 5000,
  pingTimeoutMs: 12_000,
  resumeMs: 15_000,
};

/**
 * kurento-client reconnects with a Fibonacci backoff (100 ms up to 10 s between attempts);
 * after this many failed attempts (~15 s) it gives up and the connection is dropped from the
 * registry, so the next session starts afresh with a clear "cannot reach" message.
 */
export const KMS_RECONNECT_ATTEMPTS = 10;

/**
 * kurento-jsonrpc remembers each answer this long to filter duplicates, on a timer close()
 * does not clear (it kept processes alive 20 s after their last request).
 */
export const KMS_DUPLICATES_TIMEOUT_MS = 500;

export interface SessionTimings {
  /** No camera video at the media server this long after the answer (or after it stopped): 'no-media'. */
  noMediaMs: number;
  /** Candidates kept for an endpoint that does not exist yet; more are dropped (a page sends ~10). */
  maxQueuedCandidates: number;
}

export const SESSION_TIMINGS: SessionTimings = {
  noMediaMs: 10_000,
  maxQueuedCandidates: 100,
};

export const WEB_DEFAULTS = {
  /** The tutorial's default is https://localhost:8443/; plain HTTP is a secure context on loopback. */
  asUri: 'http://localhost:8443/',
  wsUri: BUILTIN_KMS,
  /** Largest page → server WebSocket message (an SDP offer is 3–20 kB). */
  maxMessageBytes: 256 * 1024,
  /** Ping period for page sockets; a socket that missed one pong is dropped (and its session released). */
  pingIntervalMs: 15_000,
} as const;

/**
 * Web mode's fairness (issue 23, main/mirror/admission.ts): how many mirrors one media server
 * takes at once, starting or running — on 2 cores 4 run at 30 fps and 8 at about 20 (the
 * browsers elsewhere); beyond that every mirror is too slow to use, so the next visitor is told
 * "busy, try again in a moment" instead (`--max_mirrors` changes it). A start whose camera video
 * has not reached the media server `startMediaMs` after `start` (or whose video stopped that
 * long ago) ends and frees its place; while all places are taken, a newcomer pushes out the
 * oldest start that has no video yet (a real visitor's arrives in under a second).
 */
export const MIRROR_ADMISSION = {
  mirrorsPerServer: 8,
  startMediaMs: 20_000,
  /** Starts one address may make: a burst, then so many a second (more are told "busy" before they cost the media server anything). */
  startBurstPerAddress: 16,
  startsPerSecondPerAddress: 4,
} as const;

/** URL path under which the hat server serves hats (`/hats/<name>.png`). */
export const HATS_PATH = '/hats/';

/**
 * A pool of media servers (web mode's --ws_uri list, main/kms/server-pool.ts): at most `cap`
 * pipelines per server (the engine's 30 fps limit on 2 cores is 4), each checked every
 * `checkMs` (getUsedCpu over `cpuIntervalMs`, then getPipelines); a check slower than
 * `checkTimeoutMs` marks its server down.
 */
export const POOL_DEFAULTS = { cap: 4, checkMs: 1000, checkTimeoutMs: 1500, cpuIntervalMs: 200 } as const;
