/**
 * When to reload the mirror page after its renderer process crashed or hung: the pure rule
 * behind main/electron/kiosk.ts (render-process-gone, unresponsive/responsive).
 *
 * - Crashed (any reason but a clean exit): reload, at once the first time, then after 1 s,
 *   2 s, 4 s … (at most 60 s) while crashes keep coming within CRASH_WINDOW_MS of each other.
 *   Unlike main/page-recovery.ts (the desktop rule: never twice within 10 s, never after
 *   'killed'), a kiosk never gives up: a page that is not there is a black screen.
 *   'killed' (the OS's out-of-memory killer, or a person) is reloaded in a kiosk only.
 * - Hung (Electron's 'unresponsive'): given HANG_GRACE_MS to recover by itself ('responsive'
 *   cancels), then the renderer is crashed on purpose and reloaded — a reload alone waits for
 *   the hung page.
 */
import { backoffDelay, type BackoffOptions } from '../../common/recovery.js';

export const HANG_GRACE_MS = 10_000;
export const CRASH_WINDOW_MS = 5 * 60_000;
const CRASH_BACKOFF: BackoffOptions = { initialMs: 1000, factor: 2, maxMs: 60_000, jitter: 0 };

export type PageRecoveryDecision = { action: 'reload'; afterMs: number } | { action: 'none'; why: string };

/**
 * reason: RenderProcessGoneDetails.reason. recentCrashes: times of earlier crashes (any
 * order); only those within CRASH_WINDOW_MS of now count.
 */
export function afterRendererGone(reason: string, recentCrashes: readonly number[], now: number, opts: { kiosk: boolean }): PageRecoveryDecision {
  if (reason === 'clean-exit') return { action: 'none', why: 'the page exited cleanly' };
  if (reason === 'killed' && !opts.kiosk) return { action: 'none', why: 'the page was killed on purpose' };
  const recent = recentCrashes.filter((t) => now - t < CRASH_WINDOW_MS).length;
  return { action: 'reload', afterMs: recent === 0 ? 0 : backoffDelay(recent - 1, CRASH_BACKOFF) };
}

/** Keeps crash times and hang timers for one page; the Electron glue calls it and does what it says. */
export class PageWatchdog {
  #crashes: number[] = [];
  #hangTimer: unknown;

  constructor(
    private readonly o: {
      kiosk: () => boolean;
      /** Reload the page (after crashing its hung renderer, if `hung`). */
      reload: (hung: boolean) => void;
      now?: () => number;
      setTimeout?: (fn: () => void, ms: number) => unknown;
      clearTimeout?: (handle: unknown) => void;
      log?: (line: string) => void;
    },
  ) {}

  rendererGone(reason: string): PageRecoveryDecision {
    this.responsive();
    const now = (this.o.now ?? Date.now)();
    const decision = afterRendererGone(reason, this.#crashes, now, { kiosk: this.o.kiosk() });
    if (decision.action === 'reload') {
      this.#crashes = [...this.#crashes.filter((t) => now - t < CRASH_WINDOW_MS), now];
      this.o.log?.(`mirror page renderer gone (${reason}): reloading in ${decision.afterMs} ms`);
      this.#schedule(() => this.o.reload(false), decision.afterMs);
    }
    return decision;
  }

  unresponsive(): void {
    if (this.#hangTimer !== undefined) return;
    this.#hangTimer = (this.o.setTimeout ?? setTimeout)(() => {
      this.#hangTimer = undefined;
      this.o.log?.(`mirror page unresponsive for ${HANG_GRACE_MS / 1000} s: reloading it`);
      this.o.reload(true);
    }, HANG_GRACE_MS);
  }

  responsive(): void {
    if (this.#hangTimer !== undefined) (this.o.clearTimeout ?? ((h) => clearTimeout(h as NodeJS.Timeout)))(this.#hangTimer);
    this.#hangTimer = undefined;
  }

  #schedule(fn: () => void, ms: number): void {
    if (ms === 0) return fn();
    (this.o.setTimeout ?? setTimeout)(fn, ms);
  }
}
