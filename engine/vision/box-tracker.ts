/**
 * Carries face boxes from one detection to the next so hats neither jitter nor blink:
 * each detection is matched to the face it continues, boxes are smoothed exponentially, and a
 * face survives a few detections that miss it. Between detections the boxes stand still.
 */
import type { FaceBox } from './face-detector.js';

export interface TrackerOptions {
  /** Weight of a new detection in the running average, in (0, 1]; 1 = no smoothing. */
  smoothing?: number;
  /** Consecutive detections a face may be missing from before it is dropped. */
  maxMissed?: number;
  /** A detection continues a face if their centres are closer than this × the larger side. */
  maxJump?: number;
}

interface Track {
  x: number;
  y: number;
  width: number;
  height: number;
  missed: number;
}

export class BoxTracker {
  private tracks: Track[] = [];
  private readonly smoothing: number;
  private readonly maxMissed: number;
  private readonly maxJump: number;

  constructor(options: TrackerOptions = {}) {
    this.smoothing = options.smoothing ?? 0.5;
    this.maxMissed = options.maxMissed ?? 3;
    this.maxJump = options.maxJump ?? 0.6;
    if (!(this.smoothing > 0 && this.smoothing <= 1)) throw new RangeError(`smoothing must be in (0, 1], got ${this.smoothing}`);
  }

  /** Feeds one detection's result (call once per completed detection); returns the current boxes. */
  update(detections: readonly FaceBox[]): FaceBox[] {
    // Greedy matching, closest pairs first: a handful of faces at most, so O(n·m log) is nothing.
    const pairs: Array<{ t: number; d: number; dist: number }> = [];
    this.tracks.forEach((track, t) => detections.forEach((det, d) => {
      const dist = centreDistance(track, det) / Math.max(track.width, track.height, det.width, det.height);
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
      const track = this.tracks[t];
      const det = detections[d];
      track.x += a * (det.x - track.x);
      track.y += a * (det.y - track.y);
      track.width += a * (det.width - track.width);
      track.height += a * (det.height - track.height);
      track.missed = 0;
    }
    this.tracks = this.tracks.filter((track, t) => trackHit.has(t) || ++track.missed <= this.maxMissed);
    detections.forEach((det, d) => {
      if (!detUsed.has(d)) this.tracks.push({ x: det.x, y: det.y, width: det.width, height: det.height, missed: 0 });
    });
    return this.boxes;
  }

  /** The current boxes, in whole pixels (as OpenCV's rects are), oldest face first. */
  get boxes(): FaceBox[] {
    return this.tracks.map((t) => ({
      x: Math.round(t.x), y: Math.round(t.y), width: Math.round(t.width), height: Math.round(t.height),
    }));
  }
}

function centreDistance(a: FaceBox, b: FaceBox): number {
  return Math.hypot(a.x + a.width / 2 - (b.x + b.width / 2), a.y + a.height / 2 - (b.y + b.height / 2));
}
