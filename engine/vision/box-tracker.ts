/**
 * Carries face boxes from one detection to the next so hats neither jitter nor blink:
 * each detection is matched to the face it continues, boxes are smoothed exponentially, and a
 * face survives a few detections that miss it.
 *
 * Fed every frame (`follow`), it also moves each face with the picture between detections
 * (face-motion.ts), and a detection — which arrives frames after the frame it was run on — is
 * first moved on by how far its face has moved since that frame. Where detections carry the
 * head's roll, `follow` also turns it with the picture (face-motion.ts faceTurn), and a
 * detection's roll is moved on by the turn since its frame, the same way. Without `follow` the
 * boxes stand still between detections. A detection overlapping a face already followed is no
 * new face.
 */
import type { VideoFrame } from '../media/frames.js';
import type { EyeLine, FaceBox } from './face-detector.js';
import { faceShift, faceTurn, halfLuma, lumaNeeded, searchFor, type Luma, type Rect } from './face-motion.js';

export interface TrackerOptions {
  /** Weight of a new detection in the running average, in (0, 1]; 1 = no smoothing. */
  smoothing?: number;
  /** Consecutive detections a face may be missing from before it is dropped. */
  maxMissed?: number;
  /** A detection continues a face if their centres are closer than this × the larger side. */
  maxJump?: number;
}

interface Track {
  /** FaceBox.face: numbered as faces appear. */
  id: number;
  x: number;
  y: number;
  width: number;
  height: number;
  missed: number;
  /**
   * The head's roll when detections carry it: an alpha-beta filter over the detections' rolls,
   * as of time rollAt (ms), turning at rollRate degrees a millisecond. Where the picture shows
   * the turn (turnSeen), `follow` turns it frame by frame and the rate is not used; elsewhere
   * (no texture to match) the boxes extrapolate it to now by the rate.
   */
  rollDeg?: number;
  /** The eyes relative to the box (smoothed like it), when detections carry them. */
  eyes?: EyeLine;
  rollAt: number;
  rollRate: number;
  /** Whether the last frame's turn was measured from the picture (faceTurn): the roll is then carried by it, not extrapolated. */
  turnSeen: boolean;
  /** The frame the turn is measured from (followTurn). */
  turnRef?: TurnRef;
  /** The whole degree last drawn: on a still head it changes only once the roll is SHOWN_ROLL_STEP away, so the hat does not flicker between two. */
  shownRoll?: number;
  /** The last frame's move, where the next search starts. */
  dx: number;
  dy: number;
  /** Where the track's centre was moved by `follow`, summed, as of each recent frame (by seq % HISTORY). */
  movedX: Float64Array;
  movedY: Float64Array;
  /** The same for the roll measured by `follow` (degrees). */
  turned: Float64Array;
  seqs: Int32Array;
}

/** Frames of motion kept per face: a detection older than this is not moved on (2 s at 30 fps). */
const HISTORY = 64;
/**
 * The roll filter's gains (angle, rate), its fastest turn and longest extrapolation: in time,
 * not frames, so a machine that drops frames does not make it overshoot.
 */
const ROLL_ALPHA = 0.8;
const ROLL_BETA = 0.5;
const MAX_ROLL_RATE = 0.1; // 100°/s
const MAX_ROLL_AHEAD_MS = 200;
/** Rates below this (deg/ms: 5°/s) are the detections' noise on a still head. */
const MIN_ROLL_RATE = 0.005;
const SHOWN_ROLL_STEP = 0.8;

function rollAt(t: Track, atMs: number): number | undefined {
  if (t.rollDeg === undefined) return undefined;
  if (t.turnSeen) return t.rollDeg;
  const rate = Math.abs(t.rollRate) < MIN_ROLL_RATE ? 0 : t.rollRate;
  return t.rollDeg + rate * Math.min(MAX_ROLL_AHEAD_MS, Math.max(0, atMs - t.rollAt));
}

/** A detection's roll, measured on a frame seen at atMs, into the track's filter. */
function updateRoll(t: Track, rollDeg: number | undefined, atMs: number): void {
  const predicted = rollAt(t, atMs);
  if (rollDeg === undefined || predicted === undefined) {
    Object.assign(t, { rollDeg, rollRate: 0, rollAt: atMs });
    return;
  }
  const innovation = rollDeg - predicted;
  t.rollDeg = predicted + ROLL_ALPHA * innovation;
  // A detection of a frame older than the last one corrects the angle only.
  const dt = atMs - t.rollAt;
  if (dt <= 0) return;
  t.rollRate = Math.max(-MAX_ROLL_RATE, Math.min(MAX_ROLL_RATE, t.rollRate + (ROLL_BETA * innovation) / dt));
  t.rollAt = atMs;
}

/** A detection that covers more than this share of a followed face's box (or it of the detection's) is no new face. */
const NEW_FACE_MAX_OVERLAP = 0.25;
/** An unmatched detection within this many face widths of an unmatched track is that face, found again. */
const SNAP_DISTANCE = 2;
/** Moves below this (frame px) are codec noise on a still face, not motion. */
const STILL_PX = 0.35;

function newTrack(b: FaceBox, id: number, seq: number, atMs: number): Track {
  const t: Track = {
    id,
    x: b.x, y: b.y, width: b.width, height: b.height, rollDeg: b.rollDeg, eyes: b.eyes && { ...b.eyes }, rollAt: atMs, rollRate: 0, turnSeen: false, missed: 0, dx: 0, dy: 0,
    movedX: new Float64Array(HISTORY), movedY: new Float64Array(HISTORY), turned: new Float64Array(HISTORY), seqs: new Int32Array(HISTORY).fill(-1),
  };
  t.seqs[seq % HISTORY] = seq;
  return t;
}

/**
 * The turn is measured from a reference frame, not from the previous one: sub-pixel matching is
 * biased by a few hundredths of a pixel (0.3° a frame between two identical frames), which
 * frame-to-frame sums would turn into a drifting hat. Against a reference the bias is paid once
 * per reference; a new one is taken every REF_FRAMES frames (or REF_MS), or when the old one cannot be matched.
 */
interface TurnRef {
  luma: Luma;
  seq: number;
  /** When the reference frame was followed (ms). */
  at: number;
  /** The face's box on the reference frame, and how far it had moved (movedX/Y) by then. */
  box: Rect;
  mx: number;
  my: number;
  /** The turn from the reference to the last frame measured. */
  turn: number;
}
const REF_FRAMES = 10;
/** …or every REF_MS, on a machine that drops frames: the search must still reach the turned cheeks. */
const REF_MS = 1000 / 3;
/** Turns from the reference below this (degrees) are the matching's bias on a still head, not a turn. */
const STILL_TURN_DEG = 0.6;
/** Half-res px around the face's move: a head turning 100°/s for REF_FRAMES moves its cheeks ~3 half-res px. */
const REF_TURN_SEARCH = 4;

/** This frame's turn of t's face (degrees; null where it could not be measured), moving its reference on when due. */
function followTurn(t: Track, cur: Luma, seq: number, atMs: number, mx: number, my: number): number | null {
  const ref = t.turnRef;
  let turn: number | null = null;
  if (ref) {
    const since = faceTurn(ref.luma, cur, ref.box, { dx: mx - ref.mx, dy: my - ref.my }, REF_TURN_SEARCH);
    if (since !== null) {
      // Less than the matching's bias from the reference is a still head.
      const seen = Math.abs(since) < STILL_TURN_DEG ? 0 : since;
      turn = seen - ref.turn;
      ref.turn = seen;
    }
  }
  if (!ref || turn === null || seq - ref.seq >= REF_FRAMES || atMs - ref.at >= REF_MS) {
    const data = ref && ref.luma.data.length === cur.data.length ? ref.luma.data : new Uint8Array(cur.data.length);
    data.set(cur.data);
    t.turnRef = { luma: { width: cur.width, height: cur.height, data, valid: { ...cur.valid } }, seq, at: atMs, box: { x: t.x, y: t.y, width: t.width, height: t.height }, mx, my, turn: 0 };
  }
  return turn;
}

/** How far `t` moved and turned since frame `seq` (zero if that frame is not in its history). */
function movedSince(t: Track, seq: number, now: number): { dx: number; dy: number; turn: number } {
  const i = seq % HISTORY;
  const j = now % HISTORY;
  if (seq < 0 || t.seqs[i] !== seq || t.seqs[j] !== now) return { dx: 0, dy: 0, turn: 0 };
  return { dx: t.movedX[j]! - t.movedX[i]!, dy: t.movedY[j]! - t.movedY[i]!, turn: t.turned[j]! - t.turned[i]! };
}

export class BoxTracker {
  private tracks: Track[] = [];
  /** Faces seen so far (the next track's id). */
  private faces = 0;
  /** Frames seen by `follow`; a detection's seq says which one it ran on. */
  private seq = 0;
  private prevLuma: Luma | undefined;
  /** When the previous frame was followed (ms), and the gap before it. */
  private prevAt = 0;
  private prevGap = 1000 / 30;
  /** When each recent frame was followed (by seq % HISTORY). */
  private readonly frameTimes = new Float64Array(HISTORY);
  private readonly frameSeqs = new Int32Array(HISTORY).fill(-1);
  private spareLuma: Luma | undefined;
  private readonly smoothing: number;
  private readonly maxMissed: number;
  private readonly maxJump: number;

  constructor(options: TrackerOptions = {}) {
    this.smoothing = options.smoothing ?? 0.5;
    this.maxMissed = options.maxMissed ?? 3;
    this.maxJump = options.maxJump ?? 0.6;
    if (!(this.smoothing > 0 && this.smoothing <= 1)) throw new RangeError(`smoothing must be in (0, 1], got ${this.smoothing}`);
  }

  /** When frame seq was followed (now, for a frame no longer in the history or never followed). */
  private timeOf(seq: number): number {
    return this.frameSeqs[seq % HISTORY] === seq ? this.frameTimes[seq % HISTORY]! : performance.now();
  }

  /**
   * Moves every face with the picture from the previous frame to this one; returns this frame's
   * seq, to be given back to `update` with the detection run on it.
   */
  follow(frame: VideoFrame, atMs = performance.now()): number {
    const seq = ++this.seq;
    this.frameTimes[seq % HISTORY] = atMs;
    this.frameSeqs[seq % HISTORY] = seq;
    if (this.tracks.length === 0) {
      this.prevLuma = undefined;
      this.prevAt = atMs;
      return seq;
    }
    const gap = Math.max(1, atMs - this.prevAt);
    const search = searchFor(gap);
    // The last move, scaled to this frame's gap, is where the search starts.
    const scale = Math.min(4, gap / this.prevGap);
    const cur = halfLuma(frame, union(this.tracks.map((t) => lumaNeeded(t, { dx: t.dx * scale, dy: t.dy * scale }, search))), this.spareLuma);
    const prev = this.prevLuma;
    this.prevAt = atMs;
    this.prevGap = gap;
    for (const t of this.tracks) {
      const last = (seq - 1) % HISTORY;
      const had = t.seqs[last] === seq - 1;
      let mx = had ? t.movedX[last]! : 0;
      let my = had ? t.movedY[last]! : 0;
      let turned = had ? t.turned[last]! : 0;
      const shift = prev ? faceShift(prev, cur, t, { dx: t.dx * scale, dy: t.dy * scale }, search) : null;
      if (shift && Math.hypot(shift.dx, shift.dy) >= STILL_PX) {
        t.x += shift.dx;
        t.y += shift.dy;
        mx += shift.dx;
        my += shift.dy;
        t.dx = shift.dx;
        t.dy = shift.dy;
      } else {
        t.dx = t.dy = 0;
      }
      // The head's turn, where the hat tilts with it: measured every frame, so the tilt does not wait for detections.
      const turn = t.rollDeg !== undefined ? followTurn(t, cur, seq, atMs, mx, my) : null;
      t.turnSeen = turn !== null;
      if (turn !== null) {
        t.rollDeg! += turn;
        turned += turn;
      }
      const i = seq % HISTORY;
      t.movedX[i] = mx;
      t.movedY[i] = my;
      t.turned[i] = turned;
      t.seqs[i] = seq;
    }
    this.spareLuma = prev;
    this.prevLuma = cur;
    return seq;
  }

  /**
   * Feeds one detection's result (call once per completed detection); returns the current boxes.
   * `seq` (from `follow`) is the frame it ran on: each face it matches is compared as of that
   * frame, and corrected as of now.
   */
  update(detections: readonly FaceBox[], seq = this.seq): FaceBox[] {
    const moved = this.tracks.map((t) => movedSince(t, seq, this.seq));
    // Greedy matching, closest pairs first: a handful of faces at most, so O(n·m log) is nothing.
    const pairs: Array<{ t: number; d: number; dist: number }> = [];
    this.tracks.forEach((track, t) => detections.forEach((det, d) => {
      const then = { ...track, x: track.x - moved[t]!.dx, y: track.y - moved[t]!.dy };
      const dist = centreDistance(then, det) / Math.max(track.width, track.height, det.width, det.height);
      if (dist < this.maxJump) pairs.push({ t, d, dist });
    }));
    pairs.sort((a, b) => a.dist - b.dist);
    const trackHit = new Set<number>();
    const detUsed = new Set<number>();
    const a = this.smoothing;
    for (const { t, d } of pairs) {
      if (trackHit.has(t) || detUsed.has(d)) continue;
      trackHit.add(t);
      detUsed.add(d);
      const track = this.tracks[t]!;
      const det = detections[d]!;
      // Centres and sizes are smoothed apart, so a size change does not drag the centre.
      const cx = det.x + det.width / 2 + moved[t]!.dx;
      const cy = det.y + det.height / 2 + moved[t]!.dy;
      const tcx = track.x + track.width / 2 + a * (cx - (track.x + track.width / 2));
      const tcy = track.y + track.height / 2 + a * (cy - (track.y + track.height / 2));
      track.width += a * (det.width - track.width);
      track.height += a * (det.height - track.height);
      track.x = tcx - track.width / 2;
      track.y = tcy - track.height / 2;
      this.correctRoll(track, det, moved[t]!.turn, seq);
      track.eyes = smoothEyes(track.eyes, det.eyes, a);
      track.missed = 0;
    }
    // A detection near no face's track, but near an unmatched one, is that face lost by the
    // motion search (too far between two frames, e.g. at a few fps under load): the track jumps
    // to it, rather than leaving a second hat behind for maxMissed detections.
    detections.forEach((det, d) => {
      if (detUsed.has(d)) return;
      const lost = this.tracks.findIndex((track, t) => !trackHit.has(t) && centreDistance(track, det) < SNAP_DISTANCE * Math.max(track.width, det.width));
      if (lost < 0) return;
      const track = this.tracks[lost]!;
      Object.assign(track, { x: det.x, y: det.y, width: det.width, height: det.height, eyes: det.eyes && { ...det.eyes }, missed: 0, dx: 0, dy: 0 });
      this.correctRoll(track, det, moved[lost]!.turn, seq);
      trackHit.add(lost);
      detUsed.add(d);
    });
    // Where every face was on the detection's frame, to tell a new face from another find of one already followed.
    const then = this.tracks.map((track, t) => ({ ...track, x: track.x - moved[t]!.dx, y: track.y - moved[t]!.dy }));
    this.tracks = this.tracks.filter((track, t) => trackHit.has(t) || ++track.missed <= this.maxMissed);
    detections.forEach((det, d) => {
      if (detUsed.has(d)) return;
      // Overlapping a face already followed, it is that face found twice, or a "face" made of two
      // faces' halves where one stands above the other (TinyFaceDetector finds one there): no hat.
      if (then.some((box) => overlapOfSmaller(box, det) > NEW_FACE_MAX_OVERLAP)) return;
      this.tracks.push(newTrack(det, this.faces++, this.seq, this.timeOf(seq)));
    });
    return this.boxes;
  }

  /**
   * A detection's roll (of frame seq) into its face's: moved on by the turn measured since then
   * where the picture shows it, else as of that frame, for the filter to extrapolate.
   */
  private correctRoll(track: Track, det: FaceBox, turnedSince: number, seq: number): void {
    if (track.turnSeen && det.rollDeg !== undefined) updateRoll(track, det.rollDeg + turnedSince, this.timeOf(this.seq));
    else updateRoll(track, det.rollDeg, this.timeOf(seq));
  }

  /**
   * The current boxes, in whole pixels (as OpenCV's rects are), oldest face first; rolls in whole
   * degrees, with hysteresis (read once per frame drawn).
   */
  get boxes(): FaceBox[] {
    return this.tracks.map((t) => {
      const box: FaceBox = { x: Math.round(t.x), y: Math.round(t.y), width: Math.round(t.width), height: Math.round(t.height), face: t.id };
      if (t.eyes) box.eyes = { ...t.eyes };
      const roll = rollAt(t, this.timeOf(this.seq));
      if (roll === undefined) return box;
      const turning = Math.abs(t.rollRate) >= MIN_ROLL_RATE;
      if (turning || t.shownRoll === undefined || Math.abs(roll - t.shownRoll) >= SHOWN_ROLL_STEP) t.shownRoll = Math.round(roll);
      box.rollDeg = t.shownRoll;
      return box;
    });
  }
}

/** A detection's eyes into the track's, with the boxes' smoothing (a detection without them clears them). */
function smoothEyes(track: EyeLine | undefined, det: EyeLine | undefined, a: number): EyeLine | undefined {
  if (!det) return undefined;
  if (!track) return { ...det };
  return { x: track.x + a * (det.x - track.x), y: track.y + a * (det.y - track.y), span: track.span + a * (det.span - track.span) };
}

function centreDistance(a: FaceBox, b: FaceBox): number {
  return Math.hypot(a.x + a.width / 2 - (b.x + b.width / 2), a.y + a.height / 2 - (b.y + b.height / 2));
}

/** Their intersection's area over the smaller box's. */
function overlapOfSmaller(a: Rect, b: Rect): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? (w * h) / Math.min(a.width * a.height, b.width * b.height) : 0;
}

function union(rects: readonly Rect[]): Rect {
  const x = Math.min(...rects.map((r) => r.x));
  const y = Math.min(...rects.map((r) => r.y));
  return { x, y, width: Math.max(...rects.map((r) => r.x + r.width)) - x, height: Math.max(...rects.map((r) => r.y + r.height)) - y };
}
