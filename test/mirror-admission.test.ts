/**
 * MirrorAdmission on its own (web mode's places for mirrors, main/mirror/admission.ts): the cap
 * holds at every moment, a newcomer pushes out the oldest start without video and gets its
 * place once released, running mirrors are never pushed out, and the video deadline covers a
 * start and a mirror whose video stopped. web-fairness.test.ts tries the same through web mode
 * on the real engine.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MirrorAdmission, type AdmissionTicket } from '../main/mirror/admission.js';
import type { MirrorError } from '../main/problems.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A run as MirrorSession plays it: asks for a place; when told to end, releases it (after `releaseMs`, its pipeline's release). */
function run(admission: MirrorAdmission, releaseMs = 0, from?: string) {
  const r: { ticket?: AdmissionTicket; ended?: MirrorError; refused?: MirrorError; admitted: Promise<void> } = { admitted: Promise.resolve() };
  r.admitted = admission.admit((err) => {
    r.ended = err;
    setTimeout(() => r.ticket?.release(), releaseMs);
  }, from).then((t) => void (r.ticket = t), (err: MirrorError) => void (r.refused = err));
  return r;
}

describe('MirrorAdmission', () => {
  test('a newcomer pushes out the oldest start without video, and takes its place only once it is released', async () => {
    const a = new MirrorAdmission({ maxMirrors: 3, startMediaMs: 60_000 });
    const [r1, r2, r3] = [run(a, 50), run(a, 50), run(a, 50)];
    await Promise.all([r1.admitted, r2.admitted, r3.admitted]);
    r1.ticket!.media(true); // r1 is a running mirror: never pushed out
    const n1 = run(a);
    await sleep(0);
    assert.equal(r1.ended, undefined);
    assert.equal(r2.ended?.problem, 'busy', 'the oldest without video is pushed out');
    assert.match(r2.ended!.message, /try again in a moment/i);
    assert.equal(r3.ended, undefined);
    assert.equal(n1.ticket, undefined, 'no place until the pushed-out run has released its own');
    assert.equal(a.taken, 3);
    await n1.admitted;
    assert.ok(n1.ticket);
    assert.equal(a.taken, 3, 'never more than the cap');

    // Two more newcomers at once: each pushes out a different start (r3, then n1).
    const [n2, n3] = [run(a), run(a)];
    await Promise.all([n2.admitted, n3.admitted]);
    assert.equal((r3.ended as MirrorError | undefined)?.problem, 'busy');
    assert.equal(n1.ended?.problem, 'busy');
    assert.ok(n2.ticket && n3.ticket);
    assert.equal(a.taken, 3);
  });

  test('a flood from one address pushes out its own starts: a visitor from another address keeps its place however long the flood goes on', async () => {
    const a = new MirrorAdmission({ maxMirrors: 4, startMediaMs: 60_000, startBurstPerAddress: Infinity });
    const flood = Array.from({ length: 4 }, () => run(a, 5, '127.0.0.2'));
    await Promise.all(flood.map((r) => r.admitted));
    const visitor = run(a, 5, '127.0.0.1');
    await visitor.admitted;
    assert.ok(visitor.ticket, 'the visitor got a place (a flood start was pushed out for it)');
    for (let i = 0; i < 40; i++) {
      const more = run(a, 5, '127.0.0.2');
      flood.push(more);
      await more.admitted;
    }
    assert.equal(visitor.ended, undefined, 'never pushed out, although its video has not started yet');
    assert.equal(flood.filter((r) => r.ended?.problem === 'busy').length, 41, 'one for the visitor, one for each later flood start');
    assert.equal(a.taken, 4);
  });

  test('every place being freed is promised to a flood\'s newcomers: a visitor from another address takes one of those promises', async () => {
    const a = new MirrorAdmission({ maxMirrors: 2, startMediaMs: 60_000, startBurstPerAddress: Infinity });
    const held = [run(a, 100, 'flood'), run(a, 100, 'flood')];
    await Promise.all(held.map((r) => r.admitted));
    const promised = [run(a, 100, 'flood'), run(a, 100, 'flood')]; // each pushes one out and waits for its release
    await sleep(0);
    const visitor = run(a, 0, 'visitor');
    await Promise.all([...promised, visitor].map((r) => r.admitted));
    assert.ok(visitor.ticket, `the visitor got a place (${visitor.refused?.message})`);
    assert.equal(promised.filter((r) => r.refused?.problem === 'busy').length, 1, 'one of the flood\'s promises went to the visitor');
    assert.equal(a.taken, 2);
  });

  test('starts from one address beyond a burst and a rate are told busy before they take anything; other addresses are not affected', async () => {
    const a = new MirrorAdmission({ maxMirrors: 100, startMediaMs: 60_000, startBurstPerAddress: 5, startsPerSecondPerAddress: 20 });
    const burst = Array.from({ length: 8 }, () => run(a, 0, '10.0.0.9'));
    await Promise.all(burst.map((r) => r.admitted));
    assert.equal(burst.filter((r) => r.ticket).length, 5);
    assert.ok(burst.slice(5).every((r) => r.refused?.problem === 'busy' && /too many mirrors were started from your network/.test(r.refused.message)));
    assert.equal(a.taken, 5, 'the refused ones took no place');
    const other = run(a, 0, '10.0.0.10');
    await other.admitted;
    assert.ok(other.ticket, 'another address starts at once');
    await sleep(120); // 20 a second: two more
    const later = [run(a, 0, '10.0.0.9'), run(a, 0, '10.0.0.9'), run(a, 0, '10.0.0.9')];
    await Promise.all(later.map((r) => r.admitted));
    assert.equal(later.filter((r) => r.ticket).length, 2);
  });

  test('starts whose ICE connected (a real peer) are pushed out only after those that did not get that far', async () => {
    const a = new MirrorAdmission({ maxMirrors: 3, startMediaMs: 60_000 });
    const [visitor, idle1, idle2] = [run(a, 10), run(a, 10), run(a, 10)];
    await Promise.all([visitor.admitted, idle1.admitted, idle2.admitted]);
    visitor.ticket!.iceConnected(); // the oldest, but its peer answers: its video is a moment away
    const [n1, n2] = [run(a, 10), run(a, 10)];
    await Promise.all([n1.admitted, n2.admitted]);
    assert.equal(visitor.ended, undefined);
    assert.equal(idle1.ended?.problem, 'busy');
    assert.equal(idle2.ended?.problem, 'busy');
    const n3 = run(a, 10); // n1 and n2 have no ICE either: n1 goes first
    await n3.admitted;
    assert.equal(visitor.ended, undefined);
    assert.equal(n1.ended?.problem, 'busy');
  });

  test('every place running: the newcomer is told busy, try again in a moment; a place freed lets the next one in', async () => {
    const a = new MirrorAdmission({ maxMirrors: 2, startMediaMs: 60_000 });
    const [r1, r2] = [run(a), run(a)];
    await Promise.all([r1.admitted, r2.admitted]);
    r1.ticket!.media(true);
    r2.ticket!.media(true);
    const n = run(a);
    await n.admitted;
    assert.equal(n.refused?.problem, 'busy');
    assert.equal(n.refused?.message, 'The mirror is busy: 2 mirrors are running, as many as this server takes at once. Try again in a moment.');
    assert.equal(r1.ended ?? r2.ended, undefined, 'the running mirrors go on');
    r1.ticket!.release();
    r1.ticket!.release(); // twice is once
    const m = run(a);
    await m.admitted;
    assert.ok(m.ticket);
    assert.equal(a.taken, 2);
  });

  test('no video within startMediaMs of the start, or for startMediaMs after it stopped: the run is ended (no-media)', async () => {
    const a = new MirrorAdmission({ maxMirrors: 4, startMediaMs: 200 });
    const [idle, live, stopped] = [run(a), run(a), run(a)];
    await Promise.all([idle.admitted, live.admitted, stopped.admitted]);
    live.ticket!.media(true);
    stopped.ticket!.media(true);
    stopped.ticket!.media(false);
    await sleep(100);
    stopped.ticket!.media(true); // back within the deadline: nothing happens
    stopped.ticket!.media(false);
    await sleep(400);
    assert.equal(idle.ended?.problem, 'no-media');
    assert.match(idle.ended!.message, /^No video from your camera reached the media server within 0\.2 s of starting/);
    assert.equal(live.ended, undefined);
    assert.equal(stopped.ended?.problem, 'no-media');
    assert.match(stopped.ended!.message, /has reached the media server for 0\.2 s/);
    live.ticket!.release();
    assert.equal(a.taken, 0);
  });

  test('the cap must be a whole number ≥ 1', () => {
    assert.throws(() => new MirrorAdmission({ maxMirrors: 0 }), /maxMirrors/);
    assert.throws(() => new MirrorAdmission({ maxMirrors: 1.5 }), /maxMirrors/);
  });
});
