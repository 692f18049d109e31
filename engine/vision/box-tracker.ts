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
 *
 * When the picture stops matching (a face faster than the search, frames far apart on a loaded
 * machine, a face turning away) the face is re-found rather than its hat left behind (issue 25):
 * - a match found on the window's border is searched again around it, and a poor match again
 *   with a window three times as wide;
 * - still poor, the face is `lost`: it coasts a few frames on its last move, and every frame it
 *   is lost asks for a detection outside the detector's budget (wantsDetection, read by
 *   detection-service.ts), as do the frames of the WATCH_MS after a face was dropped or left,
 *   and those of a face the picture alone has moved more than its width since a detection last
 *   found it (what is followed may be the picture beside the face);
 * - a detection no followed face explains takes over a face the detection did not find, however
 *   far (the face moved, the detection shows where: one hat, not a second one beside it), and
 *   is carried from its frame to now through the frames kept meanwhile (a detection that
 *   arrives 300 ms late on a face moving 700 px/s would be 200 px behind);
 * - a face whose centre leaves the frame is dropped at once, and a late detection of a face over
 *   the edge that the picture lost on the way to now starts no new one (it has left);
 * - a face that left is watched for along the edge it left by, and found by its look as it
 *   comes back, a third of it in (face-entry.ts): it is placed by its look frame by frame until
 *   90 % of it is in, and followed from there (a detection needs ~93 % of it in, and comes late).
 * Between detections each face's position (and roll) is measured from a reference frame a few
 * frames back, not summed frame to frame (PosRef, TurnRef).
 */
import type { VideoFrame } from '../media/frames.js';
import type { EyeLine, FaceBox } from './face-detector.js';
import { alongEdge, cropView, edgeOf, findEntry, lookSpan, type Edge, type FaceView } from './face-entry.js';
import { faceShift, faceTurn, halfLuma, lumaNeeded, searchFor, type Luma, type Rect, type Shift } from './face-motion.js';

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
   * A face that appeared beside others is shown once a second detection finds it: the network
   * finds a "face" in a compressed frame now and then (bench fast-h4: one on a shoulder patch in
   * ~1 run in 3, followed and shown for 0.4–0.7 s as a second hat). A first face is shown at once.
   */
  provisional: boolean;
  /** When a detection last found it (ms), and the frame that detection ran on (or, once carried to now, was placed on). */
  hitAt: number;
  hitSeq: number;
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
  /** Whether `follow` has found the face in the picture (a face on a flat picture never is: its roll is extrapolated even while lost). */
  followed: boolean;
  /** The frame the turn is measured from (followTurn). */
  turnRef?: TurnRef;
  /** The frame the position is measured from (followFromRef); dropped whenever anything but `follow` moves the box. */
  posRef?: PosRef;
  /** Its look on a recent frame where all of it was in (taken with posRef), to find it again once it has left. */
  view?: FaceView;
  /** Coming back in over the edge it left by: placed by its look (followEntering) until ENTERED of it is in, or a detection finds it. */
  entering?: Entering;
  /** The whole degree last drawn: on a still head it changes only once the roll is SHOWN_ROLL_STEP away, so the hat does not flicker between two. */
  shownRoll?: number;
  /** The last frame's move, where the next search starts. */
  dx: number;
  dy: number;
  /** When the picture stopped matching the face (ms; undefined while it matches), and the frame. */
  lostAt?: number;
  lostSeq: number;
  /** Frames it has coasted on its last move while lost. */
  coasted: number;
  /** Where the track's centre was moved by `follow`, summed, as of each recent frame (by seq % HISTORY). */
  movedX: Float64Array;
  movedY: Float64Array;
  /** The same for the roll measured by `follow` (degrees). */
  turned: Float64Array;
  seqs: Int32Array;
}

/** A face that left over an edge, watched for there until `until` (ms). */
interface Departure {
  view: FaceView;
  edge: Edge;
  /** Where along the edge it left (face-entry.ts alongEdge). */
  along: number;
  until: number;
  id: number;
  rollDeg?: number;
  eyes?: EyeLine;
}

interface Entering {
  departed: Departure;
  /** The last match's depth and position along the edge (face-entry.ts Entry). */
  depth: number;
  along: number;
  /** Frames matched, and frames running it was not. */
  frames: number;
  misses: number;
}

/**
 * An entry matched worse than this (face-entry.ts quality) is not the face: bench clip exit, a
 * third to all of the face in, matches at 0.07–0.31; the best elsewhere along the edge at ≥ 0.7.
 */
const ENTRY_MATCH = 0.4;
/** Faces watched for at once (the oldest goes). */
const MAX_DEPARTED = 4;
/** An entering face is drawn once matched on ENTRY_SHOWN frames, and dropped after ENTRY_MISSES frames running unmatched. */
const ENTRY_SHOWN = 2;
const ENTRY_MISSES = 2;
/** This share of a face in, follow's block matching takes over: the region it matches (face-motion.ts REGION_FRACTION) is in from 85 %. */
const ENTERED = 0.9;

/** Frames of motion kept per face: a detection older than this is not moved on (2 s at 30 fps). */
const HISTORY = 64;
/** Frames on which a tracker asked for a detection (see wantsDetection). */
const asked = new WeakSet<VideoFrame>();
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
  // Lost by a picture that showed it (turned away), its roll holds rather than run on by a rate the detections' noise made.
  if (t.turnSeen || (t.lostAt !== undefined && t.followed)) return t.rollDeg;
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
/** A match worse than this (faceShift quality) is searched again wider; still worse, the face is lost. */
const POOR_MATCH = 0.45;
const LOST_MATCH = 0.5;
/**
 * The wide search's cost of a change of motion (faceShift moveCost; the narrow one's is 0.25): it
 * runs where the face was not found near its predicted move, and on frames far apart the
 * prediction can be wrong by a face width (a face going up and down once a second, seen at
 * 5 fps, turns between two frames; bench/motion-replay.ts fast-d7 --every 6: p95 155 px with
 * 0.25, 3.9 px with 0.05).
 */
const WIDE_MOVE_COST = 0.05;
/** Frames a lost face moves on by its last move before it stands. */
const MAX_COAST = 3;
/** After a face was dropped (it left, or detections stopped finding it), frames ask for detections this long: it may be back. */
const WATCH_MS = 5000;
/** Frames kept for carrying a late detection to now (half-res luma, computed whole while some face is lost or watched for). */
const LUMA_FRAMES = 24;
/** Frames further apart than this ask for a detection (the picture may have changed more than the search covers). */
const LARGE_GAP_MS = 250;
/** Frames the mean frame interval is averaged over (an exponential mean: a stall counts as two intervals at most). */
const INTERVAL_FRAMES = 8;
/** A face the picture alone moved further than this (× its width) since a detection found it asks for a detection. */
const FAR_SINCE_HIT = 1;
/** A face missed by detections is kept at least this long after the last one that found it (ms). */
const KEEP_MS = 1000;

function newTrack(b: FaceBox, id: number, seq: number, atMs: number): Track {
  const t: Track = {
    id,
    x: b.x, y: b.y, width: b.width, height: b.height, rollDeg: b.rollDeg, eyes: b.eyes && { ...b.eyes }, rollAt: atMs, rollRate: 0, turnSeen: false, followed: false, missed: 0, provisional: false, hitAt: atMs, hitSeq: seq, dx: 0, dy: 0, lostSeq: -1, coasted: 0,
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
    t.turnRef = { luma: copyLuma(cur, ref?.luma), seq, at: atMs, box: { x: t.x, y: t.y, width: t.width, height: t.height }, mx, my, turn: 0 };
  }
  return turn;
}

/**
 * The position is measured from a reference frame too, for the same reason and one more: a move
 * below STILL_PX is taken for codec noise on a still face, and frame to frame that dead zone
 * also ate a slow face's motion (the turn clip sways 0.3–0.8 px a frame at 30 fps: the box fell
 * 16 px behind between two detections). Against the reference a still face stays put and a slow
 * one's move adds up until it shows.
 */
interface PosRef {
  luma: Luma;
  seq: number;
  at: number;
  /** The box on the reference frame. */
  box: Rect;
}
/** Half-res px searched around where the frame-to-frame match puts the face on the reference. */
const REF_POS_SEARCH = 2;

function newPosRef(t: Track, cur: Luma, seq: number, atMs: number): PosRef {
  return { luma: copyLuma(cur, t.posRef?.luma), seq, at: atMs, box: { x: t.x, y: t.y, width: t.width, height: t.height } };
}

/** A copy of `cur` for a reference frame, into the old reference's buffer where it is the same size. */
function copyLuma(cur: Luma, old: Luma | undefined): Luma {
  const data = old && old.data.length === cur.data.length ? old.data : new Uint8Array(cur.data.length);
  data.set(cur.data);
  return { width: cur.width, height: cur.height, data, valid: { ...cur.valid } };
}

/** This frame's move of t's face as measured from its reference frame (null where there is none or it does not match). */
function followFromRef(t: Track, cur: Luma, shift: Shift): { dx: number; dy: number } | null {
  const ref = t.posRef;
  if (!ref || ref.luma.width !== cur.width || ref.luma.height !== cur.height) return null;
  const since = faceShift(ref.luma, cur, ref.box, { dx: t.x + shift.dx - ref.box.x, dy: t.y + shift.dy - ref.box.y }, REF_POS_SEARCH);
  if (!since || since.quality > POOR_MATCH) return null;
  const still = Math.hypot(since.dx, since.dy) < STILL_PX;
  return { dx: ref.box.x + (still ? 0 : since.dx) - t.x, dy: ref.box.y + (still ? 0 : since.dy) - t.y };
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
  /** When the previous frame was followed (ms), and the gap the motion model counted before it. */
  private prevAt = 0;
  private prevGap = 1000 / 30;
  /** The mean time between frames (ms, averaged over ~INTERVAL_FRAMES). */
  private interval = 1000 / 30;
  /** When each recent frame was followed (by seq % HISTORY). */
  private readonly frameTimes = new Float64Array(HISTORY);
  private readonly frameSeqs = new Int32Array(HISTORY).fill(-1);
  private spareLuma: Luma | undefined;
  /** Recent frames' luma (newest last), for carrying a late detection to now. */
  private readonly lumas: Array<{ seq: number; at: number; luma: Luma }> = [];
  /** The last frame's size. */
  private frameW = Infinity;
  private frameH = Infinity;
  /** Until when frames ask for detections after a face was dropped (ms). */
  private watchUntil = -Infinity;
  /** Faces that left over an edge, newest last (at most MAX_DEPARTED). */
  private departures: Departure[] = [];
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
   * seq, to be given back to `update` with the detection run on it. Marks the frame when the
   * tracker wants a detection of it soon (wantsDetection).
   */
  follow(frame: VideoFrame, atMs = performance.now()): number {
    const seq = ++this.seq;
    if (this.frameW !== Infinity && (frame.width !== this.frameW || frame.height !== this.frameH)) this.resized(frame);
    this.frameW = frame.width;
    this.frameH = frame.height;
    this.frameTimes[seq % HISTORY] = atMs;
    this.frameSeqs[seq % HISTORY] = seq;
    const watching = atMs < this.watchUntil;
    const gap = Math.max(1, atMs - this.prevAt);
    // A busy engine takes its queued frames back to back (media/frame-burst.ts keeps the newest
    // two): the first of a pair waited, the second comes 1 ms after it, yet the camera took them
    // an interval apart. The motion model counts a frame one mean interval after the last, or,
    // after a gap long enough to have dropped frames in it, the gap less the wait.
    const frameGap = Math.max(this.interval, gap - this.interval);
    if (seq > 1) this.interval += (Math.min(gap, 2 * this.interval) - this.interval) / INTERVAL_FRAMES;
    if (this.tracks.length === 0) {
      // No face yet: the whole frame is kept, so the first detection (of a frame some way back) is carried to where the face is now.
      if (watching) asked.add(frame);
      const kept = halfLuma(frame, undefined, this.recycledLuma());
      this.lookForEntries(frame, kept, seq, atMs);
      this.keepLuma(seq, atMs, kept);
      this.prevLuma = kept;
      this.prevAt = atMs;
      return seq;
    }
    const search = searchFor(Math.max(gap, this.interval));
    // The last move, scaled to this frame's gap, is where the search starts.
    const scale = Math.min(4, frameGap / this.prevGap);
    // While a face is lost (or one is watched for) the whole frame is kept, so a late detection can be carried anywhere.
    const uncertain = watching || this.tracks.some((t) => t.lostAt !== undefined);
    const region = uncertain ? undefined : union(this.tracks.map((t) => lumaNeeded(t, { dx: t.dx * scale, dy: t.dy * scale }, search)));
    const cur = halfLuma(frame, region, this.recycledLuma());
    const prev = this.prevLuma;
    this.prevAt = atMs;
    this.prevGap = frameGap;
    if (uncertain || gap > LARGE_GAP_MS) asked.add(frame);
    const left: Track[] = [];
    const turnedBack: Track[] = [];
    for (const t of this.tracks) {
      const last = (seq - 1) % HISTORY;
      const had = t.seqs[last] === seq - 1;
      let mx = had ? t.movedX[last]! : 0;
      let my = had ? t.movedY[last]! : 0;
      let turned = had ? t.turned[last]! : 0;
      if (t.entering) {
        const move = this.followEntering(t, frame, cur, seq, atMs);
        if (!move) turnedBack.push(t);
        else record(t, seq, mx + move.dx, my + move.dy, turned);
        continue;
      }
      const predicted = { dx: t.dx * scale, dy: t.dy * scale };
      const shift = prev ? this.findShift(prev, cur, t, predicted, search, frame) : null;
      let move = { dx: 0, dy: 0 };
      if (shift && shift.quality <= LOST_MATCH) {
        move = followFromRef(t, cur, shift) ?? (Math.hypot(shift.dx, shift.dy) >= STILL_PX ? shift : move);
        t.coasted = 0;
        t.followed = true;
      } else if (prev) {
        // The picture no longer shows the face where it was looked for (or its region left the frame): coast, and ask.
        if (t.lostAt === undefined) Object.assign(t, { lostAt: atMs, lostSeq: seq });
        else t.lostSeq = seq;
        // Leaving the frame (its box over the edge, moving out), it coasts until it is out; elsewhere a few frames.
        const leaving = (t.x < 0 && t.dx < 0) || (t.y < 0 && t.dy < 0) || (t.x + t.width > frame.width && t.dx > 0) || (t.y + t.height > frame.height && t.dy > 0);
        if (leaving || t.coasted++ < MAX_COAST) move = predicted;
        asked.add(frame);
      } else {
        // No previous frame to match against (the resolution just changed): on by the last move.
        move = predicted;
      }
      t.x += move.dx;
      t.y += move.dy;
      if (t.lostAt !== undefined) t.posRef = undefined;
      else if (!t.posRef || seq - t.posRef.seq >= REF_FRAMES || atMs - t.posRef.at >= REF_MS) {
        t.posRef = newPosRef(t, cur, seq, atMs);
        if (!overEdge(t, frame.width, frame.height)) t.view = cropView(cur, t, t.view) ?? t.view;
      }
      mx += move.dx;
      my += move.dy;
      t.dx = move.dx;
      t.dy = move.dy;
      // The head's turn, where the hat tilts with it: measured every frame, so the tilt does not wait for detections.
      const turn = t.rollDeg !== undefined && t.lostAt === undefined ? followTurn(t, cur, seq, atMs, mx, my) : null;
      t.turnSeen = turn !== null;
      if (turn !== null) {
        t.rollDeg! += turn;
        turned += turn;
      }
      record(t, seq, mx, my, turned);
      // Followed far by the picture alone since a detection last found it: the picture next to
      // the face (a body, a photo moving with it) may be what is followed; a detection checks.
      const since = movedSince(t, t.hitSeq, seq);
      if (Math.hypot(since.dx, since.dy) > FAR_SINCE_HIT * t.width) asked.add(frame);
      // A face whose centre left the frame is gone: its hat goes with it.
      const cx = t.x + t.width / 2;
      const cy = t.y + t.height / 2;
      if (cx < 0 || cy < 0 || cx >= frame.width || cy >= frame.height) left.push(t);
    }
    if (left.length || turnedBack.length) this.tracks = this.tracks.filter((t) => !left.includes(t) && !turnedBack.includes(t));
    if (left.length) {
      for (const t of left) this.depart(t, atMs);
      this.watchUntil = atMs + WATCH_MS;
      asked.add(frame);
    }
    this.lookForEntries(frame, cur, seq, atMs);
    this.keepLuma(seq, atMs, cur);
    this.prevLuma = cur;
    return seq;
  }

  /**
   * The sender changed its resolution (a browser short of CPU sends smaller frames): the boxes
   * are scaled to the new frame, the kept frames (of the old size) dropped, and a detection asked for.
   */
  private resized(frame: VideoFrame): void {
    const kx = frame.width / this.frameW;
    const ky = frame.height / this.frameH;
    for (const t of this.tracks) {
      Object.assign(t, { x: t.x * kx, y: t.y * ky, width: t.width * kx, height: t.height * ky, dx: t.dx * kx, dy: t.dy * ky, turnRef: undefined, posRef: undefined });
      t.seqs.fill(-1);
    }
    this.lumas.length = 0;
    this.prevLuma = undefined;
    this.spareLuma = undefined;
    // Looks of the old size match nothing now.
    this.departures = [];
    for (const t of this.tracks) t.view = t.entering = undefined;
    asked.add(frame);
  }

  /** A face that left over an edge: watched for there (lookForEntries) for WATCH_MS, by its look. */
  private depart(t: Track, atMs: number, view = t.view): void {
    if (!view) return;
    const edge = edgeOf(t, this.frameW, this.frameH);
    this.departures.push({ view, edge, along: alongEdge(t, edge), until: atMs + WATCH_MS, id: t.id, rollDeg: rollAt(t, atMs), eyes: t.eyes && { ...t.eyes } });
    if (this.departures.length > MAX_DEPARTED) this.departures.shift();
  }

  /** Each face that left and is not coming back in yet, looked for along its edge; found, it is followed in (followEntering). */
  private lookForEntries(frame: VideoFrame, cur: Luma, seq: number, atMs: number): void {
    this.departures = this.departures.filter((d) => d.until > atMs);
    for (const d of this.departures) {
      if (this.tracks.some((t) => t.entering?.departed === d)) continue;
      this.wholeLuma(frame, cur);
      const range = Math.round(lookSpan(d.view, d.edge).length / 2);
      const found = findEntry(d.view, d.edge, cur, d.along, range);
      if (!found || found.quality > ENTRY_MATCH) continue;
      // Where a face is followed already, that is what matched.
      if (this.tracks.some((t) => overlapOfSmaller(t, found.box) > NEW_FACE_MAX_OVERLAP)) continue;
      const t = newTrack({ ...found.box, rollDeg: d.rollDeg, eyes: d.eyes }, d.id, seq, atMs);
      Object.assign(t, { view: d.view, entering: { departed: d, depth: found.depth, along: found.along, frames: 1, misses: 0 } });
      this.tracks.push(t);
      asked.add(frame);
    }
  }

  /**
   * An entering face's move this frame, placed by its look; ENTERED of it in, it is followed as
   * any other face from the next frame. Null once its look has not matched for ENTRY_MISSES frames
   * (it was not the face, or it went back out): it is dropped, and watched for again.
   */
  private followEntering(t: Track, frame: VideoFrame, cur: Luma, seq: number, atMs: number): { dx: number; dy: number } | null {
    const e = t.entering!;
    this.wholeLuma(frame, cur);
    asked.add(frame);
    const found = findEntry(e.departed.view, e.departed.edge, cur, e.along, 0, e);
    if (!found || found.quality > ENTRY_MATCH) {
      if (++e.misses >= ENTRY_MISSES) return null;
      t.x += t.dx;
      t.y += t.dy;
      return { dx: t.dx, dy: t.dy };
    }
    Object.assign(e, { depth: found.depth, along: found.along, misses: 0, frames: e.frames + 1 });
    const move = { dx: found.box.x - t.x, dy: found.box.y - t.y };
    Object.assign(t, { x: found.box.x, y: found.box.y, dx: move.dx, dy: move.dy });
    if (found.depth >= ENTERED * lookSpan(e.departed.view, e.departed.edge).across) {
      this.entered(t);
      // Kept from here as any face detections find (the grace of one just found).
      Object.assign(t, { missed: 0, hitAt: atMs, hitSeq: seq });
    }
    return move;
  }

  /** An entering face is in (ENTERED of it, or a detection found it): no longer watched for. */
  private entered(t: Track): void {
    this.departures = this.departures.filter((d) => d !== t.entering?.departed);
    t.entering = undefined;
  }

  /** `cur` computed whole (the edges are searched), where it was computed only around the faces. */
  private wholeLuma(frame: VideoFrame, cur: Luma): void {
    if (cur.valid.width < cur.width || cur.valid.height < cur.height) halfLuma(frame, undefined, cur);
  }

  /** The face's move between two frames: searched around its last move, again around a match on the window's border, and wider if poor. */
  private findShift(prev: Luma, cur: Luma, box: Rect, predicted: { dx: number; dy: number }, search: number, frame?: VideoFrame): Shift | null {
    // Where cur was computed only around the faces, the part a wider search needs is computed first.
    const widen = (r: Rect) => {
      if (frame && !(r.x >= cur.valid.x && r.y >= cur.valid.y && r.x + r.width <= cur.valid.x + cur.valid.width && r.y + r.height <= cur.valid.y + cur.valid.height)) halfLuma(frame, union([cur.valid, r]), cur);
    };
    let shift = faceShift(prev, cur, box, predicted, search);
    // Two searches are compared by their best match's differences (quality depends on the window).
    for (let i = 0; i < 2 && shift?.atBorder; i++) {
      widen(lumaNeeded(box, shift, search));
      const again = faceShift(prev, cur, box, shift, search);
      if (!again || again.sad >= shift.sad) break;
      shift = again;
    }
    if (!shift || shift.quality > POOR_MATCH) {
      widen(lumaNeeded(box, predicted, 3 * search));
      const wide = faceShift(prev, cur, box, predicted, 3 * search, WIDE_MOVE_COST);
      if (wide && (!shift || wide.sad < shift.sad)) shift = wide;
    }
    return shift;
  }

  /** A luma buffer to compute the next frame into: the oldest kept one once LUMA_FRAMES are kept, else the spare. */
  private recycledLuma(): Luma | undefined {
    if (this.lumas.length >= LUMA_FRAMES) return this.lumas.shift()!.luma;
    const spare = this.spareLuma;
    this.spareLuma = undefined;
    return spare;
  }

  private keepLuma(seq: number, at: number, luma: Luma): void {
    // Only the frames since the last one kept are consecutive; an older run is useless for carrying.
    const newest = this.lumas[this.lumas.length - 1];
    if (newest && newest.seq !== seq - 1) {
      this.spareLuma = this.lumas.pop()?.luma;
      this.lumas.length = 0;
    }
    this.lumas.push({ seq, at, luma });
  }

  /**
   * A box seen on frame `seq`, carried to now through the kept frames (block matching frame to
   * frame, as follow does); where a frame is missing or the match fails, as far as it got.
   */
  private carry(box: Rect, seq: number): { box: Rect; dx: number; dy: number; complete: boolean } {
    let b = { ...box };
    let move = { dx: 0, dy: 0 };
    const start = this.lumas.findIndex((l) => l.seq === seq);
    if (start < 0) return { box: b, dx: 0, dy: 0, complete: seq === this.seq };
    for (let k = start + 1; k < this.lumas.length; k++) {
      const a = this.lumas[k - 1]!;
      const c = this.lumas[k]!;
      const shift = this.findShift(a.luma, c.luma, b, move, searchFor(c.at - a.at));
      if (!shift || shift.quality > LOST_MATCH) return { box: b, dx: move.dx, dy: move.dy, complete: false };
      move = { dx: shift.dx, dy: shift.dy };
      b = { ...b, x: b.x + shift.dx, y: b.y + shift.dy };
    }
    return { box: b, dx: move.dx, dy: move.dy, complete: true };
  }

  /**
   * Feeds one detection's result (call once per completed detection); returns the current boxes.
   * `seq` (from `follow`) is the frame it ran on: each face it matches is compared as of that
   * frame, and corrected as of now.
   */
  update(detections: readonly FaceBox[], seq = this.seq): FaceBox[] {
    const moved = this.tracks.map((t) => movedSince(t, seq, this.seq));
    // Where every face was on the detection's frame (a lost face's motion since is not known: where it is).
    const then = this.tracks.map((track, t) => (track.lostSeq >= seq ? { ...track } : { ...track, x: track.x - moved[t]!.dx, y: track.y - moved[t]!.dy }));
    // Greedy matching, closest pairs first: a handful of faces at most, so O(n·m log) is nothing.
    const pairs: Array<{ t: number; d: number; dist: number }> = [];
    this.tracks.forEach((track, t) => detections.forEach((det, d) => {
      const dist = centreDistance(then[t]!, det) / Math.max(track.width, track.height, det.width, det.height);
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
      if (track.entering) this.entered(track);
      if (track.lostSeq >= seq) {
        // Lost since the detection's frame: its box there is not known, so the detection, carried
        // to now, places it (its size smoothed: a head turning away is found smaller; kept where
        // the detection's landmarks disagree with its size).
        const b = det.sizeUnsure ? 0 : a;
        const [w, h] = [track.width + b * (det.width - track.width), track.height + b * (det.height - track.height)];
        const eyes = det.sizeUnsure ? track.eyes : undefined;
        this.place(track, det, seq, moved[t]!.turn);
        const [cx, cy] = [track.x + track.width / 2, track.y + track.height / 2];
        Object.assign(track, { x: cx - w / 2, y: cy - h / 2, width: w, height: h }, eyes && { eyes });
        continue;
      }
      // Centres and sizes are smoothed apart, so a size change does not drag the centre.
      const cx = det.x + det.width / 2 + moved[t]!.dx;
      const cy = det.y + det.height / 2 + moved[t]!.dy;
      const tcx = track.x + track.width / 2 + a * (cx - (track.x + track.width / 2));
      const tcy = track.y + track.height / 2 + a * (cy - (track.y + track.height / 2));
      // A head turned far sideways is found much smaller, with landmarks that disagree: where it is, not its size.
      if (!det.sizeUnsure) {
        track.width += a * (det.width - track.width);
        track.height += a * (det.height - track.height);
        this.correctRoll(track, det, moved[t]!.turn, seq);
        track.eyes = smoothEyes(track.eyes, det.eyes, a);
      }
      track.x = tcx - track.width / 2;
      track.y = tcy - track.height / 2;
      track.posRef = undefined;
      Object.assign(track, { missed: 0, provisional: false, hitAt: this.timeOf(this.seq), hitSeq: seq, lostAt: undefined, coasted: 0 });
    }
    // A detection overlapping a face it matched is that face found twice, or a "face" made of two
    // faces' halves where one stands above the other (TinyFaceDetector finds one there): no hat.
    const phantom = (det: FaceBox) => then.some((box, t) => trackHit.has(t) && overlapOfSmaller(box, det) > NEW_FACE_MAX_OVERLAP);
    // A detection no face explains, and a face the detection did not find: the face moved there
    // (too far for the motion search, e.g. on frames far apart under load, or while it was lost).
    // It takes the face over however far, nearest first, rather than leaving a second hat behind.
    const spare: Array<{ t: number; d: number; dist: number }> = [];
    this.tracks.forEach((track, t) => detections.forEach((det, d) => {
      // (An entering face is where its look is: not taken over.)
      if (!trackHit.has(t) && !detUsed.has(d) && !phantom(det) && !track.entering) spare.push({ t, d, dist: centreDistance(then[t]!, det) });
    }));
    spare.sort((x, y) => x.dist - y.dist);
    for (const { t, d } of spare) {
      if (trackHit.has(t) || detUsed.has(d)) continue;
      this.place(this.tracks[t]!, detections[d]!, seq, moved[t]!.turn);
      trackHit.add(t);
      detUsed.add(d);
    }
    const before = this.tracks.length;
    // A lost face over the frame's edge that the detection did not find has left; others go
    // once detections have missed them maxMissed times and for KEEP_MS (asked-for detections
    // come fast, and a head turned away for a moment is not found but still there).
    const over = (t: Track) => overEdge(t, this.frameW, this.frameH);
    const now = this.timeOf(this.seq);
    // An entering face is not counted missed: no detector finds a face partly in.
    const keep = (t: Track) => !!t.entering || (!t.provisional && (++t.missed <= this.maxMissed || (now - t.hitAt < KEEP_MS && t.missed <= 4 * this.maxMissed)));
    this.tracks = this.tracks.filter((track, t) => {
      if (trackHit.has(t)) return true;
      if (!keep(track)) return false;
      if (track.lostAt === undefined || !over(track)) return true;
      this.depart(track, now);
      return false;
    });
    if (this.tracks.length < before) this.watchUntil = this.timeOf(this.seq) + WATCH_MS;
    detections.forEach((det, d) => {
      if (detUsed.has(d)) return;
      // Overlapping a face already followed, it is that face found twice (see phantom): no hat.
      if (then.some((box) => overlapOfSmaller(box, det) > NEW_FACE_MAX_OVERLAP)) return;
      const track = newTrack(det, this.faces++, this.seq, this.timeOf(seq));
      track.provisional = before > 0;
      // Over the frame's edge and lost by the picture on the way to now, it is a late detection of
      // a face that has left: no hat, but it is watched for as any face that left (its look from the detection's frame).
      if (!this.place(track, det, seq, 0) && over(track)) {
        const then = this.lumas.find((l) => l.seq === seq);
        this.depart(track, now, then && cropView(then.luma, det));
        return;
      }
      this.tracks.push(track);
    });
    return this.boxes;
  }

  /** Puts a face where a detection of frame `seq` shows it, carried to now through the kept frames; whether it was carried all the way. */
  private place(track: Track, det: FaceBox, seq: number, turnedSince: number): boolean {
    const { box, dx, dy, complete } = this.carry(det, seq);
    Object.assign(track, { x: box.x, y: box.y, width: det.width, height: det.height, eyes: det.eyes && { ...det.eyes }, missed: 0, hitAt: this.timeOf(this.seq), hitSeq: this.seq, dx, dy, lostAt: undefined, lostSeq: -1, coasted: 0, turnRef: undefined, posRef: undefined });
    // (A detection unsure of its size is unsure of its roll: a face it finds again keeps its own.)
    if (!det.sizeUnsure || track.rollDeg === undefined) this.correctRoll(track, det, turnedSince, seq);
    return complete;
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
    return this.tracks.filter((t) => !t.provisional && !(t.entering && t.entering.frames < ENTRY_SHOWN)).map((t) => {
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

/** Whether any of `r` lies outside a frame of that size. */
function overEdge(r: Rect, width: number, height: number): boolean {
  return r.x < 0 || r.y < 0 || r.x + r.width > width || r.y + r.height > height;
}

/** Where the track's centre has been moved (mx, my) and its roll turned, as of frame seq. */
function record(t: Track, seq: number, mx: number, my: number, turned: number): void {
  const i = seq % HISTORY;
  t.movedX[i] = mx;
  t.movedY[i] = my;
  t.turned[i] = turned;
  t.seqs[i] = seq;
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

/**
 * Whether the tracker that followed this frame asked for a detection of it: a face is lost, was
 * just dropped or left, or the frame came long after the last. detection-service.ts runs such a
 * detection outside its budget (FaceOverlayFilter offers every frame it follows).
 */
export function wantsDetection(frame: VideoFrame): boolean {
  return asked.has(frame);
}
