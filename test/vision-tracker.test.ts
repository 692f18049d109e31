/**
 * BoxTracker: faces carried and smoothed between detections, matched frame to frame, dropped
 * only after several detections in a row miss them; moved with the picture on every frame
 * (face-motion.ts), and late detections moved on by the motion since their frame.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { VideoFrame } from '../engine/media/frames.js';
import { BoxTracker, wantsDetection } from '../engine/vision/box-tracker.js';
import type { FaceBox } from '../engine/vision/face-detector.js';
import { alongEdge, cropView, edgeOf, findEntry, type Edge } from '../engine/vision/face-entry.js';
import { faceShift, faceTurn, halfLuma } from '../engine/vision/face-motion.js';
import { loadBackgroundI420 } from './helpers/video-fixtures.js';
import { boxOf, poseAt, renderClip, type ClipName } from '../bench/motion-clips.js';
import { throughVp8 } from '../bench/motion-replay.js';

const box = (x: number, y: number, size = 100) => ({ x, y, width: size, height: size });
/** The boxes' geometry alone (without FaceBox.face, the face's number). */
const shapes = (boxes: readonly FaceBox[]) => boxes.map(({ x, y, width, height }) => ({ x, y, width, height }));

describe('BoxTracker', () => {
  it('shows a new face at once, then moves it part way towards each new detection', () => {
    const tracker = new BoxTracker({ smoothing: 0.5 });
    assert.deepEqual(shapes(tracker.update([box(100, 100)])), [box(100, 100)]);
    assert.deepEqual(shapes(tracker.update([box(120, 80, 120)])), [box(110, 90, 110)]);
    assert.deepEqual(shapes(tracker.update([box(120, 80, 120)])), [box(115, 85, 115)]);
    assert.deepEqual(shapes(tracker.boxes), [box(115, 85, 115)], 'between detections the boxes stand still');
  });

  it('damps detector jitter', () => {
    const tracker = new BoxTracker();
    tracker.update([box(200, 100)]);
    const xs: number[] = [];
    for (let i = 0; i < 20; i++) xs.push(tracker.update([box(i % 2 ? 206 : 194, 100)])[0].x);
    const spread = Math.max(...xs.slice(5)) - Math.min(...xs.slice(5));
    assert.ok(spread <= 6, `output swings ${spread} px where the input swings 12 px`);
  });

  it('keeps a face through a few missed detections, then drops it', () => {
    const tracker = new BoxTracker({ maxMissed: 3 });
    const blank = { width: 640, height: 480, data: new Uint8Array(640 * 480 * 1.5) };
    // Detections 400 ms apart: the face is kept maxMissed misses and at least KEEP_MS (1 s).
    let t = 0;
    const next = () => tracker.follow(blank, (t += 400));
    tracker.update([box(100, 100)], next());
    for (let i = 0; i < 3; i++) assert.deepEqual(shapes(tracker.update([], next())), [box(100, 100)], `miss ${i + 1}`);
    assert.deepEqual(shapes(tracker.update([], next())), []);
  });

  it('keeps a face missed by quick detections for a second (a head turned away for a moment)', () => {
    const tracker = new BoxTracker({ maxMissed: 3 });
    const blank = { width: 640, height: 480, data: new Uint8Array(640 * 480 * 1.5) };
    let t = 0;
    const next = () => tracker.follow(blank, (t += 100));
    tracker.update([box(100, 100)], next());
    for (let i = 0; i < 8; i++) assert.equal(tracker.update([], next()).length, 1, `miss ${i + 1} at ${t} ms`);
    for (let i = 0; i < 3; i++) tracker.update([], next());
    assert.equal(tracker.boxes.length, 0, 'gone after a second');
  });

  it('a detection resets the miss count', () => {
    const tracker = new BoxTracker({ maxMissed: 1, smoothing: 1 });
    const blank = { width: 640, height: 480, data: new Uint8Array(640 * 480 * 1.5) };
    let t = 0;
    const next = () => tracker.follow(blank, (t += 600));
    tracker.update([box(100, 100)], next());
    tracker.update([], next());
    tracker.update([box(100, 100)], next());
    assert.equal(tracker.update([], next()).length, 1);
    assert.equal(tracker.update([], next()).length, 0);
  });

  it('matches each detection to its own face whatever the order', () => {
    const tracker = new BoxTracker({ smoothing: 0.5 });
    tracker.update([box(0, 100), box(400, 100)]);
    assert.deepEqual(shapes(tracker.update([box(410, 100), box(10, 100)])), [box(5, 100), box(405, 100)]);
    assert.deepEqual(tracker.boxes.map((b) => b.face), [0, 1], 'each face keeps its number');
  });

  it('takes a far jump of the only face for that face moved (one box, not a second), and a far detection beside a found face for a new face', () => {
    const tracker = new BoxTracker({ maxMissed: 1 });
    tracker.update([box(0, 100)]);
    // The face was not found where it was and a face is found far off: it moved there (issue 25: no hat left behind).
    assert.deepEqual(shapes(tracker.update([box(400, 100)])), [box(400, 100)]);
    assert.deepEqual(tracker.boxes.map((b) => b.face), [0], 'the same face');
    // Found where it is and another face far off: that one is new, shown once a second detection finds it too.
    assert.deepEqual(shapes(tracker.update([box(400, 100), box(0, 300)])), [box(400, 100)], 'not on one detection');
    assert.deepEqual(shapes(tracker.update([box(400, 100), box(0, 300)])), [box(400, 100), box(0, 300)]);
    assert.deepEqual(tracker.boxes.map((b) => b.face), [0, 1]);
    // A face the detections stop finding fades out after maxMissed (and a second).
    const blank = { width: 640, height: 480, data: new Uint8Array(640 * 480 * 1.5) };
    tracker.update([box(400, 100)], tracker.follow(blank, performance.now() + 600));
    assert.deepEqual(shapes(tracker.update([box(400, 100)], tracker.follow(blank, performance.now() + 1200))), [box(400, 100)]);
  });

  it('takes a detection that overlaps faces it follows for no new face (one face above another)', () => {
    const tracker = new BoxTracker();
    tracker.update([box(100, 100), box(100, 230)]);
    // TinyFaceDetector finds a third "face" across the chin of the one and the hair of the other.
    const boxes = tracker.update([box(100, 100), box(100, 230), box(105, 165)]);
    assert.deepEqual(shapes(boxes), [box(100, 100), box(100, 230)]);
    tracker.update([box(100, 100), box(100, 230), box(300, 165)]);
    assert.equal(tracker.update([box(100, 100), box(100, 230), box(300, 165)]).length, 3, 'a face beside them is a new one (once found twice)');
  });

  it('shows a face that appears beside another only once a second detection finds it (a one-off false face is never shown)', () => {
    const tracker = new BoxTracker();
    tracker.update([box(100, 100)]);
    assert.equal(tracker.update([box(100, 100), box(400, 300, 57)]).length, 1, 'a one-off "face" is not shown');
    assert.equal(tracker.update([box(100, 100)]).length, 1, 'nor kept once missed');
    assert.equal(tracker.update([box(100, 100), box(400, 300, 57)]).length, 1, 'it starts again as provisional');
  });

  it('moves a face to a detection unsure of its size (a head turned far sideways), but keeps its size', () => {
    const tracker = new BoxTracker();
    tracker.update([box(100, 100)]);
    const [unsure] = tracker.update([{ x: 130, y: 120, width: 60, height: 60, sizeUnsure: true }]);
    assert.deepEqual(shapes([unsure!]), [box(105, 100)], 'centre half way to the detection\'s, size kept');
    const [sure] = tracker.update([{ x: 130, y: 120, width: 60, height: 60 }]);
    assert.equal(sure!.width, 80, 'a sure detection\'s size is smoothed in');
  });

  it('rejects a smoothing weight outside (0, 1]', () => {
    assert.throws(() => new BoxTracker({ smoothing: 0 }), RangeError);
    assert.throws(() => new BoxTracker({ smoothing: 1.5 }), RangeError);
  });
});

/** A textured 640×480 I420 frame (the fixture face) with its picture moved by (dx, dy) whole pixels. */
async function movedFace(dx: number, dy: number): Promise<VideoFrame> {
  const base = await loadBackgroundI420('face');
  const out = new Uint8Array(base.data.length).fill(128);
  for (let y = 0; y < 480; y++) for (let x = 0; x < 640; x++) {
    const sx = x - dx;
    const sy = y - dy;
    out[y * 640 + x] = sx >= 0 && sy >= 0 && sx < 640 && sy < 480 ? base.data[sy * 640 + sx]! : 16;
  }
  return { width: 640, height: 480, data: out };
}

describe('face motion between frames', () => {
  const face = { x: 238, y: 57, width: 101, height: 101 }; // the fixture face (KMS's box)

  it('finds the move of the face region to within half a pixel, none on a still picture', async () => {
    const a = halfLuma(await movedFace(0, 0));
    for (const [dx, dy] of [[0, 0], [3, 0], [-5, 2], [12, -8], [1, 1]] as const) {
      const b = halfLuma(await movedFace(dx, dy));
      const s = faceShift(a, b, face, { dx: 0, dy: 0 })!;
      assert.ok(Math.abs(s.dx - dx) <= 0.5 && Math.abs(s.dy - dy) <= 0.5, `moved (${dx}, ${dy}), found (${s.dx.toFixed(2)}, ${s.dy.toFixed(2)})`);
    }
  });

  it('searches around the last move, and gives up where the region or the search leaves the computed luma', async () => {
    const a = halfLuma(await movedFace(0, 0));
    const far = halfLuma(await movedFace(30, 0));
    const s = faceShift(a, far, face, { dx: 28, dy: 0 })!;
    assert.ok(Math.abs(s.dx - 30) <= 0.5, `found ${s.dx}`);
    // At the frame's edge the window is cut to the frame (a face leaving it is followed to the edge); a region over the edge is not matched.
    const edge = faceShift(a, halfLuma(await movedFace(-3, 0)), { x: 2, y: 57, width: 101, height: 101 }, { dx: 0, dy: 0 })!;
    assert.ok(Math.abs(edge.dx + 3) <= 1 && Math.abs(edge.dy) <= 0.5, `at the frame edge: found (${edge.dx}, ${edge.dy})`);
    assert.equal(faceShift(a, a, { x: -40, y: 57, width: 101, height: 101 }, { dx: 0, dy: 0 }), null, 'region over the frame edge');
    const part = halfLuma(await movedFace(0, 0), { x: 0, y: 0, width: 100, height: 100 });
    assert.equal(faceShift(a, part, face, { dx: 0, dy: 0 }), null, 'search outside the computed part');
    assert.equal(faceShift(a, a, { x: 300, y: 200, width: 20, height: 20 }, { dx: 0, dy: 0 }), null, 'too small to match');
  });

  it('BoxTracker.follow moves a face with the picture; a late detection is moved on by the motion since its frame', async () => {
    const tracker = new BoxTracker({ smoothing: 0.5 });
    tracker.follow(await movedFace(0, 0));
    tracker.update([face]);
    const seqAtStart = tracker.follow(await movedFace(0, 0));
    for (let i = 1; i <= 4; i++) tracker.follow(await movedFace(3 * i, 0));
    const [moved] = tracker.boxes;
    assert.ok(Math.abs(moved!.x - (face.x + 12)) <= 1 && Math.abs(moved!.y - face.y) <= 1, `followed to ${JSON.stringify(moved)}`);
    // The detector reports the face where it was at seqAtStart: the box must stay where the face is now.
    const [after] = tracker.update([face], seqAtStart);
    assert.ok(Math.abs(after!.x - (face.x + 12)) <= 1, `a late detection pulled the box back to ${after!.x}`);
    // Still picture: the box does not drift.
    for (let i = 0; i < 10; i++) tracker.follow(await movedFace(12, 0));
    assert.ok(Math.abs(tracker.boxes[0]!.x - after!.x) <= 1, 'no drift on a still face');
  });
});

describe('a face coming back over an edge (face-entry.ts)', () => {
  const face = { x: 238, y: 57, width: 101, height: 101 };

  it('finds the part of its look that is in, over each edge, where it is along the edge', async () => {
    const view = cropView(halfLuma(await movedFace(0, 0)), face)!;
    // Each edge with 40–60 % of the face in, moved along the edge by a few px.
    const cases: Array<[Edge, number, number]> = [['right', 640 - 61 - face.x, 6], ['left', -40 - face.x, -8], ['top', -4, -40 - face.y], ['bottom', 10, 480 - 50 - face.y]];
    for (const [edge, dx, dy] of cases) {
      const want = { ...face, x: face.x + dx, y: face.y + dy };
      const found = findEntry(view, edge, halfLuma(await movedFace(dx, dy)), alongEdge(face, edge), 20);
      assert.ok(found && Math.abs(found.box.x - want.x) <= 2 && Math.abs(found.box.y - want.y) <= 2 && found.quality < 0.2, `${edge}: face at (${want.x}, ${want.y}), found ${JSON.stringify(found)}`);
      assert.equal(edgeOf(want, 640, 480), edge);
    }
    const nothing = findEntry(view, 'right', halfLuma(await loadBackgroundI420('coffee')), alongEdge(face, 'right'), 20);
    assert.ok(nothing && nothing.quality > 0.6, `a picture without the face matched at ${nothing?.quality}`);
  });
});

describe('BoxTracker: roll', () => {
  it('follows a turning head from late, sparse detections, and holds a still head\'s hat steady', () => {
    const tracker = new BoxTracker();
    const truth = (seq: number) => 0.8 * seq; // degrees: 24°/s at 30 fps
    const frame = { width: 640, height: 480, data: new Uint8Array(640 * 480 * 1.5) };
    const errors: number[] = [];
    for (let seq = 1; seq <= 60; seq++) {
      tracker.follow(frame, seq * (1000 / 30));
      // A detection every 3rd frame, of the frame 2 before (it took that long).
      if (seq % 3 === 0 && seq > 2) tracker.update([{ x: 100, y: 100, width: 100, height: 100, rollDeg: truth(seq - 2) }], seq - 2);
      const [box] = tracker.boxes;
      if (seq > 20) errors.push(Math.abs(box!.rollDeg! - truth(seq)));
    }
    assert.ok(Math.max(...errors) <= 1.5, `roll error up to ${Math.max(...errors).toFixed(2)}°`);

    const still = new BoxTracker();
    const shown = new Set<number>();
    for (let seq = 1; seq <= 90; seq++) {
      still.follow(frame, seq * (1000 / 30));
      if (seq % 3 === 0) still.update([{ x: 100, y: 100, width: 100, height: 100, rollDeg: 4.5 + (seq % 2 ? 0.4 : -0.4) }], seq - 1);
      if (seq > 15) shown.add(still.boxes[0]!.rollDeg!);
    }
    assert.equal(shown.size, 1, `a still head's hat shown at ${[...shown].join(', ')}°`);
  });

  it('turns the hat with the head between detections, from the picture (roll clip, one detection a second)', async () => {
    const frames = await renderClip('roll', 640, 480);
    for (const clip of ['roll', 'still'] as const) {
      const clipFrames = clip === 'roll' ? frames : await renderClip('still', 640, 480);
      const tracker = new BoxTracker();
      const errors: number[] = [];
      for (let n = 0; n < 120; n++) {
        const seq = tracker.follow({ width: 640, height: 480, data: clipFrames[n]! }, n * (1000 / 30));
        // The true face as the detection, once a second: every turn in between comes from the picture.
        const p = poseAt(clip, n, 640, 480);
        if (n % 30 === 0) tracker.update([{ ...boxOf(p), rollDeg: p.headRollDeg }], seq);
        errors.push(Math.abs(tracker.boxes[0]!.rollDeg! - p.headRollDeg));
      }
      const worst = Math.max(...errors);
      // The head turns up to 31°/s: without the picture's turn the hat would be ~15° behind half a second after a detection.
      assert.ok(worst <= (clip === 'roll' ? 5 : 1.5), `${clip}: roll error up to ${worst.toFixed(1)}°`);
    }
  });

  it('measures no turn on the back of a head, though VP8 leaves noise on it', async () => {
    // The turn clip through VP8 at 1 Mbit/s: turned away, the cheek patches are flat hair with
    // codec noise, which gave "sharp" matches up to 10° apart (the hat turned 17° at 15 fps).
    const frames = await throughVp8(await renderClip('turn', 640, 480, 15), 640, 480, 15, 1000);
    const turns: string[] = [];
    for (let n = 1; n < frames.length; n++) {
      const [a, b] = [poseAt('turn', n - 1, 640, 480, 15), poseAt('turn', n, 640, 480, 15)];
      if (a.squeeze > 0.1 || b.squeeze > 0.1) continue;
      const [prev, cur] = [halfLuma({ width: 640, height: 480, data: frames[n - 1]! }), halfLuma({ width: 640, height: 480, data: frames[n]! })];
      for (const [ox, oy] of [[0, 0], [4, 1], [-3, 2], [2, -3]]) {
        const box = { ...boxOf(a), x: boxOf(a).x + ox, y: boxOf(a).y + oy, width: 88, height: 88 };
        const turn = faceTurn(prev, cur, box, { dx: 0, dy: 0 }, 4);
        if (turn !== null && Math.abs(turn) > 1) turns.push(`frame ${n} (${ox}, ${oy}): ${turn.toFixed(1)}°`);
      }
    }
    assert.deepEqual(turns, []);
  });

  it('reads no roll from patches whose texture runs up and down (the side of a head\'s outline), however the noise falls', () => {
    // Vertical stripes with ±3 levels of noise, the same picture twice: any vertical move fits, and
    // the noise picks one per patch (traced in Chromium: 6.6 px apart, an 11° "roll").
    let seed = 7;
    const noise = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 6 - 3;
    const stripes = () => {
      const l = { width: 320, height: 240, data: new Uint8Array(320 * 240), valid: { x: 0, y: 0, width: 320, height: 240 } };
      for (let y = 0; y < 240; y++) for (let x = 0; x < 320; x++) l.data[y * 320 + x] = Math.round(100 + 40 * Math.sin(x / 3) + noise());
      return l;
    };
    const turns: number[] = [];
    for (let i = 0; i < 20; i++) {
      const turn = faceTurn(stripes(), stripes(), { x: 200, y: 150, width: 90, height: 90 }, { dx: 0, dy: 0 }, 4);
      if (turn !== null) turns.push(Math.round(turn * 10) / 10);
    }
    assert.deepEqual(turns, [], 'rolls read');
  });

  it("holds the roll of a face the picture lost as it turned away, however noisy the detections' rolls", async () => {
    // Detections every 3rd frame, 2 frames late, their rolls ±1° about the truth: the rate filter
    // reads a few °/s from that noise, and once the picture lost the head (turned away) the hat ran on by it.
    const frames = await renderClip('turn', 640, 480, 30);
    const tracker = new BoxTracker();
    const away: number[] = [];
    for (let n = 0; n < 120; n++) {
      const seq = tracker.follow({ width: 640, height: 480, data: frames[n]! }, (n * 1000) / 30);
      const p = poseAt('turn', n, 640, 480, 30);
      if (n % 3 === 0 && p.squeeze > 0.5) tracker.update([{ ...boxOf(p), rollDeg: p.headRollDeg + (n % 2 ? 1 : -1) }], seq);
      if (p.squeeze < 0.1 && tracker.boxes[0]) away.push(tracker.boxes[0].rollDeg! - p.headRollDeg);
    }
    assert.ok(away.length > 10, `${away.length} frames turned away with a box`);
    assert.ok(away.every((e) => Math.abs(e) <= 1.5), `roll error while turned away: ${away.map((e) => e.toFixed(1)).join(' ')}`);
  });

  it('keeps the roll of a face found again by a detection unsure of its size', async () => {
    const tracker = new BoxTracker();
    const face = await movedFace(0, 0);
    const flat = { width: 640, height: 480, data: new Uint8Array(640 * 480 * 1.5).fill(90) };
    let t = 0;
    tracker.update([{ x: 238, y: 57, width: 101, height: 101, rollDeg: 4 }], tracker.follow(face, (t += 33)));
    for (let i = 0; i < 5; i++) tracker.follow(face, (t += 33));
    const seq = tracker.follow(flat, (t += 33));
    // Lost since (the picture changed); a head turned far away is found small, its landmarks' roll anything.
    tracker.update([{ x: 260, y: 80, width: 60, height: 60, rollDeg: 20, sizeUnsure: true }], seq);
    assert.equal(tracker.boxes.length, 1);
    assert.ok(Math.abs(tracker.boxes[0]!.rollDeg! - 4) <= 1, `roll ${tracker.boxes[0]!.rollDeg}°`);
  });

  it('boxes from detections without a roll have none', () => {
    const tracker = new BoxTracker();
    tracker.update([box(100, 100)]);
    assert.equal(tracker.boxes[0]!.rollDeg, undefined);
  });
});

describe('BoxTracker: a fast face on a loaded machine (issue 25)', () => {
  it('scales its boxes when the sender changes resolution (a browser short of CPU sends smaller frames), and asks for a detection', async () => {
    const full = await renderClip('fast-h4', 640, 480, 15);
    const half = await renderClip('fast-h4', 320, 240, 15);
    const tracker = new BoxTracker();
    for (let n = 0; n < 4; n++) {
      const seq = tracker.follow({ width: 640, height: 480, data: full[n]! }, (n * 1000) / 15);
      if (n === 0) tracker.update([boxOf(poseAt('fast-h4', n, 640, 480, 15))], seq);
    }
    for (let n = 4; n < 12; n++) {
      const frame = { width: 320, height: 240, data: half[n]! };
      tracker.follow(frame, (n * 1000) / 15);
      if (n === 4) assert.ok(wantsDetection(frame), 'a detection is asked for');
      const want = boxOf(poseAt('fast-h4', n, 320, 240, 15));
      const [b] = tracker.boxes;
      assert.ok(b && Math.abs(b.x - want.x) <= 4 && Math.abs(b.width - want.width) <= 3, `frame ${n}: box ${JSON.stringify(b)}, face at ${want.x.toFixed(0)}, ${want.width.toFixed(0)} wide`);
    }
  });

  /**
   * The clip's frames as a loaded engine sees them: every `every`-th one of a 15 fps camera; the
   * detection of frame n (the face's true box, as a perfect detector would give) arrives
   * `lateFrames` frames later, once every `detectEvery` frames seen (the budget at its floor),
   * or sooner when the tracker asked (wantsDetection) and the last started ≥ 200 ms ago.
   */
  async function run(clip: ClipName, every: number, detectEvery: number, lateFrames: number) {
    const fps = 15;
    const frames = await renderClip(clip, 640, 480, fps);
    const tracker = new BoxTracker();
    let pending: { due: number; seq: number; box: FaceBox } | undefined;
    let lastStart = -Infinity;
    const perFrame: Array<{ n: number; boxes: FaceBox[] }> = [];
    let asked = 0;
    for (let i = 0, n = 0; n < 4 * frames.length / 3; i++, n += every) {
      const now = (n * 1000) / fps;
      if (pending && pending.due <= i) {
        tracker.update([pending.box], pending.seq);
        pending = undefined;
      }
      const frame = { width: 640, height: 480, data: frames[n % frames.length]! };
      const seq = tracker.follow(frame, now);
      const wants = wantsDetection(frame);
      if (wants) asked++;
      if (!pending && (i % detectEvery === 0 || (wants && now - lastStart >= 200))) {
        lastStart = now;
        pending = { due: i + lateFrames, seq, box: boxOf(poseAt(clip, n, 640, 480, fps)) };
      }
      perFrame.push({ n, boxes: tracker.boxes });
    }
    return { perFrame, asked, fps };
  }

  it('keeps one box on a face moving 7.5 face widths a second, seen at 7.5 fps with detections 1.6 s apart arriving 0.4 s late', async () => {
    // Every 2nd frame of 15 fps: the face moves up to 91 px between two frames seen, beyond the
    // motion search's reach; the old tracker left the box behind and then kept a second one.
    const { perFrame, fps } = await run('fast-h7', 2, 12, 3);
    const late = perFrame.filter((f) => f.n >= 2 * fps);
    const two = late.filter((f) => f.boxes.length > 1).length;
    assert.equal(two, 0, `${two} of ${late.length} frames with two boxes`);
    const errors = late.map(({ n, boxes }) => {
      const want = boxOf(poseAt('fast-h7', n, 640, 480, fps));
      return boxes.length ? Math.hypot(boxes[0]!.x - want.x, boxes[0]!.y - want.y) : Infinity;
    });
    const far = errors.filter((e) => e > 20).length;
    assert.ok(far <= late.length * 0.05, `${far} of ${late.length} frames with the box > 20 px off (or none): ${errors.map((e) => e.toFixed(0)).join(' ')}`);
    const last = perFrame[perFrame.length - 1]!;
    assert.equal(last.boxes.length, 1, 'ends with one box');
  });

  it('keeps up with a fast face whose frames come in pairs (a busy engine takes its queued frames back to back)', async () => {
    // Every 3rd frame of 30 fps is handed over late, 1 ms before the next one: a move measured
    // over "1 ms" once made the next frame's search start 4 moves ahead, lose the face, and coast
    // it out of the frame (2–5 frames without a hat in stressed Chromium runs).
    const fps = 30;
    const frames = await renderClip('fast-v7', 640, 480, fps);
    const tracker = new BoxTracker();
    let pending: { due: number; seq: number; box: FaceBox } | undefined;
    const errors: number[] = [];
    for (let n = 0; n < frames.length; n++) {
      if (pending && pending.due <= n) {
        tracker.update([pending.box], pending.seq);
        pending = undefined;
      }
      const at = n % 3 === 2 ? ((n + 1) * 1000) / fps - 1 : (n * 1000) / fps;
      const seq = tracker.follow({ width: 640, height: 480, data: frames[n]! }, at);
      // One detection a second (the budget at its floor), 300 ms late.
      if (!pending && n % fps === 0) pending = { due: n + 9, seq, box: boxOf(poseAt('fast-v7', n, 640, 480, fps)) };
      if (n < fps) continue;
      const want = boxOf(poseAt('fast-v7', n, 640, 480, fps));
      const boxes = tracker.boxes;
      errors.push(boxes.length === 1 ? Math.hypot(boxes[0]!.x - want.x, boxes[0]!.y - want.y) : Infinity);
    }
    const far = errors.filter((e) => e > 20).length;
    assert.equal(far, 0, `${far} of ${errors.length} frames with the box > 20 px off (or not one box): ${errors.map((e) => e.toFixed(0)).join(' ')}`);
  });

  it('finds a face again that turned back between two frames far apart (up and down once a second, seen at 5 fps)', async () => {
    // Every 3rd frame of 15 fps: between two frames seen the face moves up to 100 px, and at each
    // turn the other way, not where its last move predicts; the wide search once priced such a
    // change of motion so high that it took the picture beside the face (hat error p95 155 px).
    const { perFrame, fps } = await run('fast-d7', 3, 10, 2);
    const late = perFrame.filter((f) => f.n >= 2 * fps);
    const errors = late.map(({ n, boxes }) => {
      const want = boxOf(poseAt('fast-d7', n, 640, 480, fps));
      return boxes.length ? Math.hypot(boxes[0]!.x - want.x, boxes[0]!.y - want.y) : Infinity;
    });
    const far = errors.filter((e) => e > 20).length;
    assert.ok(far <= late.length * 0.05, `${far} of ${late.length} frames with the box > 20 px off (or none): ${errors.map((e) => e.toFixed(0)).join(' ')}`);
  });

  it('asks for a detection once the picture alone has moved a face further than its width', async () => {
    const frames = await renderClip('fast-h4', 640, 480, 15);
    const tracker = new BoxTracker();
    const start = boxOf(poseAt('fast-h4', 0, 640, 480, 15));
    let firstAsked = -1;
    for (let n = 0; n < 30 && firstAsked < 0; n++) {
      const frame = { width: 640, height: 480, data: frames[n]! };
      const seq = tracker.follow(frame, (n * 1000) / 15);
      if (n === 0) tracker.update([start], seq);
      else if (wantsDetection(frame)) firstAsked = n;
    }
    assert.ok(firstAsked > 0, 'a detection was asked for');
    const moved = (n: number) => Math.abs(boxOf(poseAt('fast-h4', n, 640, 480, 15)).x - start.x);
    assert.ok(moved(firstAsked) > start.width * 0.9 && moved(firstAsked - 1) <= start.width * 1.1, `asked at frame ${firstAsked}, the face ${moved(firstAsked).toFixed(0)} px from where it was found (${moved(firstAsked - 1).toFixed(0)} px a frame before; ${start.width.toFixed(0)} px wide)`);
  });

  it('follows a face swaying slower than the codec-noise dead zone a frame (0.35 px), from one detection', async () => {
    // The turn clip at 30 fps sways 0.84 px a frame before its first turn; frame to frame, the
    // dead zone ate part of every move and the box fell ~10 px behind in 38 frames.
    const frames = await renderClip('turn', 640, 480, 30);
    const tracker = new BoxTracker();
    for (let n = 0; n <= 38; n++) {
      const seq = tracker.follow({ width: 640, height: 480, data: frames[n]! }, (n * 1000) / 30);
      if (n === 0) tracker.update([boxOf(poseAt('turn', 0, 640, 480, 30))], seq);
    }
    const want = boxOf(poseAt('turn', 38, 640, 480, 30));
    const [b] = tracker.boxes;
    assert.ok(b && Math.abs(b.x - want.x) <= 3, `box at ${b?.x}, the face at ${want.x.toFixed(1)} (it moved ${(want.x - boxOf(poseAt('turn', 0, 640, 480, 30)).x).toFixed(1)} px)`);
  });

  it('puts no hat on a late detection of a face that has since left the frame', async () => {
    const frames = await renderClip('exit', 640, 480, 30);
    const tracker = new BoxTracker();
    let partlyOut: { seq: number; box: FaceBox } | undefined;
    for (let n = 0; n <= 34; n++) {
      const seq = tracker.follow({ width: 640, height: 480, data: frames[n]! }, (n * 1000) / 30);
      if (n === 0) tracker.update([boxOf(poseAt('exit', 0, 640, 480, 30))], seq);
      if (n === 25) partlyOut = { seq, box: boxOf(poseAt('exit', 25, 640, 480, 30)) };
    }
    assert.ok(partlyOut && partlyOut.box.x + partlyOut.box.width > 640, 'the detected face was partly out of the frame');
    assert.ok(boxOf(poseAt('exit', 34, 640, 480, 30)).x > 640, 'and is gone by the time the detection arrives');
    assert.equal(tracker.boxes.length, 0, 'the face was dropped as it left');
    assert.deepEqual(tracker.update([partlyOut.box], partlyOut.seq), [], 'no hat where the face was 0.3 s ago');
  });

  it('drops the box of a face that leaves the frame, and asks for detections until it is back', async () => {
    const { perFrame, asked, fps } = await run('exit', 1, 24, 3);
    // While the face is out of the frame there is no box to draw a hat on.
    const out = perFrame.filter(({ n }) => {
      const b = boxOf(poseAt('exit', n, 640, 480, fps));
      return b.x >= 640 + 20 || b.x + b.width <= -20;
    });
    assert.ok(out.length > 10, `${out.length} frames with the face out`);
    const ghosts = out.filter((f) => f.boxes.length > 0).length;
    assert.ok(ghosts <= out.length * 0.1, `${ghosts} of ${out.length} frames out of the frame still had a box`);
    assert.ok(asked > 0, 'the tracker asked for detections');
  });

  /**
   * The exit clip at 30 fps with detections as the network gives them: a face only once ~93 % of
   * it is in, 9 frames apart from frame `firstDetection`, each 9 frames late (a loaded machine).
   * `instead` replaces the clip's frames from frame `from` on (with no face to detect).
   */
  async function comeBack(instead?: { from: number; frame: (n: number) => Uint8Array }, firstDetection = 0) {
    const fps = 30;
    const frames = await renderClip('exit', 640, 480, fps);
    const tracker = new BoxTracker();
    const perFrame: Array<{ n: number; boxes: FaceBox[] }> = [];
    let pending: { due: number; seq: number; boxes: FaceBox[] } | undefined;
    for (let n = 0; n < 110; n++) {
      if (pending && pending.due <= n) {
        tracker.update(pending.boxes, pending.seq);
        pending = undefined;
      }
      const replaced = instead && n >= instead.from;
      const seq = tracker.follow({ width: 640, height: 480, data: replaced ? instead.frame(n) : frames[n]! }, (n * 1000) / fps);
      if (!pending && n >= firstDetection && (n - firstDetection) % 9 === 0) {
        const b = boxOf(poseAt('exit', n, 640, 480, fps));
        const seen = Math.min(b.x + b.width, 640) - Math.max(b.x, 0) >= 0.93 * b.width && !replaced;
        pending = { due: n + 9, seq, boxes: seen ? [b] : [] };
      }
      perFrame.push({ n, boxes: tracker.boxes });
    }
    return { perFrame, fps };
  }

  /** The frames of comeBack's run with all of the face back in (after it left). */
  const backIn = (perFrame: Array<{ n: number; boxes: FaceBox[] }>, fps: number) => perFrame.filter(({ n }) => {
    const b = boxOf(poseAt('exit', n, 640, 480, fps));
    return n > 60 && b.x >= 0 && b.x + b.width <= 640;
  });

  it('finds a face coming back in over the edge it left by before a detection can: a hat from the first frame all of it is in', async () => {
    // The face leaves right at frames 24–33 and comes back at 88–97 at ~9 px a frame; the network
    // sees it from ~frame 96, and its answer comes at 105: before, 9–17 frames without a hat.
    const { perFrame, fps } = await comeBack();
    const back = backIn(perFrame, fps);
    assert.ok(back.length >= 12, `${back.length} frames with all of the face back in`);
    const off = back.map(({ n, boxes }) => {
      const want = boxOf(poseAt('exit', n, 640, 480, fps));
      return boxes.length === 1 ? Math.hypot(boxes[0]!.x - want.x, boxes[0]!.y - want.y) : Infinity;
    });
    assert.ok(off.every((e) => e <= 4), `box error per frame back in (Infinity: none or two): ${off.map((e) => e.toFixed(1)).join(' ')}`);
    const firstIn = perFrame.find(({ n, boxes }) => n > 60 && boxes.length > 0)!;
    const b = boxOf(poseAt('exit', firstIn.n, 640, 480, fps));
    assert.ok(b.x + b.width > 640, `the hat came with the face, part of it still out (frame ${firstIn.n}, face at x ${b.x.toFixed(0)})`);
  });

  it('finds a face coming back that was first detected as it left (no hat was drawn for that late detection)', async () => {
    // Detected on frame 22 (all of it in), the answer comes at 31 with the face half out: no hat then, and none needed back in.
    const { perFrame, fps } = await comeBack(undefined, 22);
    assert.ok(perFrame.slice(0, 60).every(({ boxes }) => boxes.length === 0), 'no hat before the face came back');
    const back = backIn(perFrame, fps);
    const without = back.filter(({ boxes }) => boxes.length !== 1).map(({ n }) => n);
    assert.deepEqual(without, [], 'frames all of the face back in without its one hat');
  });

  it('puts no hat on something else coming in over the edge a face left by', async () => {
    // Once the face is out (frame 40), a picture without a face slides in at the face's speed.
    const coffee = await loadBackgroundI420('coffee');
    const { perFrame } = await comeBack({
      from: 40,
      frame: (n) => {
        const off = Math.max(0, 640 - 9 * (n - 40));
        const out = new Uint8Array(coffee.data.length).fill(128);
        out.fill(16, 0, 640 * 480);
        for (let y = 0; y < 480; y++) out.set(coffee.data.subarray(y * 640, y * 640 + 640 - off), y * 640 + off);
        return out;
      },
    });
    assert.ok(perFrame.slice(10, 20).every(({ boxes }) => boxes.length === 1), 'the face was followed before it left');
    const hats = perFrame.filter(({ n, boxes }) => n >= 40 && boxes.length > 0).map(({ n }) => n);
    assert.deepEqual(hats, [], 'frames with a hat once the face had left');
  });
});
