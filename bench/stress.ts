/**
 * `--stress`: a busy machine, made the same way every time, so the motion bench can say what a
 * person sees when the mirror shares its cores (issue 25: a build and a second browser beside the
 * kiosk, load average 5–9).
 *
 * Two kinds of load, combinable (`--stress hogs:4,sessions:2`):
 * - `hogs:N` — N CPU-bound processes (a Node busy loop each), at the same priority as the engine
 *   (nothing is niced), started before the runs and stopped after them. Plain `--stress` is
 *   `hogs:` twice the cores: every core has two runnable hogs besides the engine's threads, the
 *   harness and the browser (load average ≈ 6–8 on 2 cores).
 * - `sessions:K` — K more mirror sessions on the same engine (wrtc cameras sending the still face
 *   with a hat, bench/measure.ts openWrtcLoad), held open while each clip is measured.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';

export interface StressSpec {
  hogs: number;
  sessions: number;
}

export const NO_STRESS: StressSpec = { hogs: 0, sessions: 0 };

/** `--stress` with no value: two hogs per core. */
export function defaultStress(): StressSpec {
  return { hogs: 2 * os.cpus().length, sessions: 0 };
}

/** Parses `hogs:N,sessions:K` (either part optional; '' or 'on' = defaultStress()). */
export function parseStress(v: string): StressSpec {
  if (v === '' || v === 'on' || v === 'true') return defaultStress();
  const spec = { ...NO_STRESS };
  for (const part of v.split(',').filter(Boolean)) {
    const m = /^(hogs|sessions)(?::(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`--stress takes hogs[:N] and/or sessions:K, comma-separated, got "${v}"`);
    if (m[1] === 'hogs') spec.hogs = m[2] === undefined ? defaultStress().hogs : Number(m[2]);
    else spec.sessions = Number(m[2] ?? 1);
  }
  return spec;
}

export function stressLabel(s: StressSpec): string {
  const parts = [s.hogs ? `${s.hogs} CPU hogs` : '', s.sessions ? `${s.sessions} more sessions` : ''].filter(Boolean);
  return parts.length ? `stress: ${parts.join(' + ')}` : '';
}

/** Starts the hogs; stop() ends them (each by its own pid). */
export function startHogs(n: number): { stop(): Promise<void> } {
  const hogs: ChildProcess[] = Array.from({ length: n }, () =>
    spawn(process.execPath, ['-e', 'let x = 0; for (;;) x = (x * 1103515245 + 12345) | 0;'], { stdio: 'ignore' }));
  return {
    async stop() {
      await Promise.all(hogs.map((h) => new Promise<void>((resolve) => {
        if (h.exitCode !== null || h.signalCode !== null) return resolve();
        h.once('exit', () => resolve());
        h.kill('SIGKILL');
      })));
    },
  };
}
