/**
 * The auto-recovery rules, without media: the backoff schedule, what each failure restarts
 * (common/recovery.ts, used by the kiosk page and by test/recovery-engine.test.ts), and when
 * the main process reloads a crashed or hung page (main/recovery/page-watchdog.ts).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CAMERA_POLL_MS,
  ICE_DISCONNECTED_MS,
  RECOVERY_BACKOFF,
  RecoveryController,
  STABLE_MS,
  actionAfterStop,
  actionWhileRunning,
  backoffDelay,
  type RecoveryState,
} from '../common/recovery.js';
import { CRASH_WINDOW_MS, HANG_GRACE_MS, PageWatchdog, afterRendererGone } from '../main/recovery/page-watchdog.js';

/** A clock whose timers run only when the test advances it. */
function fakeClock() {
  let now = 1_000_000;
  let nextId = 1;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => now,
    random: () => 0.5, // no jitter
    setTimeout: (fn: () => void, ms: number) => {
      const id = nextId++;
      timers.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimeout: (id: unknown) => void timers.delete(id as number),
    pending: () => timers.size,
    advance(ms: number) {
      const end = now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].fn();
      }
      now = end;
    },
  };
}

function controller() {
  const clock = fakeClock();
  const states: RecoveryState[] = [];
  let restarts = 0;
  const c = new RecoveryController({ restart: () => restarts++, stateChanged: (s) => states.push(s) }, clock);
  return { c, clock, states, restarts: () => restarts };
}

describe('backoff', () => {
  test('1 s, 2 s, 4 s … capped at 30 s; jitter stays within ±20 %', () => {
    const mid = () => 0.5;
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 10, 50].map((a) => backoffDelay(a, RECOVERY_BACKOFF, mid)), [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000]);
    assert.equal(backoffDelay(0, RECOVERY_BACKOFF, () => 0), 800);
    assert.equal(backoffDelay(0, RECOVERY_BACKOFF, () => 0.999999), 1200);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(8);
      assert.ok(d >= 24_000 && d <= 36_000, String(d));
    }
  });
});

describe('what restarts what', () => {
  test('media server, engine, link, ICE/media failures → a new session after backoff', () => {
    for (const p of ['kms-lost', 'kms-unreachable', 'kms-timeout', 'engine-failed', 'server-unreachable', 'server-timeout', 'internal', 'busy', 'bad-offer', 'ice-failed', 'no-media', 'something-new', undefined]) {
      const a = actionAfterStop(p, 2, () => 0.5);
      assert.deepEqual(a, { kind: 'restart', afterMs: 4000, reason: p ?? 'server-error' }, String(p));
    }
  });

  test('camera problems wait for the camera; insecure-context gives up; a Stop does nothing', () => {
    for (const p of ['camera-lost', 'no-camera', 'camera-failed', 'camera-busy', 'camera-denied']) {
      assert.deepEqual(actionAfterStop(p, 0), { kind: 'wait-for-camera', pollMs: CAMERA_POLL_MS, reason: p });
    }
    assert.deepEqual(actionAfterStop('insecure-context', 0), { kind: 'give-up', reason: 'insecure-context' });
    assert.deepEqual(actionAfterStop('stop', 0), { kind: 'none' });
  });

  test('while running: only lost media restarts; notices and a reconnecting media server do not', () => {
    assert.equal(actionWhileRunning('ice-failed', 0).kind, 'restart');
    assert.equal(actionWhileRunning('no-media', 0).kind, 'restart');
    for (const p of ['hat-failed', 'no-face', 'kms-lost', 'no-network']) assert.deepEqual(actionWhileRunning(p, 0), { kind: 'none' }, p);
  });
});

describe('RecoveryController', () => {
  test('a failure shows "reconnecting" at once, restarts after the delay, backs off while it keeps failing', () => {
    const { c, clock, states, restarts } = controller();
    c.stopped('kms-lost');
    assert.deepEqual(states.at(-1), { kind: 'reconnecting', reason: 'kms-lost', attempt: 1, retryAt: clock.now() + 1000 });
    clock.advance(999);
    assert.equal(restarts(), 0);
    clock.advance(1);
    assert.equal(restarts(), 1);
    assert.equal(c.state.kind, 'reconnecting', 'still shown while the restart runs: never a bare black mirror');
    c.stopped('kms-unreachable');
    assert.deepEqual(states.at(-1), { kind: 'reconnecting', reason: 'kms-unreachable', attempt: 2, retryAt: clock.now() + 2000 });
    clock.advance(2000);
    c.stopped('kms-unreachable');
    clock.advance(4000);
    assert.equal(restarts(), 3);
    c.live();
    assert.deepEqual(c.state, { kind: 'ok' });
  });

  test('the count starts again only after the mirror stayed live for STABLE_MS', () => {
    const { c, clock, states } = controller();
    c.stopped('kms-lost');
    clock.advance(1000);
    c.live();
    clock.advance(1000);
    c.stopped('kms-lost'); // died right after coming back: keep backing off
    assert.equal((states.at(-1) as { attempt: number }).attempt, 2);
    clock.advance(2000);
    c.live();
    clock.advance(STABLE_MS);
    c.stopped('kms-lost');
    assert.deepEqual(states.at(-1), { kind: 'reconnecting', reason: 'kms-lost', attempt: 1, retryAt: clock.now() + 1000 });
  });

  test('camera unplugged: waits; devicechange restarts at once; without one it polls', () => {
    const { c, clock, restarts } = controller();
    c.stopped('camera-lost');
    assert.deepEqual(c.state, { kind: 'waiting-for-camera', reason: 'camera-lost' });
    c.devicechange();
    assert.equal(restarts(), 1);
    c.stopped('no-camera');
    clock.advance(CAMERA_POLL_MS);
    assert.equal(restarts(), 2);
    c.live();
    c.devicechange(); // a camera plugged in while the mirror runs changes nothing
    assert.equal(restarts(), 2);
  });

  test('ICE: failed restarts; disconnected restarts only if it lasts', () => {
    const { c, clock, restarts } = controller();
    c.live();
    c.iceState('disconnected');
    clock.advance(ICE_DISCONNECTED_MS - 1);
    c.iceState('connected');
    clock.advance(60_000);
    assert.equal(restarts(), 0);
    c.iceState('disconnected');
    clock.advance(ICE_DISCONNECTED_MS);
    assert.equal(c.state.kind, 'reconnecting');
    clock.advance(1000);
    assert.equal(restarts(), 1);
    c.live();
    c.iceState('failed');
    assert.equal(c.state.kind, 'reconnecting');
  });

  test('a running problem does not schedule twice; dispose stops everything', () => {
    const { c, clock, restarts } = controller();
    c.problem('no-media');
    c.problem('ice-failed');
    assert.equal(clock.pending(), 1);
    c.dispose();
    clock.advance(120_000);
    assert.equal(restarts(), 0);
    c.stopped('kms-lost');
    assert.deepEqual(c.state, { kind: 'off' });
  });

  test('the server reconnecting to its media server: shown as resuming, cleared when it is back', () => {
    const { c, clock, restarts } = controller();
    c.live();
    c.problem('kms-lost');
    assert.deepEqual(c.state, { kind: 'resuming', reason: 'kms-lost' });
    c.problemCleared('kms-lost');
    assert.deepEqual(c.state, { kind: 'ok' });
    c.problem('kms-lost');
    c.stopped('kms-lost'); // it did not come back: the session ended
    assert.equal(c.state.kind, 'reconnecting');
    clock.advance(1000);
    assert.equal(restarts(), 1);
  });

  test('insecure-context: gives up and says so', () => {
    const { c, clock, restarts } = controller();
    c.stopped('insecure-context');
    clock.advance(600_000);
    assert.equal(restarts(), 0);
    assert.deepEqual(c.state, { kind: 'gave-up', reason: 'insecure-context' });
  });
});

describe('page watchdog (renderer crash / hang)', () => {
  test('afterRendererGone: reload at once, then back off while crashes repeat; never after a clean exit', () => {
    const now = 10_000_000;
    assert.deepEqual(afterRendererGone('crashed', [], now, { kiosk: false }), { action: 'reload', afterMs: 0 });
    assert.deepEqual(afterRendererGone('crashed', [now - 5000], now, { kiosk: false }), { action: 'reload', afterMs: 1000 });
    assert.deepEqual(afterRendererGone('oom', [now - 1, now - 2, now - 3], now, { kiosk: true }), { action: 'reload', afterMs: 4000 });
    assert.deepEqual(afterRendererGone('crashed', Array(20).fill(now - 1), now, { kiosk: true }), { action: 'reload', afterMs: 60_000 });
    assert.deepEqual(afterRendererGone('crashed', [now - CRASH_WINDOW_MS], now, { kiosk: true }), { action: 'reload', afterMs: 0 }, 'old crashes forgotten');
    assert.equal(afterRendererGone('clean-exit', [], now, { kiosk: true }).action, 'none');
    assert.equal(afterRendererGone('killed', [], now, { kiosk: false }).action, 'none');
    assert.equal(afterRendererGone('killed', [], now, { kiosk: true }).action, 'reload', 'a kiosk reloads even after the OOM killer');
  });

  test('PageWatchdog: hung for HANG_GRACE_MS → crash and reload; responsive in time → nothing', () => {
    const clock = fakeClock();
    const reloads: boolean[] = [];
    const w = new PageWatchdog({ kiosk: () => true, reload: (hung) => reloads.push(hung), now: clock.now, setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout });
    w.unresponsive();
    clock.advance(HANG_GRACE_MS - 1);
    w.responsive();
    clock.advance(HANG_GRACE_MS);
    assert.deepEqual(reloads, []);
    w.unresponsive();
    w.unresponsive();
    clock.advance(HANG_GRACE_MS);
    assert.deepEqual(reloads, [true]);
    w.rendererGone('crashed');
    assert.deepEqual(reloads, [true, false], 'first crash: at once');
    w.rendererGone('crashed');
    assert.deepEqual(reloads, [true, false]);
    clock.advance(1000);
    assert.deepEqual(reloads, [true, false, false], 'second crash: after 1 s');
  });
});
