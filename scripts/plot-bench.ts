/**
 * Plots a `npm run bench -- --json out.json` result: fps per session, glass-to-glass latency
 * (p50 solid, p95 dashed, log scale) and CPU (engine, harness, rest of the machine) against the
 * number of sessions, mirror vs plain loopback, with the targets drawn in. The chart is an SVG
 * rendered to PNG by headless Chromium (test/helpers/chromium.ts).
 *
 *   npx tsx scripts/plot-bench.ts bench.json docs/bench.png [--svg docs/bench.svg]
 */
import { writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { BenchResult } from '../bench/cli.js';
import type { RunResult } from '../bench/measure.js';
import { TARGETS } from '../bench/targets.js';
import { launchChromium } from '../test/helpers/chromium.js';

const W = 1580;
const H = 560;
const PANEL_W = 420;
const PANEL_H = 360;
const TOP = 110;
const LEFTS = [90, 620, 1140];
const COLOURS = { mirror: '#d9480f', loopback: '#1c7ed6', engine: '#d9480f', harness: '#7048e8', other: '#adb5bd' };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

interface Axis {
  x(sessions: number): number;
  y(v: number): number;
}

function panel(left: number, title: string, xs: number[], yTicks: number[], yLabel: (v: number) => string, y: (v: number) => number, unit: string): { svg: string; axis: Axis } {
  const bottom = TOP + PANEL_H;
  const n = xs.length;
  const x = (s: number) => left + ((xs.indexOf(s) + 0.5) / n) * PANEL_W;
  const out: string[] = [];
  out.push(`<text x="${left}" y="${TOP - 22}" class="title">${esc(title)}</text>`);
  out.push(`<rect x="${left}" y="${TOP}" width="${PANEL_W}" height="${PANEL_H}" class="frame"/>`);
  for (const t of yTicks) {
    const yy = y(t);
    out.push(`<line x1="${left}" x2="${left + PANEL_W}" y1="${yy}" y2="${yy}" class="grid"/>`);
    out.push(`<text x="${left - 8}" y="${yy + 5}" class="tick" text-anchor="end">${yLabel(t)}</text>`);
  }
  for (const s of xs) out.push(`<text x="${x(s)}" y="${bottom + 24}" class="tick" text-anchor="middle">${s}</text>`);
  out.push(`<text x="${left + PANEL_W / 2}" y="${bottom + 50}" class="axis" text-anchor="middle">sessions</text>`);
  out.push(`<text x="${left - 58}" y="${TOP + PANEL_H / 2}" class="axis" text-anchor="middle" transform="rotate(-90 ${left - 58} ${TOP + PANEL_H / 2})">${esc(unit)}</text>`);
  return { svg: out.join('\n'), axis: { x, y } };
}

function line(points: Array<[number, number] | null>, colour: string, opts: { dash?: boolean; markers?: boolean } = {}): string {
  const segs: string[] = [];
  let cur: string[] = [];
  for (const p of points) {
    if (!p) {
      if (cur.length) segs.push(cur.join(' '));
      cur = [];
      continue;
    }
    cur.push(`${p[0].toFixed(1)},${p[1].toFixed(1)}`);
  }
  if (cur.length) segs.push(cur.join(' '));
  const dash = opts.dash ? ' stroke-dasharray="7 5"' : '';
  const out = segs.map((s) => `<polyline points="${s}" fill="none" stroke="${colour}" stroke-width="3"${dash}/>`);
  if (opts.markers !== false) {
    for (const p of points) if (p) out.push(`<circle cx="${p[0].toFixed(1)}" cy="${p[1].toFixed(1)}" r="5" fill="${opts.dash ? 'white' : colour}" stroke="${colour}" stroke-width="2"/>`);
  }
  return out.join('\n');
}

function label(x: number, y: number, text: string, colour: string, anchor = 'start'): string {
  return `<text x="${x}" y="${y}" class="label" fill="${colour}" text-anchor="${anchor}">${esc(text)}</text>`;
}

export function benchSvg(b: BenchResult): string {
  const xs = [...new Set(b.runs.map((r) => r.sessions))].sort((a, c) => a - c);
  const get = (kind: 'mirror' | 'loopback', n: number): RunResult | undefined => b.runs.find((r) => r.pipeline === kind && r.sessions === n && !r.error);
  const parts: string[] = [];
  const m = b.machine;
  parts.push(`<text x="${LEFTS[0]! - 50}" y="36" class="head">Magic Mirror bench — ${esc(b.server.kind === 'embedded' ? 'embedded engine' : b.server.uri)} — ` +
    `${b.camera.width}×${b.camera.height} @ ${b.camera.fps} fps camera, ${b.options.seconds} s per point</text>`);
  parts.push(`<text x="${LEFTS[0]! - 50}" y="62" class="sub">${esc(`${m.cpuModel}, ${m.cores} cores, harness on the same machine — ${b.date.slice(0, 16).replace('T', ' ')} UTC. ` +
    '▲ = harness > 0.8 core, ■ = machine > 90 % busy (the number is then a lower bound for the server).')}</text>`);

  // 1: fps per session (min over sessions, mean dotted).
  const fpsMax = Math.max(b.camera.fps * 1.1, 35);
  const yFps = (v: number) => TOP + PANEL_H - (Math.max(0, v) / fpsMax) * PANEL_H;
  const p1 = panel(LEFTS[0]!, 'Mirror fps per session (lowest session)', xs, [0, 5, 10, 15, 20, 25, 30, 35].filter((t) => t <= fpsMax), String, yFps, 'frames per second');
  parts.push(p1.svg);
  parts.push(`<line x1="${LEFTS[0]}" x2="${LEFTS[0]! + PANEL_W}" y1="${yFps(TARGETS.minFps)}" y2="${yFps(TARGETS.minFps)}" class="target"/>`);
  parts.push(label(LEFTS[0]! + 8, yFps(TARGETS.minFps) + 20, `target ≥ ${TARGETS.minFps} fps`, '#2b8a3e'));
  for (const kind of ['loopback', 'mirror'] as const) {
    parts.push(line(xs.map((n) => { const r = get(kind, n); return r?.fps.min != null ? [p1.axis.x(n), yFps(r.fps.min)] : null; }), COLOURS[kind]));
  }
  parts.push(flags(b, xs, p1.axis, (r) => yFps(r.fps.min ?? 0)));

  // 2: latency, log scale.
  const lat = b.runs.flatMap((r) => [r.latencyMs.p50, r.latencyMs.p95]).filter((v): v is number => v != null && v > 0);
  const lo = 20;
  const hi = Math.max(400, ...lat) * 1.2;
  const yLat = (v: number) => TOP + PANEL_H - ((Math.log(Math.max(lo, v)) - Math.log(lo)) / (Math.log(hi) - Math.log(lo))) * PANEL_H;
  const latTicks = [20, 50, 100, 200, 500, 1000, 2000, 5000, 10000].filter((t) => t <= hi);
  const p2 = panel(LEFTS[1]!, 'Glass-to-glass latency (p50 solid, p95 dashed)', xs, latTicks, (v) => (v >= 1000 ? `${v / 1000} s` : `${v}`), yLat, 'ms (log scale)');
  parts.push(p2.svg);
  for (const kind of ['loopback', 'mirror'] as const) {
    parts.push(line(xs.map((n) => { const r = get(kind, n); return r?.latencyMs.p95 != null ? [p2.axis.x(n), yLat(r.latencyMs.p95)] : null; }), COLOURS[kind], { dash: true }));
    parts.push(line(xs.map((n) => { const r = get(kind, n); return r?.latencyMs.p50 != null ? [p2.axis.x(n), yLat(r.latencyMs.p50)] : null; }), COLOURS[kind]));
  }
  const frameMs = 1000 / b.camera.fps;
  parts.push(label(LEFTS[1]! + 8, TOP + 22, `1 frame = ${frameMs.toFixed(1)} ms`, '#495057'));

  // 3: CPU of the mirror runs: engine / harness / other, stacked bars; loopback engine as a line.
  const cores = b.machine.cores;
  const yCpu = (v: number) => TOP + PANEL_H - (v / cores) * PANEL_H;
  const cpuTicks = Array.from({ length: cores * 4 + 1 }, (_, i) => i / 4);
  const p3 = panel(LEFTS[2]!, 'CPU (bars: mirror run; line: loopback)', xs, cpuTicks, (v) => v.toFixed(2), yCpu, `cores (of ${cores})`);
  parts.push(p3.svg);
  const bw = (PANEL_W / xs.length) * 0.5;
  for (const n of xs) {
    const r = get('mirror', n);
    if (!r) continue;
    let base = 0;
    for (const [key, v] of [['engine', r.engine.cpuCores ?? 0], ['harness', r.harness.cpuCores], ['other', r.machine.otherCores ?? 0]] as const) {
      const h = Math.min(cores - base, v);
      if (h <= 0) continue;
      parts.push(`<rect x="${p3.axis.x(n) - bw / 2}" y="${yCpu(base + h)}" width="${bw}" height="${yCpu(base) - yCpu(base + h)}" fill="${COLOURS[key]}" fill-opacity="${key === 'other' ? 0.6 : 0.85}"/>`);
      base += h;
    }
  }
  parts.push(line(xs.map((n) => { const r = get('loopback', n); return r?.engine.cpuCores != null ? [p3.axis.x(n), yCpu(r.engine.cpuCores)] : null; }), COLOURS.loopback));

  // Legends.
  const ly = TOP + PANEL_H + 82;
  const legend = (x: number, colour: string, text: string, kind: 'line' | 'box' | 'dash' = 'line') =>
    (kind === 'box'
      ? `<rect x="${x}" y="${ly - 12}" width="22" height="14" fill="${colour}" fill-opacity="0.85"/>`
      : `<line x1="${x}" x2="${x + 26}" y1="${ly - 5}" y2="${ly - 5}" stroke="${colour}" stroke-width="3"${kind === 'dash' ? ' stroke-dasharray="7 5"' : ''}/>`) +
    `<text x="${x + 34}" y="${ly}" class="legend">${esc(text)}</text>`;
  parts.push(legend(LEFTS[0]!, COLOURS.mirror, 'mirror: endpoint → FaceOverlayFilter → endpoint'));
  parts.push(legend(LEFTS[0]! + 440, COLOURS.loopback, 'plain endpoint loopback'));
  parts.push(legend(LEFTS[2]!, COLOURS.engine, 'engine', 'box'));
  parts.push(legend(LEFTS[2]! + 120, COLOURS.harness, 'harness', 'box'));
  parts.push(legend(LEFTS[2]! + 245, COLOURS.other, 'rest of machine', 'box'));

  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">
<style>
  text { font-family: 'DejaVu Sans', Arial, sans-serif; fill: #212529; }
  .head { font-size: 22px; font-weight: bold; }
  .sub { font-size: 14px; fill: #495057; }
  .title { font-size: 17px; font-weight: bold; }
  .tick { font-size: 14px; fill: #495057; }
  .axis { font-size: 14px; fill: #495057; }
  .label { font-size: 14px; }
  .legend { font-size: 15px; }
  .frame { fill: none; stroke: #868e96; stroke-width: 1; }
  .grid { stroke: #e9ecef; stroke-width: 1; }
  .target { stroke: #2b8a3e; stroke-width: 2; stroke-dasharray: 10 6; }
</style>
<rect width="100%" height="100%" fill="white"/>
${parts.join('\n')}
</svg>`;
}

/** ▲ harness-bound, ■ saturated, above the mirror point. */
function flags(b: BenchResult, xs: number[], axis: Axis, y: (r: RunResult) => number): string {
  const out: string[] = [];
  for (const n of xs) {
    const r = b.runs.find((x) => x.pipeline === 'mirror' && x.sessions === n && !x.error);
    if (!r) continue;
    const marks = `${r.harness.bottleneck ? '▲' : ''}${r.machine.saturated ? '■' : ''}`;
    if (marks) out.push(`<text x="${axis.x(n)}" y="${y(r) - 14}" class="label" text-anchor="middle" fill="#495057">${marks}</text>`);
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { svg: { type: 'string' } } });
  const [input, output] = positionals;
  if (!input || !output) throw new Error('usage: npx tsx scripts/plot-bench.ts bench.json out.png [--svg out.svg]');
  const b = JSON.parse(readFileSync(input, 'utf8')) as BenchResult;
  const svg = benchSvg(b);
  if (values.svg) await writeFile(values.svg, svg);
  const chromium = await launchChromium();
  try {
    const page = await chromium.page();
    await page.setViewportSize({ width: W, height: H });
    await page.setContent(`<!doctype html><html><body style="margin:0">${svg}</body></html>`);
    await page.locator('svg').screenshot({ path: output });
  } finally {
    await chromium.close();
  }
  console.log(`wrote ${output}`);
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
