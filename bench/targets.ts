/** The issue's performance targets, evaluated from a bench result (soak targets: bench/soak.ts). */
import type { BrowserResult } from './browser.js';
import type { Camera, RunResult, StartsResult } from './measure.js';
import type { MotionResult, MotionRun } from './motion.js';
import type { FailoverResult } from './failover.js';
import { fmt } from './table.js';

export interface TargetResult {
  target: string;
  value: string;
  /** null: not measured in this run (or not applicable). */
  met: boolean | null;
}

export const TARGETS = {
  fpsRatio: 0.97,
  addedLatencyFrames: 1,
  startToHatMs: 400,
  sessionsAt25: 4,
  minFps: 25,
  /** The browser (issue 11): Start → first mirror frame in Chromium. */
  browserStartP50Ms: 400,
  browserStartP95Ms: 600,
  browserColdMs: 1000,
  browserSessions: 4,
  /** Load (issue 14), every run of the load point (--repeat) counts. */
  coresPerSessionAt4: 0.25,
  sessionsUnderLoad: 8,
  minFpsUnderLoad: 15,
  latencyP50MsUnderLoad: 250,
  /** "Hats on": share of returned frames showing the hat, worst session. */
  minHatShare: 0.99,
  /** The hat follows the face (issue 12), bench --motion. */
  motionPanP95Px: 12,
  motionPanP95PxAt4: 20,
  motionLagFrames: 1,
  motionRollP95Deg: 5,
  motionStillJitterP95Px: 2,
  /** A pool's failover (issue 13), bench --failover. */
  failoverMaxMs: 3000,
};

export function evaluateTargets(cam: Camera, runs: RunResult[], starts: StartsResult | null, browser: BrowserResult | null = null, motion: MotionResult | null = null, failover: FailoverResult | null = null): TargetResult[] {
  if (failover) return failoverTargets(failover);
  const out: TargetResult[] = [];
  if (motion) return motionTargets(cam, motion);
  const mirror = (n: number) => runs.find((r) => r.pipeline === 'mirror' && r.sessions === n && !r.error);
  const loop = (n: number) => runs.find((r) => r.pipeline === 'loopback' && r.sessions === n && !r.error);
  const reference = cam.width === 640 && cam.height === 480 && cam.fps === 30;

  if (runs.length === 0 && !starts) return browser ? browserTargets(cam, browser) : out;
  const one = mirror(1);
  out.push({
    target: `mirror fps ≥ ${TARGETS.fpsRatio}× camera fps, 640×480/30, 1 session`,
    value: one ? `${fmt(one.fps.min)} fps = ${fmt(one.fps.min! / cam.fps, 3)}× (${one.resolution ?? '?'})` : 'not measured',
    met: one && reference ? one.fps.min! >= TARGETS.fpsRatio * cam.fps && one.resolution === '640x480' : null,
  });

  const l1 = loop(1);
  const added = one && l1 && one.latencyMs.p50 !== null && l1.latencyMs.p50 !== null ? one.latencyMs.p50 - l1.latencyMs.p50 : null;
  out.push({
    target: `added latency p50 ≤ ${TARGETS.addedLatencyFrames} frame over plain loopback (1 session)`,
    value: added === null ? 'not measured' : `${fmt(added)} ms = ${fmt(added / (1000 / cam.fps), 2)} frames (${fmt(one!.latencyMs.p50)} vs ${fmt(l1!.latencyMs.p50)} ms)`,
    met: added === null ? null : added <= TARGETS.addedLatencyFrames * (1000 / cam.fps),
  });

  out.push({
    target: `Start → first hat frame p50 ≤ ${TARGETS.startToHatMs / 1000} s`,
    value: starts && starts.hatMs.n > 0 ? `${fmt(starts.hatMs.p50 / 1000, 2)} s (p95 ${fmt(starts.hatMs.p95 / 1000, 2)} s, ${starts.hatMs.n} starts)` : 'not measured',
    met: starts && starts.hatMs.n > 0 ? starts.hatMs.p50 <= TARGETS.startToHatMs : null,
  });

  const ok = runs.filter((r) => r.pipeline === 'mirror' && !r.error && (r.fps.min ?? 0) >= TARGETS.minFps).map((r) => r.sessions);
  const measuredMax = Math.max(0, ...runs.filter((r) => r.pipeline === 'mirror').map((r) => r.sessions));
  const best = Math.max(0, ...ok);
  out.push({
    target: `≥ ${TARGETS.sessionsAt25} sessions at ≥ ${TARGETS.minFps} fps each`,
    value: `${best} session(s) (largest count measured with every session ≥ ${TARGETS.minFps} fps)`,
    met: best >= TARGETS.sessionsAt25 ? true : measuredMax >= TARGETS.sessionsAt25 ? false : null,
  });
  out.push(...loadTargets(runs));
  if (browser) out.push(...browserTargets(cam, browser));
  return out;
}

/** Issue 14's targets, judged on every repeated run of the load point (the worst figure of each). */
function loadTargets(runs: RunResult[]): TargetResult[] {
  const tries = (n: number) => {
    const run = runs.find((r) => r.pipeline === 'mirror' && r.sessions === n);
    if (!run) return null;
    const all = run.repeats ?? [{ fpsMin: run.fps.min, latencyP50Ms: run.latencyMs.p50, engineCores: run.engine.cpuCores, hatShareMin: run.hatShareMin, error: run.error ?? null }];
    const nums = (pick: (t: (typeof all)[number]) => number | null) => all.map(pick).map((v) => v ?? NaN);
    return {
      runs: all.length,
      failed: all.filter((t) => t.error).length,
      fpsMin: Math.min(...nums((t) => t.fpsMin)),
      latencyMax: Math.max(...nums((t) => t.latencyP50Ms)),
      coresMax: Math.max(...nums((t) => t.engineCores)) / n,
      hatsMin: Math.min(...nums((t) => t.hatShareMin)),
    };
  };
  const out: TargetResult[] = [];
  const four = tries(4);
  out.push({
    target: `4 sessions: engine ≤ ${TARGETS.coresPerSessionAt4} core per session (every run)`,
    value: four ? `${fmt(four.coresMax, 2)} core/session, most of ${four.runs} run(s)` : 'not measured',
    met: four ? four.failed === 0 && four.coresMax <= TARGETS.coresPerSessionAt4 : null,
  });
  const n = TARGETS.sessionsUnderLoad;
  const many = tries(n);
  out.push({
    target: `${n} sessions: ≥ ${TARGETS.minFpsUnderLoad} fps each, latency p50 ≤ ${TARGETS.latencyP50MsUnderLoad} ms, hats on ≥ ${TARGETS.minHatShare * 100} % of frames (every run)`,
    value: many
      ? `${fmt(many.fpsMin)} fps min, p50 ≤ ${fmt(many.latencyMax, 0)} ms, hats on ≥ ${fmt(many.hatsMin * 100, 1)} % (${many.runs} run(s)${many.failed ? `, ${many.failed} failed` : ''})`
      : 'not measured',
    met: many
      ? many.failed === 0 && many.fpsMin >= TARGETS.minFpsUnderLoad && many.latencyMax <= TARGETS.latencyP50MsUnderLoad && many.hatsMin >= TARGETS.minHatShare
      : null,
  });
  return out;
}

function browserTargets(cam: Camera, b: BrowserResult): TargetResult[] {
  const out: TargetResult[] = [];
  const s = b.startMs;
  const measured = s.n > 0 && s.p50 !== null && s.p95 !== null;
  out.push({
    target: `Chromium: Start → first mirror frame p50 ≤ ${TARGETS.browserStartP50Ms / 1000} s, p95 ≤ ${TARGETS.browserStartP95Ms / 1000} s (warm, 1 session)`,
    value: measured ? `p50 ${fmt(s.p50! / 1000, 2)} s, p95 ${fmt(s.p95! / 1000, 2)} s (${s.n} starts${b.failures.length ? `, ${b.failures.length} failed` : ''})` : 'not measured',
    met: measured ? s.p50! <= TARGETS.browserStartP50Ms && s.p95! <= TARGETS.browserStartP95Ms && b.failures.length === 0 : null,
  });
  out.push({
    target: `Chromium: first Start after launch ≤ ${TARGETS.browserColdMs / 1000} s`,
    value: s.cold === null ? 'not measured' : `${fmt(s.cold / 1000, 2)} s (engine warm ${fmt((b.cold?.engineWarmMs ?? NaN) / 1000, 2)} s after launch)`,
    met: s.cold === null ? null : s.cold <= TARGETS.browserColdMs,
  });
  const n = TARGETS.browserSessions;
  const m = b.runs.find((r) => r.pipeline === 'mirror' && r.sessions === n && !r.error);
  const added = b.latencyVsLoopback.find((c) => c.sessions === n);
  out.push({
    target: `Chromium: ${n} sessions ≥ ${TARGETS.minFps} fps each, send→paint p50 ≤ ${TARGETS.addedLatencyFrames} frame above plain loopback`,
    value: m ? `${fmt(m.fps.min)} fps min; ${added ? `+${fmt(added.addedP50Ms)} ms = ${fmt(added.addedP50Frames, 2)} frames` : 'no loopback run'}` : 'not measured',
    met: m && added?.addedP50Frames != null ? m.fps.min! >= TARGETS.minFps && added.addedP50Frames <= TARGETS.addedLatencyFrames : null,
  });
  const u = TARGETS.sessionsUnderLoad;
  const loaded = b.runs.find((r) => r.pipeline === 'mirror' && r.backgroundSessions > 0 && r.sessions + r.backgroundSessions >= u);
  out.push({
    target: `Chromium page among ${u} sessions (--under-load): ≥ ${TARGETS.minFpsUnderLoad} fps, send→paint p50 ≤ ${TARGETS.latencyP50MsUnderLoad} ms`,
    value: loaded
      ? loaded.error ? `ERROR: ${loaded.error}` : `${fmt(loaded.fps.min)} fps min, p50 ${fmt(loaded.latencyMs.p50, 0)} ms (${loaded.sessions} page(s) + ${loaded.backgroundSessions} wrtc)`
      : 'not measured',
    met: loaded ? !loaded.error && loaded.fps.min! >= TARGETS.minFpsUnderLoad && loaded.latencyMs.p50! <= TARGETS.latencyP50MsUnderLoad : null,
  });
  return out;
}

function motionTargets(cam: Camera, m: MotionResult): TargetResult[] {
  const run = (clip: string, n: number, client: MotionRun['client'] = 'wrtc') => m.runs.find((r) => r.client === client && r.clip === clip && r.sessions === n && !r.error);
  const reference = cam.width === 640 && cam.height === 480;
  const check = (target: string, value: number | null | undefined, max: number, unit: string, extra = '') => ({
    target,
    value: value == null ? 'not measured' : `${fmt(value)} ${unit}${extra}`,
    met: value == null || !reference ? null : value <= max,
  });
  const pan1 = run('pan', 1);
  const pan4 = run('pan', 4);
  const still = run('still', 1);
  const out: TargetResult[] = [
    check(`pan clip, 1 session: hat error p95 ≤ ${TARGETS.motionPanP95Px} px at 640×480`, pan1?.hatErrorPx.p95, TARGETS.motionPanP95Px, 'px', pan1 ? ` (p50 ${fmt(pan1.hatErrorPx.p50)})` : ''),
    check(`pan clip, 1 session: lag p50 ≤ ${TARGETS.motionLagFrames} frame`, pan1?.lagFrames.p50, TARGETS.motionLagFrames, 'frames'),
    check(`pan clip, 4 sessions: hat error p95 ≤ ${TARGETS.motionPanP95PxAt4} px`, pan4?.hatErrorPx.p95, TARGETS.motionPanP95PxAt4, 'px', pan4 ? ` (${fmt(pan4.fps)} fps)` : ''),
    check(`roll clip: roll error p95 ≤ ${TARGETS.motionRollP95Deg}°`, run('roll', 1)?.rollErrorDeg.p95, TARGETS.motionRollP95Deg, '°'),
    check(`still face: hat moves ≤ ${TARGETS.motionStillJitterP95Px} px p95 between frames`, still?.jitterPx?.p95, TARGETS.motionStillJitterP95Px, 'px'),
  ];
  out.push({
    target: `motion clips, 1 session: mirror fps ≥ ${TARGETS.fpsRatio}× camera`,
    value: pan1 ? `${fmt(pan1.fps)} fps on the pan clip = ${fmt(pan1.fps / 30, 3)}×` : 'not measured',
    met: pan1 ? pan1.fps >= TARGETS.fpsRatio * 30 : null,
  });
  const cross1 = run('crossing', 1);
  out.push(
    check(`crossing clip (two faces, each its own hat), 1 session: hat error p95 ≤ ${TARGETS.motionPanP95Px} px`, cross1?.hatErrorPx.p95, TARGETS.motionPanP95Px, 'px', cross1 ? ` (p50 ${fmt(cross1.hatErrorPx.p50)})` : ''),
    check(`roll clip, 4 sessions: roll error p95 ≤ ${TARGETS.motionRollP95Deg}°`, run('roll', 4)?.rollErrorDeg.p95, TARGETS.motionRollP95Deg, '°'),
  );
  out.push({ target: 'no hat missing or doubled on a face', value: `${m.missedFrames} frames`, met: m.missedFrames === 0 });
  out.push({ target: 'two faces crossing: no face wears the other\'s hat', value: `${m.swappedFrames} frames`, met: m.runs.some((r) => r.clip === 'crossing' && !r.error) ? m.swappedFrames === 0 : null });
  // The same, as a person sees it: the real page in Chromium (when it ran).
  if (m.runs.some((r) => r.client === 'chromium')) {
    const cPan = run('pan', 1, 'chromium');
    out.push(
      check(`Chromium: pan clip hat error p95 ≤ ${TARGETS.motionPanP95Px} px`, cPan?.hatErrorPx.p95, TARGETS.motionPanP95Px, 'px', cPan ? ` (p50 ${fmt(cPan.hatErrorPx.p50)}, ${fmt(cPan.fps)} fps presented)` : ''),
      check(`Chromium: pan clip lag p50 ≤ ${TARGETS.motionLagFrames} frame`, cPan?.lagFrames.p50, TARGETS.motionLagFrames, 'frames'),
      check(`Chromium: roll clip roll error p95 ≤ ${TARGETS.motionRollP95Deg}°`, run('roll', 1, 'chromium')?.rollErrorDeg.p95, TARGETS.motionRollP95Deg, '°'),
      check(`Chromium: still face hat moves ≤ ${TARGETS.motionStillJitterP95Px} px p95`, run('still', 1, 'chromium')?.jitterPx?.p95, TARGETS.motionStillJitterP95Px, 'px'),
    );
  }
  return out;
}

function failoverTargets(f: FailoverResult): TargetResult[] {
  const t = f.timesMs;
  return [
    { target: `failover: a killed server's mirrors show frames again within ${TARGETS.failoverMaxMs / 1000} s (max of ${f.kills.length} kills)`, value: t.max === null ? 'not measured' : `max ${t.max} ms, p50 ${t.p50} ms (${t.n} mirrors)`, met: t.max === null ? null : t.max <= TARGETS.failoverMaxMs },
    { target: 'failover: no mirror lost', value: `${f.lost} lost`, met: f.kills.length ? f.lost === 0 : null },
  ];
}

export function metText(met: boolean | null): string {
  return met === null ? 'n/a' : met ? 'MET' : 'MISSED';
}
