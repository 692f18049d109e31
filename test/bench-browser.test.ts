/**
 * The browser bench (`npm run bench -- --client chromium`), SHORT, as a user runs it: the real
 * page in headless Chromium through web mode. Not timed: it checks that the figures are made
 * of real things — the phases of every Start add up to its total and come in causal order, the
 * first mirror frame the bench's own recorder saw carries a counter from the camera clip and is
 * the frame the page marked, and fps/latency come from counters read out of presented frames.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { clipFrames, PHASES, sessionFigures, timelineToPhases } from '../bench/browser.js';
import type { BenchResult } from '../bench/cli.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FRAME_MS = 1000 / 30;
let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mm-bench-browser-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('phases: each from the latest step before it, up to the first frame, adding up to the total', () => {
  const p = timelineToPhases({ start: 0, camera: 80, offer: 130, answer: 260, ice: 250, serverMedia: 700, firstFrame: 600 });
  assert.deepEqual(p.phasesMs, { camera: 80, offer: 50, answer: 130, ice: 0, serverMedia: 340, firstFrame: 0 });
  assert.equal(p.startMs, 600);
  const q = timelineToPhases({ start: 0, offer: 40, firstFrame: 300 }); // a server without status events
  assert.deepEqual(q.phasesMs, { offer: 40, firstFrame: 260 });
});

test('session figures: distinct mirror counters per second; latency against the camera showing the same counter', () => {
  const camera: [number | null, number][] = [[1, 0], [2, 33], [3, 66], [4, 100]];
  const mirror: [number | null, number][] = [[1, 80], [1, 95], [null, 110], [3, 150], [9, 160]];
  const f = sessionFigures(camera, mirror, 2);
  assert.equal(f.fps, 1.5, 'counters 1, 3 and 9 in 2 s (a repeat counts once)');
  assert.equal(f.cameraFps, 2);
  assert.deepEqual(f.latencies, [80, 84], 'counter 9 was never shown by the camera: no latency for it');
  assert.equal(f.withoutCounter, 1);
});

test('npm run bench -- --client chromium: Starts and a session measured from real frames', { timeout: 240_000 }, async (t) => {
  const json = path.join(dir, 'bench.json');
  const args = ['--client', 'chromium', '--sessions', '1', '--seconds', '3', '--warmup', '1', '--starts', '3', '--json', json, '--quiet'];
  const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'bench/cli.ts', ...args], { cwd: ROOT, timeout: 230_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }));
  });
  assert.equal(r.code, 0, `bench exited ${r.code}\n${r.stdout}\n${r.stderr.slice(-3000)}`);
  assert.match(r.stdout, /Chromium, the real page: Start → first mirror frame/);
  assert.match(r.stdout, /Chromium sessions/);

  const b = (JSON.parse(await readFile(json, 'utf8')) as BenchResult).browser!;
  assert.ok(b, 'JSON has browser');
  assert.deepEqual(b.failures, []);
  assert.ok(b.cold, 'a cold Start');
  assert.equal(b.starts.length, 3);
  const frames = clipFrames({ seconds: 3, warmupSeconds: 1, camera: { width: 640, height: 480, fps: 30 } });
  for (const [i, s] of [b.cold, ...b.starts].entries()) {
    const at = s.atMs;
    for (const step of ['start', ...PHASES] as const) assert.ok(typeof at[step] === 'number', `start ${i}: step ${step} marked (${JSON.stringify(at)})`);
    // Causal order: nothing is answered before it was offered, no frame reaches the server before ICE, …
    assert.ok(at.camera! <= at.offer! && at.offer! <= at.answer! && at.offer! <= at.ice! && at.ice! <= at.serverMedia! && at.ice! <= at.firstFrame!, `start ${i}: steps in causal order ${JSON.stringify(at)}`);
    const sum = PHASES.reduce((a, p) => a + (s.phasesMs[p] ?? 0), 0);
    assert.ok(Math.abs(sum - s.startMs) < 1e-6, `start ${i}: phases add up (${sum} vs ${s.startMs})`);
    assert.ok(PHASES.every((p) => s.phasesMs[p]! >= 0), `start ${i}: no negative phase`);
    // The bench's own recorder saw the first mirror frame: a counter from the clip, the frame the page marked.
    assert.ok(s.recorded, `start ${i}: the recorder saw a frame`);
    assert.ok(Number.isInteger(s.recorded.counter) && s.recorded.counter! >= 0 && s.recorded.counter! < frames, `start ${i}: counter ${s.recorded.counter} from the clip`);
    assert.ok(Math.abs(s.recorded.atMs - s.startMs) <= FRAME_MS, `start ${i}: recorder ${s.recorded.atMs} ms vs page mark ${s.startMs} ms`);
  }
  assert.equal(b.startMs.n, 3);
  assert.equal(b.startMs.cold, Math.round(b.cold.startMs));

  for (const pipeline of ['mirror', 'loopback'] as const) {
    const run = b.runs.find((x) => x.pipeline === pipeline && x.sessions === 1);
    assert.ok(run && !run.error, `${pipeline} run: ${run?.error}`);
    t.diagnostic(`${pipeline}: ${run.fps.min} fps (camera ${run.cameraFps.min}), send→paint p50 ${run.latencyMs.p50} ms over ${run.latencyMs.n} frames`);
    assert.ok(run.fps.min! > 0 && run.fps.max! <= 30 * 1.05, `${pipeline}: fps ${run.fps.min}–${run.fps.max} within the camera's 30`);
    assert.ok(run.cameraFps.min! > 0 && run.cameraFps.min! <= 30 * 1.05, `${pipeline}: camera fps ${run.cameraFps.min}`);
    // Every latency pairs a mirror counter with the camera's showing of it, so there is at most one per mirror frame.
    assert.ok(run.latencyMs.n > 0 && run.latencyMs.n <= Math.ceil(run.fps.max! * run.seconds) + 3, `${pipeline}: ${run.latencyMs.n} latencies`);
    // Through the engine a frame is at least one presentation behind the preview. The in-page
    // loopback can be presented in the same vsync as the preview (p50 0 ms in CI, quiet machine).
    assert.ok(run.latencyMs.p50! < 2000 && (pipeline === 'loopback' || run.latencyMs.p50! > 0), `${pipeline}: latency p50 ${run.latencyMs.p50} ms`);
  }
  assert.equal(b.latencyVsLoopback.length, 1);
});
