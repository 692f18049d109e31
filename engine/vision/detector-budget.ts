/**
 * How much of the time the face detector may be busy: all of it while the machine has CPU to
 * spare, less and less while it has none or serves more sessions, down to `minDuty`.
 *
 * Why: detection competes with the video (decode, draw, encode) for the same cores. With one
 * session the machine is half idle and every detection makes the hat steadier and its tilt
 * fresher; with four sessions on 2 cores an unbudgeted detector took 0.3–0.5 core that the
 * video needed (2026-12-02: 0.30 → 0.25 engine core per session at 4 sessions with a 0.35 duty).
 * Between detections the tracker (box-tracker.ts) moves the hats with the faces.
 *
 * Two limits, the lower wins (dutyFor): at most 1/sessions of the time, and what the machine's
 * idle time allows. That signal is the whole machine (os.cpus(), every platform), so the
 * detector also yields to whatever else runs there (the app's own window, the browser); it
 * adapts in steps: −30 % of the duty per sample with < 15 % idle, +0.1 per sample with > 30 %
 * idle, so some headroom stays for the video's bursts (key frames, motion). Caveat: in a
 * container limited by a CPU quota os.cpus() shows the host's idle time, so only the
 * 1/sessions limit holds there.
 */
import os from 'node:os';

export const SAMPLE_MS = 500;
const SHORT_OF_CPU = 0.15;
const CPU_TO_SPARE = 0.3;

export interface BudgetOptions {
  /** The least share of the time the detector keeps however busy the machine is. */
  minDuty: number;
  /** The most (1 = no limit beyond the per-filter rate). */
  maxDuty: number;
}

export const DEFAULT_BUDGET: BudgetOptions = { minDuty: 0.1, maxDuty: 1 };

/** Machine-wide idle and total CPU time (ms, all cores) so far. */
function cpuTimes(): { idle: number; total: number } {
  let idle = 0;
  let total = 0;
  for (const { times } of os.cpus()) {
    idle += times.idle;
    total += times.user + times.nice + times.sys + times.irq + times.idle;
  }
  return { idle, total };
}

export class DetectorBudget {
  duty: number;
  private last = cpuTimes();

  constructor(private readonly opts: BudgetOptions = DEFAULT_BUDGET) {
    this.duty = opts.maxDuty;
  }

  /** Reads the machine's idle share since the last sample and moves the duty (call every SAMPLE_MS). */
  sample(): void {
    const now = cpuTimes();
    const total = now.total - this.last.total;
    if (total > 0) this.adjust((now.idle - this.last.idle) / total);
    this.last = now;
  }

  adjust(idleShare: number): void {
    const { minDuty, maxDuty } = this.opts;
    if (idleShare < SHORT_OF_CPU) this.duty = Math.max(minDuty, this.duty * 0.7);
    else if (idleShare > CPU_TO_SPARE) this.duty = Math.min(maxDuty, this.duty + 0.1);
  }

  /**
   * The duty with `sessions` filters sharing the detector: what the machine's load allows, and
   * at most 1/sessions — each added session lowers the detector's share instead of raising it,
   * since the video's cost grows with sessions and the tracker carries hats between detections
   * (bench 2026-12-03, 4 sessions: 1.4 detections/s per session, pan p95 10 px).
   */
  dutyFor(sessions: number): number {
    return Math.min(this.duty, Math.max(this.opts.minDuty, 1 / Math.max(1, sessions)));
  }

  /** After a detection that kept the detector busy `busyMs`, with `sessions` filters: how long it should rest. */
  restMs(busyMs: number, sessions = 1): number {
    const duty = this.dutyFor(sessions);
    return (busyMs * (1 - duty)) / duty;
  }
}
