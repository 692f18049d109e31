/**
 * MirrorAdmission: web mode's places for mirrors (issue 23, "web mode is fair"). Every run of a
 * MirrorSession takes a place before it asks the media server for anything and gives it back
 * only once its pipeline is released, so what the media server holds for this app is bounded by
 * `maxMirrors` at every moment, whatever the pages do.
 *
 * - A place whose camera video has not reached the media server `startMediaMs` after it was
 *   taken (or whose video stopped that long ago) is ended: a socket that sends `start` and then
 *   nothing holds a place for 20 s at most.
 * - All places taken: a newcomer pushes out the oldest place that never had video (a real
 *   visitor's video flows within a second of its start, so only idle starts are that old) and
 *   takes it once it is released; places whose ICE connected (a real peer answered the media
 *   server's checks) go only after every place that did not get that far, and among those the
 *   one pushed out belongs to the address holding the most places: a flood from one address
 *   pushes out its own starts, not another visitor's. If every place has (had) video, the
 *   newcomer is refused: "busy, try again in a moment". So a flood of idle starts never keeps a
 *   visitor out, and the running mirrors are never touched. (Visitors behind one NAT share an
 *   address, and there the oldest start goes.)
 *
 * The texts are written for the page (the renderer shows its own for the codes, the tutorial
 * page shows these).
 */
import { MIRROR_ADMISSION } from '../defaults.js';
import { MirrorError } from '../problems.js';

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

export const ADMISSION_TEXT = {
  // busy
  full: (max: number) => `The mirror is busy: ${max === 1 ? 'a mirror is' : `${max} mirrors are`} running, as many as this server takes at once. Try again in a moment.`,
  rush: () => 'The mirror is busy: other visitors are starting theirs right now. Try again in a moment.',
  tooFast: () => 'The mirror is busy: too many mirrors were started from your network just now. Try again in a moment.',
  pushedOut: () => 'The mirror is busy: your camera’s video had not started yet and another visitor needed the place. Try again in a moment.',
  // no-media
  noMediaAtStart: (ms: number) => `No video from your camera reached the media server within ${seconds(ms)} of starting, so the mirror was stopped. Start it again.`,
  mediaStopped: (ms: number) => `No video from your camera has reached the media server for ${seconds(ms)}, so the mirror was stopped. Start it again.`,
} as const;

export interface MirrorAdmissionOptions {
  /** Places, starting or running (default: MIRROR_ADMISSION.mirrorsPerServer). */
  maxMirrors?: number;
  /** How long a place waits for camera video (default 20 s). */
  startMediaMs?: number;
  /** Starts one address may make at once, and then per second (defaults: MIRROR_ADMISSION). */
  startBurstPerAddress?: number;
  startsPerSecondPerAddress?: number;
  log?: (line: string) => void;
}

/** One run's place. */
export interface AdmissionTicket {
  /** Camera video reaches (true) or no longer reaches (false) the media server. */
  media(flowing: boolean): void;
  /** ICE connected: a real peer is at the other end (pushed out only after the starts that are not). */
  iceConnected(): void;
  /** The run is over and its pipeline released: the place is free. Idempotent. */
  release(): void;
}

/** A newcomer promised the next place freed. */
interface Waiter {
  end: (err: MirrorError) => void;
  from: string;
  resolve: (ticket: AdmissionTicket) => void;
  reject: (err: MirrorError) => void;
}

interface Place {
  readonly since: number;
  /** The page socket's remote address ('' unknown): places are pushed out from the busiest one. */
  readonly from: string;
  /** Camera video has reached the media server at least once: never pushed out. */
  hadMedia: boolean;
  iceConnected: boolean;
  /** Asked to end (pushed out or timed out): its release is awaited. */
  ending: boolean;
  timer?: NodeJS.Timeout;
  readonly end: (err: MirrorError) => void;
}

export class MirrorAdmission {
  readonly maxMirrors: number;
  readonly startMediaMs: number;
  readonly #log: (line: string) => void;
  readonly #places = new Set<Place>();
  readonly #starts: StartRate;
  /** Newcomers whose place is being freed (a place was asked to end for each), first come first served. */
  readonly #waiting: Waiter[] = [];

  constructor(options: MirrorAdmissionOptions = {}) {
    this.maxMirrors = options.maxMirrors ?? MIRROR_ADMISSION.mirrorsPerServer;
    this.startMediaMs = options.startMediaMs ?? MIRROR_ADMISSION.startMediaMs;
    if (!(Number.isInteger(this.maxMirrors) && this.maxMirrors >= 1)) throw new Error(`maxMirrors must be a whole number ≥ 1, not ${this.maxMirrors}`);
    this.#log = options.log ?? (() => {});
    this.#starts = new StartRate(
      options.startBurstPerAddress ?? MIRROR_ADMISSION.startBurstPerAddress,
      options.startsPerSecondPerAddress ?? MIRROR_ADMISSION.startsPerSecondPerAddress,
    );
  }

  /** Places taken (including those being freed). */
  get taken(): number {
    return this.#places.size;
  }

  /**
   * A place for a new run, once there is one; rejects with a 'busy' MirrorError when every
   * place has a mirror with video. `end` is called (once) when the run must stop: no video in
   * time, or pushed out for a newcomer; the run then ends and calls release().
   */
  admit(end: (err: MirrorError) => void, from = ''): Promise<AdmissionTicket> {
    if (!this.#starts.take(from)) {
      this.#log(`starts from ${from || '(unknown address)'} come faster than the rate allowed: one told to try again`);
      return Promise.reject(new MirrorError('busy', ADMISSION_TEXT.tooFast()));
    }
    // (Newcomers wait only while every place is taken: a released place goes to them first.)
    if (this.#places.size < this.maxMirrors) return Promise.resolve(this.#take(end, from));
    const places = [...this.#places]; // a Set iterates in insertion order: oldest first
    const unclaimed = places.filter((p) => p.ending).length - this.#waiting.length;
    if (unclaimed <= 0) {
      const oldest = this.#toPushOut(places.filter((p) => !p.hadMedia && !p.ending && !p.iceConnected))
        ?? this.#toPushOut(places.filter((p) => !p.hadMedia && !p.ending));
      // Every place being freed is promised already: the promise of the address holding the most
      // goes to this newcomer instead, if this newcomer's address holds fewer.
      const held = this.#holdings();
      const rival = oldest ? undefined : this.#waiting.reduce<Waiter | undefined>((best, w) => (!best || held.get(w.from)! > held.get(best.from)! ? w : best), undefined);
      if (rival && held.get(rival.from)! > (held.get(from) ?? 0) + 1) {
        this.#waiting.splice(this.#waiting.indexOf(rival), 1);
        this.#log(`a place promised to a newcomer from ${rival.from || '(unknown)'} (holding ${held.get(rival.from)}) goes to one from ${from || '(unknown)'}`);
        rival.reject(new MirrorError('busy', ADMISSION_TEXT.pushedOut()));
      } else if (!oldest) {
        // Every place has (had) video, or is already being freed for an earlier newcomer.
        const running = places.every((p) => p.hadMedia);
        this.#log(`all ${this.maxMirrors} mirror places ${running ? 'have running mirrors' : 'are running or promised to newcomers'}: a newcomer is told to try again`);
        return Promise.reject(new MirrorError('busy', running ? ADMISSION_TEXT.full(this.maxMirrors) : ADMISSION_TEXT.rush()));
      }
      if (oldest) {
        this.#log(`all ${this.maxMirrors} mirror places taken: ending the oldest start without video (${((Date.now() - oldest.since) / 1000).toFixed(1)} s old) for a newcomer`);
        this.#end(oldest, new MirrorError('busy', ADMISSION_TEXT.pushedOut()));
      }
    }
    // The place being freed goes to this newcomer (first come, first served) the moment it is released.
    return new Promise((resolve, reject) => this.#waiting.push({ end, from, resolve, reject }));
  }

  /** Places and promised places per address. */
  #holdings(): Map<string, number> {
    const held = new Map<string, number>();
    for (const p of this.#places) held.set(p.from, (held.get(p.from) ?? 0) + 1);
    for (const w of this.#waiting) held.set(w.from, (held.get(w.from) ?? 0) + 1);
    return held;
  }

  /** Of these (oldest first), the oldest of the address that holds the most places. */
  #toPushOut(candidates: Place[]): Place | undefined {
    const held = this.#holdings();
    let chosen: Place | undefined;
    for (const p of candidates) if (!chosen || held.get(p.from)! > held.get(chosen.from)!) chosen = p;
    return chosen;
  }

  #take(end: (err: MirrorError) => void, from: string): AdmissionTicket {
    const place: Place = { since: Date.now(), from, hadMedia: false, iceConnected: false, ending: false, end };
    this.#places.add(place);
    this.#arm(place, ADMISSION_TEXT.noMediaAtStart(this.startMediaMs));
    return {
      media: (flowing) => {
        if (!this.#places.has(place) || place.ending) return;
        clearTimeout(place.timer);
        place.timer = undefined;
        if (flowing) place.hadMedia = true;
        else this.#arm(place, ADMISSION_TEXT.mediaStopped(this.startMediaMs));
      },
      iceConnected: () => void (place.iceConnected = true),
      release: () => {
        if (!this.#places.delete(place)) return;
        clearTimeout(place.timer);
        const next = this.#waiting.shift();
        if (next) next.resolve(this.#take(next.end, next.from)); // taken now, in this tick: no one else can slip in
      },
    };
  }

  #arm(place: Place, text: string): void {
    place.timer = setTimeout(() => this.#end(place, new MirrorError('no-media', text)), this.startMediaMs);
    place.timer.unref();
  }

  #end(place: Place, err: MirrorError): void {
    if (place.ending) return;
    place.ending = true;
    clearTimeout(place.timer);
    place.end(err);
  }
}

/**
 * Starts per address, as a token bucket: `burst` at once, then `perSecond`. A flood from one
 * address is then told "busy" before it costs the media server (and the CPU every mirror needs)
 * anything. Addresses not seen for a minute are forgotten; at most MAX_ADDRESSES are kept.
 */
class StartRate {
  static readonly MAX_ADDRESSES = 10_000;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly burst: number, private readonly perSecond: number) {}

  take(from: string, now = Date.now()): boolean {
    let b = this.#buckets.get(from);
    if (b) b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond);
    else {
      if (this.#buckets.size >= StartRate.MAX_ADDRESSES) this.#forget(now);
      b = { tokens: this.burst, at: now };
      this.#buckets.set(from, b);
    }
    b.at = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  #forget(now: number): void {
    for (const [k, b] of this.#buckets) if (now - b.at > 60_000) this.#buckets.delete(k);
    // Still full (a flood of distinct addresses): the oldest go.
    for (const k of this.#buckets.keys()) {
      if (this.#buckets.size < StartRate.MAX_ADDRESSES) break;
      this.#buckets.delete(k);
    }
  }
}
