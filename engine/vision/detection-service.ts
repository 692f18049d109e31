/**
 * One face detector for the whole engine process, shared fairly by every FaceOverlayFilter.
 *
 * Detection is the costly part of the mirror (tens of ms of a core per detection); on a
 * 2-core machine one worker thread is what the machine allows next to the video work. Each
 * filter offers its newest frame; whenever the worker is free it takes the next filter in
 * turn (round robin) that has a frame waiting, so N sessions each get about 1/N of the
 * detections and none starves. A filter gets at most `maxPerSecond` detections: more would
 * only move the hat by sub-pixel amounts while taking CPU from the video.
 *
 * Budget (detector-budget.ts): all filters together keep the detector busy for at most a
 * share of the time that shrinks while the machine has no CPU to spare (after a detection
 * that took d ms, the next starts ≥ d·(1 − duty)/duty ms later). d is wall time, so on a
 * machine short of CPU detections also get slower and therefore rarer. Exempt: a filter's
 * first detection (a new session's hat does not wait behind the others' budget), one whose
 * last started MAX_INTERVAL_MS ago, and one the filter's tracker asked for (box-tracker.ts
 * wantsDetection: a face lost by the motion search, one just gone, frames far apart), at most
 * one every URGENT_MIN_MS per filter: under overload a lost face is found again within a
 * detection or two, at the cost of some of the video's CPU (issue 25: a slower mirror, never a
 * hat beside the face).
 */
import { i420Size, type VideoFrame } from '../media/frames.js';
import { DEFAULT_BUDGET, DetectorBudget, SAMPLE_MS, type BudgetOptions } from './detector-budget.js';
import { wantsDetection } from './box-tracker.js';
import { DETECT_MAX_WIDTH, FaceDetector, type FaceBox } from './face-detector.js';

export interface DetectionClient {
  /** Called with each finished detection, with the tag of the frame it ran on. */
  onFaces(boxes: FaceBox[], tag: number): void;
  /** Called when detection cannot run (the model failed to load, the worker died). */
  onDetectionError(message: string): void;
}

interface Entry {
  frame?: VideoFrame;
  tag: number;
  landmarks: boolean;
  lastStart: number;
  /** The offered frame's tracker asked for a detection (outside the budget). */
  urgent: boolean;
}

export const DEFAULT_MAX_DETECTIONS_PER_SECOND = 15;
/**
 * However busy the machine, each filter is looked at again within this long (its frames
 * permitting): the tracker moves hats with faces, but only a detection sees a face arrive or
 * leave.
 */
export const MAX_INTERVAL_MS = 2000;
/** A detection a tracker asks for starts at most this often per filter, budget or not. */
export const URGENT_MIN_MS = 200;
const RETRY_AFTER_FAILURE_MS = 5000;
/** Inferences run by warmUp (the first two are the slow ones). */
const WARM_UP_INFERENCES = 2;

export class DetectionService {
  private detector?: Promise<FaceDetector>;
  private readonly clients = new Map<DetectionClient, Entry>();
  private inFlight = false;
  private closed = false;
  /** The budget: no detection starts before this time. */
  private idleUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private readonly budget: DetectorBudget;
  /** Samples the machine's load for the budget while some filter is registered. */
  private sampler: NodeJS.Timeout | undefined;
  /** After a failure, no new worker before this time (a broken install must not spin). */
  private retryAt = 0;
  /** Totals since start, for stats and benchmarks. */
  readonly stats = { detections: 0, totalMs: 0 };
  /** 'ready' once warmUp (or a first detection) has run the model; 'failed' if it could not. */
  state: 'cold' | 'warming' | 'ready' | 'failed' = 'cold';

  constructor(
    private readonly maxPerSecond = DEFAULT_MAX_DETECTIONS_PER_SECOND,
    budget: BudgetOptions = DEFAULT_BUDGET,
  ) {
    this.budget = new DetectorBudget(budget);
  }

  /**
   * Starts the worker, loads the model and runs detections on a blank frame, ahead of the first
   * real frame: a tfjs-wasm model's first inferences also compile and allocate (measured on 2
   * busy cores: model 1.4 s, 1st inference 0.8 s, 2nd 0.4 s, then ~0.07 s), which would
   * otherwise delay the first session's first hats. Real frames offered meanwhile wait.
   */
  warmUp(): void {
    if (this.detector || this.closed) return;
    this.inFlight = true;
    this.state = 'warming';
    const [width, height] = [DETECT_MAX_WIDTH, (DETECT_MAX_WIDTH * 3) / 4];
    const blank: VideoFrame = { width, height, data: new Uint8Array(i420Size(width, height)).fill(128) };
    void this.ensureDetector()
      .then(async (detector) => {
        for (let i = 0; i < WARM_UP_INFERENCES; i++) await detector.detect(blank);
        this.state = 'ready';
      })
      .catch(() => {
        this.state = 'failed';
        this.detector = undefined; // the first real frame tries again and reports the failure
      })
      .finally(() => {
        this.inFlight = false;
        this.pump();
      });
  }

  /**
   * Offers a client's newest frame, with a tag that comes back with its result; the previous
   * one it offered, if not yet taken, is dropped. `landmarks`: also find each face's roll.
   * `urgent`: run it outside the budget (by default, when the frame's tracker asked for it).
   */
  offer(client: DetectionClient, frame: VideoFrame, tag = 0, landmarks = false, urgent = wantsDetection(frame)): void {
    if (this.closed) return;
    let entry = this.clients.get(client);
    if (!entry) this.clients.set(client, (entry = { lastStart: 0, tag, landmarks, urgent }));
    this.sampler ??= setInterval(() => this.budget.sample(), SAMPLE_MS).unref();
    entry.frame = frame;
    entry.tag = tag;
    entry.landmarks = landmarks;
    entry.urgent = urgent;
    this.pump();
  }

  /** The share of the time the detector may be busy now, for the filters registered. */
  get duty(): number {
    return this.budget.dutyFor(this.clients.size);
  }

  forget(client: DetectionClient): void {
    this.clients.delete(client);
    if (this.clients.size === 0) {
      clearInterval(this.sampler);
      this.sampler = undefined;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.clients.clear();
    clearTimeout(this.timer);
    clearInterval(this.sampler);
    const detector = await this.detector?.catch(() => undefined);
    await detector?.close();
  }

  private ensureDetector(): Promise<FaceDetector> {
    this.detector ??= FaceDetector.create();
    return this.detector;
  }

  /** Starts the next detection if the worker is free, the budget allows and some client is due. */
  private pump(): void {
    const now = performance.now();
    if (this.inFlight || this.closed || now < this.retryAt) return;
    const waiting = [...this.clients].filter(([, e]) => e.frame);
    if (!waiting.length) return;
    const minGap = 1000 / this.maxPerSecond;
    // The budget never holds back a filter's first detection (its hat appears as soon as it
    // can), nor one whose last is MAX_INTERVAL_MS old (a face that came or went is seen), nor
    // one its tracker asked for (URGENT_MIN_MS after its last).
    const overdue = (e: Entry) => e.lastStart === 0 || now - e.lastStart >= MAX_INTERVAL_MS || (e.urgent && now - e.lastStart >= URGENT_MIN_MS);
    // Round robin: of the clients due, the one served longest ago (a new client first); while the
    // budget holds detections back, only those it does not hold back.
    const resting = now < this.idleUntil;
    const due = waiting
      .filter(([, e]) => now - e.lastStart >= minGap && (!resting || overdue(e)))
      .reduce<(typeof waiting)[number] | undefined>((a, b) => (a && a[1].lastStart <= b[1].lastStart ? a : b), undefined);
    if (!due) {
      // Clients waiting on their rate limit or on the budget get their turn when it expires.
      const nextDue = Math.min(...waiting.map(([, e]) => e.lastStart + minGap));
      const deadline = Math.min(...waiting.map(([, e]) => e.lastStart + (e.urgent ? Math.max(minGap, URGENT_MIN_MS) : MAX_INTERVAL_MS)));
      return this.pumpAt(Math.min(Math.max(nextDue, this.idleUntil), deadline));
    }
    const [client, entry] = due;
    const frame = entry.frame!;
    const { tag, landmarks } = entry;
    entry.frame = undefined;
    entry.lastStart = now;

    this.inFlight = true;
    this.ensureDetector()
      .then((detector) => detector.detect(frame, { landmarks }))
      .then(
        (boxes) => {
          const end = performance.now();
          this.state = 'ready';
          this.stats.detections++;
          this.stats.totalMs += end - now;
          this.idleUntil = end + this.budget.restMs(end - now, this.clients.size);
          if (this.clients.has(client)) client.onFaces(boxes, tag);
        },
        (err: Error) => {
          // A dead worker is not restarted by FaceDetector: start a new one for the next frame.
          this.detector = undefined;
          this.retryAt = performance.now() + RETRY_AFTER_FAILURE_MS;
          if (this.clients.has(client)) client.onDetectionError(err.message);
        },
      )
      .finally(() => {
        this.inFlight = false;
        this.pump();
      });
  }

  /** One timer at a time: pump() again at `at` (performance.now() time). */
  private pumpAt(at: number): void {
    if (this.timer && this.timerAt <= at) return; // an earlier pump will look again
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, Math.max(0, at - performance.now())).unref();
  }
}

let shared: DetectionService | undefined;
/** The engine process's detection service. */
export function detectionService(): DetectionService {
  return (shared ??= new DetectionService());
}
