/** The bench's printed tables. */
import type { BenchResult } from './cli.js';
import { PHASES, type BrowserResult } from './browser.js';
import { clipDescription } from './motion-clips.js';
import type { MotionResult } from './motion.js';
import type { RunResult } from './measure.js';
import { round } from './stats.js';
import { metText } from './targets.js';
import { fmt, renderTable, type Cell } from './table.js';

export function renderBench(r: BenchResult, markdown = false): string {
  const md = { markdown };
  const lines: string[] = [];
  const m = r.machine;
  lines.push(
    `Magic Mirror bench — ${r.server.kind === 'embedded' ? 'embedded engine' : `external server ${r.server.uri}`} — ` +
      `${m.cpuModel}, ${m.cores} cores, load ${m.loadAverage.join(' ')} at start — ` +
      `camera ${r.camera.width}×${r.camera.height} @ ${r.camera.fps} fps — ${r.options.seconds} s per run — ${r.date}`,
  );
  lines.push('');
  if (r.runs.length) lines.push(...renderWrtcRuns(r, md));
  if (r.starts) lines.push(...renderStarts(r, md));
  for (const [who, threadsOf] of [
    ['Engine', (x: RunResult) => x.engine.threads],
    ['Harness (the wrtc cameras)', (x: RunResult) => x.harness.threads ?? []],
  ] as const) {
    const runs = r.runs.filter((x) => threadsOf(x).length && !x.error);
    if (!runs.length) continue;
    lines.push(`${who} CPU by thread (cores; top threads per run)`);
    lines.push(
      renderTable(
        ['pipeline', 'sessions', 'threads'],
        runs.map((x) => [x.pipeline, x.sessions, threadsOf(x).slice(0, 6).map((t) => `${t.thread} ${t.cores.toFixed(2)}`).join(', ')]),
        md,
      ),
    );
    lines.push('');
  }
  if (r.browser) lines.push(...renderBrowser(r.browser, md), '');
  if (r.motion) lines.push(...renderMotion(r.motion, md), '');
  if (r.failover) {
    lines.push(`Failover: ${r.failover.servers} engine processes in a pool, ${r.failover.mirrors} mirrors (wrtc kiosk pages); the busiest engine SIGKILLed, then restarted`);
    lines.push(renderTable(['kill', 'server', 'mirrors', 'frames again after (ms)', 'lost'], r.failover.kills.map((k, i) => [i + 1, k.server, k.moved, k.timesMs.join(', '), k.lost]), md), '');
  }

  lines.push('Targets');
  lines.push(renderTable(['target', 'measured', 'result'], r.targets.map((t) => [t.target, t.value, metText(t.met)]), md));
  return lines.join('\n');
}

function renderMotion(m: MotionResult, md: { markdown: boolean }): string[] {
  return [
    'Motion: the hat on a moving face (key-colour hat found in every returned frame vs KMS\'s placement on the true face box of that frame)',
    renderTable(
      ['clip', 'motion', 'client', 'camera fps', 'load', 'sessions', 'frames', 'error px p50 / p95', 'lag frames p50', 'roll error ° p95', 'still jitter px p95', 'missing', 'two hats % (frames)', 'face, no hat % (frames)', 'stray', 'swapped', 'fps', 'engine cores', 'det/s (duty)'],
      m.runs.map((r) => [
        r.clip, clipDescription(r.clip), r.client, r.cameraFps ?? 30, r.stress?.replace(/^stress: /, '') || 'quiet', r.sessions,
        r.error ? `ERROR: ${r.error}` : r.frames,
        `${fmt(r.hatErrorPx.p50)} / ${fmt(r.hatErrorPx.p95)}`,
        fmt(r.lagFrames.p50, 0), fmt(r.rollErrorDeg.p95), r.jitterPx ? fmt(r.jitterPx.p95) : '–',
        r.missing, `${fmt(r.twoHatsPct ?? null, 2)} (${r.doubled})`, `${fmt(r.noHatPct ?? null, 2)} (${r.noHat ?? '–'})`, r.stray ?? '–', r.swapped, fmt(r.fps), fmt(r.engineCores, 2),
        r.detectionsPerSecond == null ? '–' : `${fmt(r.detectionsPerSecond)} (${fmt(r.detectorDuty ?? null, 2)})`,
      ]),
      md,
    ),
  ];
}

const known = (xs: Array<number | null>) => xs.filter((x): x is number => x !== null && Number.isFinite(x));
const minOf = (xs: Array<number | null>) => (known(xs).length ? Math.min(...known(xs)) : null);
const meanOf = (xs: Array<number | null>) => (known(xs).length ? known(xs).reduce((a, b) => a + b, 0) / known(xs).length : null);

function renderWrtcRuns(r: BenchResult, md: { markdown: boolean }): string[] {
  const lines: string[] = [];
  const worstOf = r.options.repeat > 1 ? `; each row the worst of ${r.options.repeat} runs, fps min of every run in the last column` : '';
  lines.push(`Sessions, wrtc client (fps = distinct frame counters returned per second, per session; latency = sentAt(counter) → first return${worstOf})`);
  const rows: Cell[][] = r.runs.map((run) => [
    run.pipeline,
    run.sessions,
    run.error ? `ERROR: ${run.error}` : `${fmt(run.fps.min)} / ${fmt(run.fps.mean)}`,
    run.resolution ?? '–',
    `${fmt(run.latencyMs.p50, 0)} / ${fmt(run.latencyMs.p95, 0)}`,
    `${fmt(run.latencyFrames.p50, 1)} / ${fmt(run.latencyFrames.p95, 1)}`,
    fmt(run.harness.jitterBufferMs, 0),
    `${fmt(run.engine.cpuCores, 2)} (${fmt(run.engine.cpuCoresPerSession, 2)})`,
    `${fmt(run.engine.rssMb, 0)} (${(run.engine.rssMbPerSession ?? 0) >= 0 ? '+' : ''}${fmt(run.engine.rssMbPerSession, 0)})`,
    run.pipeline === 'mirror' ? `${fmt(run.detections.perSecond)} (${fmt(run.detections.perSecondPerSession)})` : '–',
    run.pipeline === 'mirror' ? fmt(run.detections.msPerDetection, 0) : '–',
    run.hatShareMin === null ? '–' : fmt(run.hatShareMin * 100, 1),
    fmt(run.engine.staleFramesDroppedPerSecond),
    fmt(run.harness.cpuCores, 2),
    fmt(run.machine.otherCores, 2),
    [run.harness.bottleneck ? 'H' : '', run.machine.saturated ? 'S' : ''].join('') || '',
    run.repeats && run.repeats.length > 1 ? run.repeats.map((x) => (x.error ? 'ERR' : fmt(x.fpsMin))).join(' ') : '',
  ]);
  lines.push(
    renderTable(
      ['pipeline', 'sessions', 'fps min/mean', 'received', 'latency ms p50/p95', 'frames p50/p95', 'of it camera jitter buffer ms', 'engine cores (/session)', 'engine RSS MB (+/session)', 'det/s (/session)', 'ms/det', 'hats on % (worst session)', 'stale frames skipped/s', 'harness cores', 'other cores', 'flags', 'fps min per run'],
      rows,
      md,
    ),
  );
  lines.push('flags: H = harness used > 0.8 core (it may be the bottleneck), S = machine CPU > 90 % busy');
  lines.push('');

  const cmp = r.latencyVsLoopback;
  if (cmp.length) {
    lines.push('Filter cost: latency through endpoint → FaceOverlayFilter → endpoint vs plain endpoint loopback (same run)');
    lines.push(
      renderTable(
        ['sessions', 'mirror p50 ms', 'loopback p50 ms', 'added p50 ms', 'added p50 frames', 'ratio p50', 'mirror p95 ms', 'loopback p95 ms'],
        cmp.map((c) => [c.sessions, c.mirrorP50Ms, c.loopbackP50Ms, c.addedP50Ms, c.addedP50Frames, c.ratioP50, c.mirrorP95Ms, c.loopbackP95Ms]),
        md,
      ),
    );
    lines.push('');
  }

  return lines;
}

function renderStarts(r: BenchResult, md: { markdown: boolean }): string[] {
  const lines: string[] = [];
  {
    const s = r.starts!;
    lines.push(`Start → first returned frame with the hat (${s.starts} starts${s.failures.length ? `, ${s.failures.length} failed` : ''}; cold = first Start on a fresh server, not included; phases: ms after Start)`);
    lines.push(
      renderTable(
        ['p50 ms', 'p95 ms', 'min ms', 'max ms', 'cold ms', 'p50 built', 'p50 answered', 'p50 connected', 'p50 server 1st frame', 'p50 1st frame back'],
        [[s.hatMs.p50, s.hatMs.p95, s.hatMs.min, s.hatMs.max, s.cold?.hatMs ?? null, s.phasesP50.builtMs, s.phasesP50.answeredMs, s.phasesP50.connectedMs, s.phasesP50.serverFirstFrameMs, s.phasesP50.firstFrameMs]],
        md,
      ),
    );
    lines.push('');
  }

  return lines;
}

function renderBrowser(b: BrowserResult, md: { markdown: boolean }): string[] {
  const lines: string[] = [];
  const s = b.startMs;
  lines.push(`Chromium, the real page: Start → first mirror frame (${s.n} warm Starts${b.failures.length ? `, ${b.failures.length} failed` : ''}; cold = the first Start after launching web mode)`);
  lines.push('phases: ms from the previous step (camera opens before the offer); they add up to the total');
  const phase = (p: (typeof PHASES)[number]) => b.phasesMs[p] ?? null;
  lines.push(
    renderTable(
      ['', 'total ms', 'p95 ms', 'camera', 'offer', 'answer', 'ICE', 'server 1st frame', 'painted'],
      [
        ['warm p50', s.p50, s.p95, phase('camera'), phase('offer'), phase('answer'), phase('ice'), phase('serverMedia'), phase('firstFrame')],
        ...(b.cold
          ? [[`cold (page ready ${fmt(b.cold.pageReadyMs, 0)} ms, engine warm ${fmt(b.cold.engineWarmMs, 0)} ms after launch)`, round(b.cold.startMs, 0), null, ...PHASES.map((p) => round(b.cold!.phasesMs[p], 0))] as Cell[]]
          : []),
      ],
      md,
    ),
  );
  for (const f of b.failures) lines.push(`FAILED ${f}`);
  lines.push('');
  lines.push('Chromium sessions (fps = distinct counters the mirror video presented per second; latency = camera preview shows counter n → mirror shows it; page received = frames its WebRTC stack assembled, getStats)');
  lines.push(
    renderTable(
      ['pipeline', 'sessions', 'fps min/mean', 'camera fps', 'page received fps (min)', 'page jitter buffer ms', 'send→paint ms p50/p95', 'frames p50/p95', 'engine cores (/session)', 'machine busy cores'],
      b.runs.map((run) => [
        run.pipeline,
        run.backgroundSessions ? `${run.sessions} (+${run.backgroundSessions} wrtc)` : run.sessions,
        run.error ? `ERROR: ${run.error}` : `${fmt(run.fps.min)} / ${fmt(run.fps.mean)}`,
        fmt(run.cameraFps.min),
        fmt(minOf(run.perSession.map((p) => p.video.receivedFps))),
        fmt(meanOf(run.perSession.map((p) => p.video.jitterBufferMs)), 0),
        `${fmt(run.latencyMs.p50, 0)} / ${fmt(run.latencyMs.p95, 0)}`,
        `${fmt(run.latencyFrames.p50, 1)} / ${fmt(run.latencyFrames.p95, 1)}`,
        `${fmt(run.engineCores, 2)} (${fmt(run.engineCoresPerSession, 2)})`,
        fmt(run.machineBusyCores, 2),
      ]),
      md,
    ),
  );
  if (b.latencyVsLoopback.length) lines.push(`mirror − loopback send→paint p50: ${b.latencyVsLoopback.map((c) => `${c.sessions} × ${fmt(c.addedP50Ms)} ms (${fmt(c.addedP50Frames, 2)} frames)`).join(', ')}`);
  return lines;
}
