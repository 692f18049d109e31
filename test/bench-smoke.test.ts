/**
 * `npm run bench` and `npm run soak`, SHORT, as child processes (as a user runs them): the
 * bench with 1 session for ~3 s and 3 Starts, the soak with 10 cycles. Asserts well-formed
 * output (the printed tables, every JSON field present and finite), no double counting
 * (mirror fps ≤ 1.05× the camera's) and 0 leaks. Speed targets are NOT asserted: machines
 * running tests are shared and noisy; `npm run bench` prints met/missed against them.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import type { BenchResult } from '../bench/cli.js';
import type { SoakResult } from '../bench/soak.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mm-bench-smoke-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function run(script: string, args: string[], timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const finite = (v: unknown, what: string) => assert.ok(typeof v === 'number' && Number.isFinite(v), `${what} should be a finite number, got ${String(v)}`);

test('bench: 1 session, 3 s, 3 starts — tables, JSON, no double counting', { timeout: 60_000 }, async (t) => {
  const json = path.join(dir, 'bench.json');
  const r = await run('bench/cli.ts', ['--client', 'wrtc', '--repeat', '1', '--sessions', '1', '--seconds', '3', '--warmup', '1', '--starts', '3', '--json', json, '--quiet'], 55_000);
  t.diagnostic(r.stdout);
  assert.equal(r.code, 0, `bench exited with ${r.code}: ${r.stderr.slice(-2000)}`);
  for (const heading of ['Sessions, wrtc client (fps', 'Filter cost', 'Start → first returned frame with the hat', 'Engine CPU by thread', 'Targets']) {
    assert.ok(r.stdout.includes(heading), `printed output lacks "${heading}"`);
  }
  assert.match(r.stdout, /^mirror\s+1\s/m);
  assert.match(r.stdout, /^loopback\s+1\s/m);

  const b = JSON.parse(await readFile(json, 'utf8')) as BenchResult;
  assert.equal(typeof b.machine.cpuModel, 'string');
  assert.ok(b.machine.cores >= 1);
  assert.deepEqual(b.camera, { width: 640, height: 480, fps: 30 });
  assert.equal(b.server.kind, 'embedded');
  for (const kind of ['mirror', 'loopback'] as const) {
    const run = b.runs.find((x) => x.pipeline === kind && x.sessions === 1);
    assert.ok(run, `no ${kind} run`);
    assert.equal(run.error, undefined, `${kind}: ${run.error}`);
    assert.equal(run.perSession.length, 1);
    const s = run.perSession[0]!;
    finite(s.fps, `${kind} fps`);
    assert.ok(s.fps > 0, `${kind}: no frames came back`);
    // Distinct counters only, and only those sent in the window: never more than the camera sent.
    assert.ok(s.fps <= 1.05 * b.camera.fps, `${kind}: ${s.fps} fps > 1.05 × ${b.camera.fps} (double counting?)`);
    assert.ok(s.fps <= s.sentFps * 1.05, `${kind}: ${s.fps} fps > 1.05 × sent ${s.sentFps}`);
    assert.match(String(run.resolution), /^\d+x\d+$/);
    for (const [k, v] of Object.entries({ ...run.latencyMs, ...run.latencyFrames })) finite(v, `${kind} latency ${k}`);
    finite(run.engine.cpuCores, `${kind} engine cpu`);
    finite(run.engine.cpuCoresPerSession, `${kind} engine cpu/session`);
    finite(run.engine.rssMb, `${kind} engine rss`);
    finite(run.harness.cpuCores, `${kind} harness cpu`);
    finite(run.machine.busyCores, `${kind} machine busy`);
    assert.equal(typeof run.harness.bottleneck, 'boolean');
    assert.ok(run.engine.threads.length > 0, `${kind}: no per-thread CPU`);
  }
  const mirror = b.runs.find((x) => x.pipeline === 'mirror')!;
  finite(mirror.detections.perSecond, 'detections/s');
  finite(mirror.detections.msPerDetection, 'ms/detection');
  assert.equal(b.latencyVsLoopback.length, 1);
  finite(b.latencyVsLoopback[0]!.addedP50Ms, 'added latency');
  finite(b.latencyVsLoopback[0]!.ratioP50, 'latency ratio');

  assert.ok(b.starts, 'no Start measurements');
  assert.equal(b.starts.starts, 3, `starts failed: ${b.starts.failures.join('; ')}`);
  for (const k of ['p50', 'p95', 'min', 'max'] as const) finite(b.starts.hatMs[k], `start→hat ${k}`);
  for (const [k, v] of Object.entries(b.starts.phasesP50)) finite(v, `start phase ${k}`);
  assert.ok(b.starts.cold, 'no cold start');

  // The hat is on the still face in (nearly) every checked frame; the cameras report their jitter buffers.
  assert.ok(mirror.hatShareMin !== null && mirror.hatShareMin >= 0.95, `hats on ${mirror.hatShareMin}`);
  assert.equal(b.runs.find((x) => x.pipeline === 'loopback')!.hatShareMin, null);
  finite(mirror.harness.jitterBufferMs, 'camera jitter buffer ms');

  assert.equal(b.targets.length, 6);
  for (const target of b.targets) assert.ok(target.met === null || typeof target.met === 'boolean');
});

test('soak: 10 cycles with fuzzing — 0 leaks, a session works afterwards', { timeout: 60_000 }, async (t) => {
  const json = path.join(dir, 'soak.json');
  const r = await run('bench/soak.ts', ['--cycles', '10', '--warmup', '2', '--fuzz', '5', '--json', json, '--quiet'], 55_000);
  t.diagnostic(r.stdout);
  assert.ok(r.code === 0 || r.code === 2, `soak exited with ${r.code} (1 = leak): ${r.stderr.slice(-2000)}`);
  for (const text of ['Leaks:', 'RSS:', 'Errors:', 'Normal session afterwards:', 'leaked']) assert.ok(r.stdout.includes(text), `printed output lacks "${text}"`);

  const s = JSON.parse(await readFile(json, 'utf8')) as SoakResult;
  assert.equal(s.exitCode, r.code);
  assert.equal(s.cycles.done, 10);
  assert.equal(s.cycles.released + s.cycles.abandoned + s.cycles.failed, 10);
  assert.equal(s.cycles.abandoned, 2);
  assert.equal(s.cycles.failed, 0, JSON.stringify(s.errors));
  assert.deepEqual(s.leaks, { pipelines: 0, objects: 0, peerConnections: 0, fds: 0, udpSockets: 0, total: 0, newFds: [] });
  assert.equal(s.fuzz.messages, 50);
  assert.equal(s.fuzz.replyMismatches, 0, JSON.stringify(s.errors));
  for (const k of ['firstCycleMb', 'beforeMb', 'afterMb', 'growthMb', 'growthMediansMb'] as const) finite(s.rss[k], `rss ${k}`);
  for (const k of ['fds', 'udpSockets', 'rssMb'] as const) (finite(s.before[k], `before ${k}`), finite(s.after[k], `after ${k}`));
  finite(s.afterwards.hatMs, 'hat after the soak');
  finite(s.afterwards.fps, 'fps after the soak');
  assert.ok(s.afterwards.fps! > 0);
});
