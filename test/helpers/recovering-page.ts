/**
 * A Node-side kiosk page: the tutorial's page (TutorialPage + a wrtc FakeCameraPeer) driven by
 * the same RecoveryController the real page uses in kiosk mode (common/recovery.ts). Each
 * attempt is a new camera peer and a new `start` on the same link, as the page does after
 * "Try again"; the link itself (a MirrorSession in tests) lives on. An error that says another
 * media server can take the mirror (`retry`, a pool) starts a new attempt at once, as MirrorApp does.
 *
 *   const page = new RecoveringPage((m) => void session.handle(parseClientMessage(JSON.stringify(m))!));
 *   // session's send: (m) => page.receive(m)
 *   page.begin();
 *   await page.waitLive(1);          // frames flowing on attempt 1
 *   …break something…
 *   await page.waitLive(2, 60_000);  // flowing again on a later attempt
 *   await page.close();
 */
import type { ServerMessage } from '../../common/mirror-protocol.js';
import { RecoveryController } from '../../common/recovery.js';
import { FakeCameraPeer } from './fake-camera-peer.js';
import { TutorialPage } from './tutorial-page.js';

/** Distinct frame counters that count as "frames flowing" on an attempt. */
const LIVE_FRAMES = 10;

export class RecoveringPage {
  readonly recovery: RecoveryController;
  /** What happened, with performance.now() times: 'start #n', 'live #n', 'stopped <problem>'. */
  readonly log: { t: number; what: string }[] = [];
  #attempt = 0;
  #page?: TutorialPage;
  #peer?: FakeCameraPeer;
  /** Attempt numbers that went live, and when. */
  readonly #live = new Map<number, number>();
  readonly #waiters = new Set<() => void>();
  #stoppedThisAttempt = false;
  #oldRunStopped = false;
  #closed = false;

  constructor(private readonly link: (message: object) => void) {
    this.recovery = new RecoveryController(
      { restart: () => this.#startAttempt() },
      { now: () => Date.now(), setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) },
    );
  }

  get attempt(): number {
    return this.#attempt;
  }

  begin(): void {
    this.#startAttempt();
  }

  /** Every server → page message goes here. */
  receive(message: ServerMessage): void {
    this.#page?.receive(JSON.parse(JSON.stringify(message)) as ServerMessage);
    if (message.id === 'error' && message.retry && !this.#closed) {
      // As MirrorApp does: another media server can take the mirror, so start again at once.
      this.#note(`failover ${message.code}`);
      this.#startAttempt();
      this.#oldRunStopped = true; // its 'stopped' status follows: it is the lost run's, not the new one's
    } else if (message.id === 'error') this.#stopped(message.code);
    else if (message.id === 'status' && message.status.kind === 'stopped' && this.#oldRunStopped) this.#oldRunStopped = false;
    else if (message.id === 'status' && message.status.kind === 'stopped') this.#stopped(message.status.reason);
    else if (message.id === 'status' && message.status.kind === 'problem') {
      this.#note(`problem ${message.status.problem}`);
      this.recovery.problem(message.status.problem);
    } else if (message.id === 'status' && message.status.kind === 'problem-cleared') this.recovery.problemCleared(message.status.problem);
  }

  /** Resolves with the time (performance.now()) at which an attempt ≥ `minAttempt` had frames flowing. */
  waitLive(minAttempt: number, timeoutMs = 30_000): Promise<number> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = [...this.#live.entries()].find(([a]) => a >= minAttempt);
        if (!hit) return;
        this.#waiters.delete(check);
        clearTimeout(timer);
        resolve(hit[1]);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`no attempt ≥ ${minAttempt} went live within ${timeoutMs} ms; log: ${JSON.stringify(this.log.map((e) => e.what))}`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }

  /** Stops the mirror (as the page's Stop) and releases the camera peer. */
  async close(): Promise<void> {
    this.#closed = true;
    this.recovery.dispose();
    this.link({ id: 'stop' });
    await new Promise((r) => setTimeout(r, 200));
    this.#peer?.close();
  }

  #stopped(problem: string | undefined): void {
    if (this.#stoppedThisAttempt || this.#closed) return;
    this.#stoppedThisAttempt = true;
    this.#note(`stopped ${problem}`);
    this.recovery.stopped(problem);
  }

  #startAttempt(): void {
    if (this.#closed) return;
    const attempt = ++this.#attempt;
    this.#stoppedThisAttempt = false;
    this.link({ id: 'stop' }); // what runs, if anything (the page's restart stops first too)
    this.#peer?.close();
    const peer = new FakeCameraPeer({ background: 'none', width: 320, height: 240 });
    const page = new TutorialPage(peer, this.link, { statusEvents: true });
    this.#peer = peer;
    this.#page = page;
    this.#note(`start #${attempt}`);
    void (async () => {
      await page.start();
      const answer = await page.waitFor((m) => m.id === 'startResponse' || m.id === 'error', 60_000);
      if (answer.id === 'error') return; // receive() passed it on to the recovery
      // Polled rather than peer.connected()/waitForCounters(): their timers would outlive a
      // closed attempt and keep the test process alive.
      const current = () => this.#peer === peer && !this.#closed;
      if (!(await pollUntil(() => peer.pc.connectionState === 'connected', current))) return;
      await peer.start();
      if (!(await pollUntil(() => peer.received.counters.size >= LIVE_FRAMES, current))) return;
      this.#live.set(attempt, performance.now());
      this.#note(`live #${attempt}`);
      this.recovery.live();
      for (const w of [...this.#waiters]) w();
    })().catch((err: Error) => {
      if (this.#peer === peer && !this.#closed) this.#note(`attempt #${attempt} did not go live: ${err.message.slice(0, 120)}`);
    });
  }

  #note(what: string): void {
    this.log.push({ t: performance.now(), what });
  }
}

/** Polls every 50 ms until cond() holds (true) or the attempt is over (false). */
async function pollUntil(cond: () => boolean, alive: () => boolean): Promise<boolean> {
  while (alive()) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
