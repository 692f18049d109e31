/**
 * Auto-recovery policy for a mirror that nobody tends (kiosk mode): what to do after each kind
 * of failure, and when. Pure and shared: the page (renderer/kiosk-recovery.ts) drives its
 * MirrorApp with it, and the Node tests drive a wrtc page with the very same rules.
 *
 * What restarts what:
 *
 * | failure (problem code)                              | action                                        |
 * |-----------------------------------------------------|-----------------------------------------------|
 * | media server gone/restarted/slow (kms-lost, kms-unreachable, kms-timeout), engine crash (kms-lost / engine-failed) | a new mirror session after backoff; the server reconnects or restarts its engine on that start |
 * | the app's service gone (server-unreachable, server-timeout) | reconnect the link, then start, after backoff |
 * | ICE or media flow lost (ice-failed; no-media while running) | stop and start a new session after backoff |
 * | camera unplugged or unusable (camera-lost, no-camera, camera-failed, camera-busy, camera-denied) | wait for the camera: try again on `devicechange`, else at a slow poll |
 * | anything else that ended the mirror (internal, busy, bad-offer, unknown) | a new session after backoff |
 * | insecure-context                                    | nothing automatic can fix it: show it         |
 * | notices (hat-failed, no-face)                       | nothing: the mirror runs                      |
 *
 * Backoff: 1 s, 2 s, 4 s … up to 30 s, ±20 % jitter (several kiosks behind one media server do
 * not retry in step). The count resets once the mirror has been live for STABLE_MS, so a
 * mirror that dies right after coming back keeps backing off.
 *
 * (Renderer crash/hang → reload, and engine process restarts, are the main process's:
 * main/recovery/.)
 */

export interface BackoffOptions {
  initialMs: number;
  factor: number;
  maxMs: number;
  /** ± this fraction of the delay, at random. */
  jitter: number;
}

export const RECOVERY_BACKOFF: BackoffOptions = { initialMs: 1000, factor: 2, maxMs: 30_000, jitter: 0.2 };

/** How long the mirror must stay live before the retry count starts again from the first delay. */
export const STABLE_MS = 20_000;
/** Without a devicechange event, a missing camera is looked for again this often. */
export const CAMERA_POLL_MS = 5_000;
/** ICE "disconnected" for this long counts as lost media (Chromium takes up to 30 s to say "failed"). */
export const ICE_DISCONNECTED_MS = 8_000;

/** The delay before retry number `attempt` (0 = the first retry). random() in [0, 1). */
export function backoffDelay(attempt: number, opts: BackoffOptions = RECOVERY_BACKOFF, random: () => number = Math.random): number {
  const base = Math.min(opts.maxMs, opts.initialMs * opts.factor ** Math.max(0, attempt));
  const spread = base * opts.jitter * (2 * random() - 1);
  return Math.max(0, Math.round(base + spread));
}

const CAMERA_PROBLEMS = new Set(['camera-lost', 'no-camera', 'camera-failed', 'camera-busy', 'camera-denied']);
const HOPELESS = new Set(['insecure-context']);
const NOTICES = new Set(['hat-failed', 'no-face']);
/** Problems reported while the mirror still runs that mean it shows nothing useful any more. */
const MEDIA_LOST = new Set(['ice-failed', 'no-media']);
/** Reported while the server waits for its media server to come back (the session may survive it). */
const SERVER_RECONNECTING = 'kms-lost';

export type RecoveryAction =
  | { kind: 'restart'; afterMs: number; reason: string }
  | { kind: 'wait-for-camera'; pollMs: number; reason: string }
  | { kind: 'none' }
  | { kind: 'give-up'; reason: string };

/** What to do once the mirror has stopped because of `problem` (undefined: a server error without a code). */
export function actionAfterStop(problem: string | undefined, attempt: number, random?: () => number): RecoveryAction {
  const reason = problem ?? 'server-error';
  if (reason === 'stop') return { kind: 'none' }; // a person pressed Stop
  if (HOPELESS.has(reason)) return { kind: 'give-up', reason };
  if (CAMERA_PROBLEMS.has(reason)) return { kind: 'wait-for-camera', pollMs: CAMERA_POLL_MS, reason };
  return { kind: 'restart', afterMs: backoffDelay(attempt, RECOVERY_BACKOFF, random), reason };
}

/** What to do about a problem reported while the mirror runs. */
export function actionWhileRunning(problem: string, attempt: number, random?: () => number): RecoveryAction {
  if (NOTICES.has(problem) || !MEDIA_LOST.has(problem)) return { kind: 'none' };
  return { kind: 'restart', afterMs: backoffDelay(attempt, RECOVERY_BACKOFF, random), reason: problem };
}

/** What the person in front of the mirror is shown while it recovers. */
export type RecoveryState =
  | { kind: 'off' }
  | { kind: 'ok' }
  | { kind: 'reconnecting'; reason: string; attempt: number; retryAt: number }
  /** The server is reconnecting to its media server; the mirror may resume as it was. */
  | { kind: 'resuming'; reason: string }
  | { kind: 'waiting-for-camera'; reason: string }
  | { kind: 'gave-up'; reason: string };

export interface RecoveryClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  random?(): number;
}

export interface RecoveryHooks {
  /** Stop what runs (if anything) and start a new mirror session, reconnecting the link if needed. */
  restart(): void;
  /** The state to show changed. */
  stateChanged?(state: RecoveryState): void;
}

/**
 * Turns what the mirror reports into restarts, per the table above. Feed it: stopped(problem)
 * whenever the mirror ends by itself, problem()/problemCleared() while it runs, live() on the
 * first frame, iceState() and devicechange(). It calls hooks.restart() when it is time.
 */
export class RecoveryController {
  #attempt = 0;
  #timer: unknown;
  #stableTimer: unknown;
  #state: RecoveryState = { kind: 'ok' };
  #iceTimer: unknown;
  #enabled = true;

  constructor(
    private readonly hooks: RecoveryHooks,
    private readonly clock: RecoveryClock,
  ) {}

  get state(): RecoveryState {
    return this.#state;
  }

  /** Retries scheduled since the mirror was last stable. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The mirror ended by itself (or could not start) because of `problem`. */
  stopped(problem: string | undefined): void {
    if (!this.#enabled) return;
    this.#clearIce();
    this.#cancelStable();
    this.#act(actionAfterStop(problem, this.#attempt, this.clock.random));
  }

  /** A problem reported while the mirror runs. */
  problem(problem: string): void {
    if (!this.#enabled || this.#timer !== undefined) return;
    if (problem === SERVER_RECONNECTING) return this.#set({ kind: 'resuming', reason: problem });
    const action = actionWhileRunning(problem, this.#attempt, this.clock.random);
    if (action.kind !== 'none') this.#act(action);
  }

  /** A problem reported while the mirror runs went away. */
  problemCleared(problem: string): void {
    if (this.#enabled && this.#state.kind === 'resuming' && this.#state.reason === problem) this.#set({ kind: 'ok' });
  }

  /** The local ICE connection state: "disconnected" for ICE_DISCONNECTED_MS counts as media lost. */
  iceState(state: string): void {
    if (state === 'disconnected') {
      if (this.#iceTimer === undefined) this.#iceTimer = this.clock.setTimeout(() => ((this.#iceTimer = undefined), this.problem('ice-failed')), ICE_DISCONNECTED_MS);
    } else {
      this.#clearIce();
      if (state === 'failed') this.problem('ice-failed');
    }
  }

  /** The mirror shows pictures again. */
  live(): void {
    if (!this.#enabled) return;
    this.#clear();
    this.#set({ kind: 'ok' });
    this.#cancelStable();
    this.#stableTimer = this.clock.setTimeout(() => {
      this.#stableTimer = undefined;
      this.#attempt = 0;
    }, STABLE_MS);
  }

  /** navigator.mediaDevices 'devicechange': a camera may be back. */
  devicechange(): void {
    if (this.#enabled && this.#state.kind === 'waiting-for-camera') this.#restartNow();
  }

  /** Stops everything (kiosk mode left, page closing). */
  dispose(): void {
    this.#enabled = false;
    this.#clear();
    this.#clearIce();
    this.#cancelStable();
    this.#set({ kind: 'off' });
  }

  #act(action: RecoveryAction): void {
    this.#clear();
    switch (action.kind) {
      case 'none':
        return;
      case 'give-up':
        return this.#set({ kind: 'gave-up', reason: action.reason });
      case 'wait-for-camera':
        this.#set({ kind: 'waiting-for-camera', reason: action.reason });
        this.#timer = this.clock.setTimeout(() => this.#restartNow(), action.pollMs);
        return;
      case 'restart': {
        const attempt = ++this.#attempt;
        this.#set({ kind: 'reconnecting', reason: action.reason, attempt, retryAt: this.clock.now() + action.afterMs });
        this.#timer = this.clock.setTimeout(() => this.#restartNow(), action.afterMs);
        return;
      }
    }
  }

  #restartNow(): void {
    this.#clear();
    this.hooks.restart();
  }

  #clear(): void {
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #clearIce(): void {
    if (this.#iceTimer !== undefined) this.clock.clearTimeout(this.#iceTimer);
    this.#iceTimer = undefined;
  }

  #cancelStable(): void {
    if (this.#stableTimer !== undefined) this.clock.clearTimeout(this.#stableTimer);
    this.#stableTimer = undefined;
  }

  #set(state: RecoveryState): void {
    this.#state = state;
    this.hooks.stateChanged?.(state);
  }
}
