/**
 * Draws Magic Mirror's built-in hats — a top hat, a party hat and a crown — as transparent PNGs
 * in assets/hats/. Original artwork, drawn by this code: run `npx tsx scripts/make-hats.ts`.
 *
 * Where a hat must sit in its image follows from how Kurento's FaceOverlayFilter places it with
 * the tutorial's offsets (-0.35, -1.2, 1.6, 1.6): per face box (x, y, w, h) — square, brows to
 * chin — the image is stretched to 1.6w × 1.6h with its top-left corner at (x − 0.35w, y − 1.2h).
 * So in an image of side S:
 *   - the image is stretched to a square, so the art is drawn square (nothing gets distorted);
 *   - the face's centre line is at x = (0.35 + 0.5) / 1.6 · S ≈ 0.53 S, not in the middle;
 *   - the box's top (mid-forehead) is at y = 1.2 / 1.6 · S = 0.75 S and the image's bottom
 *     quarter covers the face, so a brim at the very bottom edge would sit on the eyes. Hats
 *     rest on the hair instead, whose top is ~0.3 h above the box (≈ 0.56 S): the top hat's
 *     brim at 0.68 S, the crown's band and the party hat's ruffle a little higher.
 * The placement was checked by compositing the hats onto test/fixtures/astronaut.png with the
 * engine's face detector and KMS-exact overlay (engine/vision).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Canvas, circle, ellipse, hex, linear, mix, Path, polygon, radial, type Paint, type Point, type Rgba } from './hat-raster.js';

const S = 400;
/** The face's centre line. */
const CX = Math.round((0.85 / 1.6) * S);
const OUT_DIR = fileURLToPath(new URL('../assets/hats/', import.meta.url));

/** Darkens towards both sides of [left, right], as light falls on a cylinder from the front-left. */
function cylinder(base: Paint, left: number, right: number): Paint {
  return (x, y) => {
    const t = Math.max(0, Math.min(1, (x - left) / (right - left)));
    const light = 0.55 + 0.65 * Math.sin(Math.PI * Math.pow(t, 0.8)) ** 0.6;
    const [r, g, b, a] = base(x, y);
    return [Math.min(255, r * light), Math.min(255, g * light), Math.min(255, b * light), a];
  };
}

function topHat(): Canvas {
  const c = new Canvas(S, S);
  const brimY = 270;
  const [crownBottom, crownTop] = [114, 121]; // half widths
  const topY = 84;

  // Brim: a wide flat ellipse, lit from above.
  const brim = ellipse(CX, brimY, 184, 33);
  c.fill(brim, linear([0, brimY - 33], [0, brimY + 33], [[0, hex('#4a4560')], [0.45, hex('#2a2737')], [1, hex('#141219')]]));
  c.stroke(ellipse(CX, brimY - 1, 180, 30), 2, hex('#6b6485', 0.55));

  // Crown: a slightly flared cylinder standing in the brim.
  const crown = new Path()
    .moveTo(CX - crownBottom, brimY - 4)
    .lineTo(CX - crownTop, topY)
    .quadTo(CX, topY + 30, CX + crownTop, topY)
    .lineTo(CX + crownBottom, brimY - 4)
    .quadTo(CX, brimY + 26, CX - crownBottom, brimY - 4);
  c.fill(crown, cylinder(() => hex('#34304a'), CX - crownTop, CX + crownTop));
  // A soft sheen down the lit side.
  c.fill(polygon([[CX - 64, topY + 18], [CX - 40, topY + 20], [CX - 38, brimY - 40], [CX - 60, brimY - 42]]), hex('#ffffff'), 0.07);

  // Band: violet satin with a gold buckle.
  const band = new Path()
    .moveTo(CX - crownBottom + 1, brimY - 46)
    .quadTo(CX, brimY - 20, CX + crownBottom - 1, brimY - 46)
    .lineTo(CX + crownBottom, brimY - 6)
    .quadTo(CX, brimY + 22, CX - crownBottom, brimY - 6);
  c.fill(band, cylinder(linear([0, brimY - 46], [0, brimY], [[0, hex('#9a6bff')], [1, hex('#5a2fc9')]]), CX - crownBottom, CX + crownBottom));
  c.stroke(new Path().moveTo(CX - crownBottom + 1, brimY - 46).quadTo(CX, brimY - 20, CX + crownBottom - 1, brimY - 46), 1.5, hex('#c7b0ff', 0.7));
  const buckle = polygon([[CX - 58, brimY - 38], [CX - 24, brimY - 33], [CX - 24, brimY - 2], [CX - 58, brimY - 8]]);
  c.stroke(buckle, 6, linear([CX - 58, 0], [CX - 24, 0], [[0, hex('#fff0a6')], [1, hex('#d99a1e')]]));

  // Top: the lid, seen slightly from above.
  c.fill(ellipse(CX, topY, crownTop, 15), linear([0, topY - 15], [0, topY + 15], [[0, hex('#4f4965')], [1, hex('#2a2738')]]));
  c.stroke(ellipse(CX, topY, crownTop - 1, 14), 1.5, hex('#7d7699', 0.6));
  return c;
}

function partyHat(): Canvas {
  const c = new Canvas(S, S);
  // Tilted a little for fun: everything is drawn upright around (CX, baseY), then turned.
  const baseY = 236;
  const tilt = (-9 * Math.PI) / 180;
  const turn = ([x, y]: Point): Point => {
    const [dx, dy] = [x - CX, y - baseY];
    return [CX + dx * Math.cos(tilt) - dy * Math.sin(tilt), baseY + dx * Math.sin(tilt) + dy * Math.cos(tilt)];
  };
  const unturn = (x: number, y: number): Point => {
    const [dx, dy] = [x - CX, y - baseY];
    return [CX + dx * Math.cos(-tilt) - dy * Math.sin(-tilt), baseY + dx * Math.sin(-tilt) + dy * Math.cos(-tilt)];
  };
  const [halfBase, tipY] = [94, 64];

  // Cone with spiral stripes, rounded at the bottom like the brim of a cone seen from the front.
  const cone = new Path().moveTo(...turn([CX, tipY]));
  cone.lineTo(...turn([CX + halfBase, baseY]));
  for (let i = 1; i <= 24; i++) {
    const a = (i / 24) * Math.PI;
    cone.lineTo(...turn([CX + halfBase * Math.cos(a), baseY + 16 * Math.sin(a)]));
  }
  const stripes: Rgba[] = [hex('#ff5c9d'), hex('#ffd23f'), hex('#36c5d6')];
  const stripePaint: Paint = (x, y) => {
    const [ux, uy] = unturn(x, y);
    const phase = (uy - tipY) * 0.9 + (ux - CX) * 0.55;
    const band = phase / 26;
    const i = Math.floor(band);
    // Blend across one pixel at each stripe edge so the stripes are anti-aliased too.
    const edge = Math.min(1, (band - i) * 26);
    const colour = mix(stripes[(((i - 1) % 3) + 3) % 3], stripes[((i % 3) + 3) % 3], edge);
    return colour;
  };
  const [left, right] = [turn([CX - halfBase, baseY])[0], turn([CX + halfBase, baseY])[0]];
  c.fill(cone, cylinder(stripePaint, left - 10, right + 10));
  // Confetti dots.
  for (const [x, y, r] of [[-34, 180, 5.5], [28, 148, 5], [-9, 120, 4.5], [48, 200, 5.5], [10, 88, 4]] as const) {
    c.fill(circle(...turn([CX + x, y]), r), hex('#ffffff', 0.9));
  }

  // Ruffle along the base: overlapping cream puffs.
  for (let i = 0; i <= 12; i++) {
    const a = Math.PI - (i / 12) * Math.PI;
    const [x, y] = turn([CX + (halfBase + 6) * Math.cos(a), baseY + 18 * Math.sin(a) + 2]);
    c.fill(circle(x, y, 14), radial([x - 4, y - 5], 18, [[0, hex('#fffdf3')], [0.7, hex('#fbe7c2')], [1, hex('#e9c690')]]));
  }

  // Pom-pom: a cluster of fluffy balls.
  const [px, py] = turn([CX, tipY - 6]);
  for (const [dx, dy, r] of [[0, 0, 20], [-14, 6, 13], [14, 5, 13], [-9, -13, 13], [10, -13, 13], [0, 14, 12]] as const) {
    c.fill(circle(px + dx, py + dy, r), radial([px - 8, py - 10], 32, [[0, hex('#ffffff')], [0.55, hex('#ffd0e6')], [1, hex('#ff7fb8')]]));
  }
  return c;
}

function crown(): Canvas {
  const c = new Canvas(S, S);
  const half = 132;
  const bottomY = 252;
  const sag = 20; // how much the front of the band hangs lower than its sides

  // Red velvet cap inside, seen between the points.
  c.fill(ellipse(CX, 196, half - 16, 66), radial([CX - 30, 156], 140, [[0, hex('#d8355e')], [0.6, hex('#9e1b3c')], [1, hex('#5d0c22')]]));

  // The gold front: five points over a band.
  const tips: Point[] = [[CX - half - 6, 142], [CX - 66, 118], [CX, 98], [CX + 66, 118], [CX + half + 6, 142]];
  const valleys: Point[] = [[CX - 100, 196], [CX - 33, 186], [CX + 33, 186], [CX + 100, 196]];
  const front = new Path().moveTo(CX - half, bottomY).lineTo(...tips[0]);
  valleys.forEach((v, i) => front.quadTo(v[0] + (i < 2 ? -6 : 6), v[1] + 8, ...v).lineTo(...tips[i + 1]));
  front.lineTo(CX + half, bottomY).quadTo(CX, bottomY + 2 * sag, CX - half, bottomY);
  const gold = linear([0, 92], [0, bottomY + sag], [[0, hex('#fff4b8')], [0.45, hex('#ffcc3a')], [1, hex('#e39a16')]]);
  c.fill(front, cylinder(gold, CX - half - 8, CX + half + 8));
  c.stroke(front, 2.5, hex('#8a5408', 0.9));

  // The band, a shade deeper, with a lit upper edge.
  const bandTop = bottomY - 40;
  const band = new Path()
    .moveTo(CX - half + 1, bandTop)
    .quadTo(CX, bandTop + 2 * sag, CX + half - 1, bandTop)
    .lineTo(CX + half, bottomY)
    .quadTo(CX, bottomY + 2 * sag, CX - half, bottomY);
  c.fill(band, cylinder(linear([0, bandTop], [0, bottomY + sag], [[0, hex('#ffd45a')], [1, hex('#c9800e')]]), CX - half, CX + half));
  c.stroke(new Path().moveTo(CX - half + 2, bandTop).quadTo(CX, bandTop + 2 * sag, CX + half - 2, bandTop), 2, hex('#fff6c9', 0.85));
  c.stroke(new Path().moveTo(CX - half + 2, bottomY).quadTo(CX, bottomY + 2 * sag, CX + half - 2, bottomY), 2, hex('#8a5408', 0.9));

  // Gems on the band (following its curve), each with a glint.
  const bandMidY = (x: number) => {
    const t = (x - (CX - half)) / (2 * half);
    return bandTop + 20 + 4 * sag * t * (1 - t);
  };
  const gems: [number, number, number, string, string][] = [
    [CX, 17, 20, '#ff5577', '#a3102e'],
    [CX - 62, 11, 13, '#5b8cff', '#1d3fb0'],
    [CX + 62, 11, 13, '#5b8cff', '#1d3fb0'],
    [CX - 108, 8, 10, '#3fe29a', '#0e8a52'],
    [CX + 108, 8, 10, '#3fe29a', '#0e8a52'],
  ];
  for (const [x, rx, ry, light, dark] of gems) {
    const y = bandMidY(x);
    c.fill(ellipse(x, y, rx + 3, ry + 3), hex('#8a5408'));
    c.fill(ellipse(x, y, rx, ry), radial([x - rx * 0.35, y - ry * 0.4], Math.max(rx, ry) * 1.5, [[0, hex(light)], [1, hex(dark)]]));
    c.fill(ellipse(x - rx * 0.35, y - ry * 0.45, rx * 0.3, ry * 0.18, -0.5), hex('#ffffff', 0.85));
  }

  // Pearls on the points.
  for (const [x, y] of tips) {
    c.fill(circle(x, y - 6, 11), radial([x - 4, y - 11], 15, [[0, hex('#ffffff')], [0.6, hex('#f3ecff')], [1, hex('#b9aed6')]]));
    c.stroke(circle(x, y - 6, 11), 1.5, hex('#8a7fa8', 0.8));
  }
  return c;
}

/*
 * Glasses and a mask sit on the eyes (common/settings.ts EYE_PIECES, filter tag
 * magic-mirror.anchor = eyes). Their placements are fractions of the face box as for the hats,
 * chosen around a typical face's eyes (midpoint at 0.5, 0.38 of the box, 0.40 of its width
 * apart: engine/vision/overlay.ts TYPICAL_EYES). So in each image the eyes are 0.4 / width of
 * the image apart, on the line given below, and the engine moves that line onto each face's eyes.
 */

/** Glasses: placement (0.02, 0.22, 0.96, 0.32) → eyes at x = 240 ± 100, y = 80 of 480×160. */
function glasses(): Canvas {
  const c = new Canvas(480, 160);
  const [ly, dx, rx, ry] = [82, 100, 80, 58];
  const frame = hex('#17151f');
  for (const side of [-1, 1]) {
    const x = 240 + side * dx;
    // Tinted lens, darker at the top, with a soft reflection.
    c.fill(ellipse(x, ly, rx, ry), linear([0, ly - ry], [0, ly + ry], [[0, hex('#1d2440', 0.9)], [1, hex('#3a4a7a', 0.72)]]));
    c.fill(ellipse(x - 26, ly - 22, 30, 12, -0.5), hex('#ffffff', 0.28));
    c.stroke(ellipse(x, ly, rx, ry), 10, frame);
    // Temple, out to the image's edge.
    c.stroke(polygon([[x + side * (rx - 2), ly - 24], [240 + side * 238, ly - 34], [240 + side * 238, ly - 30], [x + side * (rx - 2), ly - 18]]), 4, frame);
  }
  // Bridge over the nose.
  c.stroke(new Path().moveTo(240 - dx + rx - 6, ly - 18).quadTo(240, ly - 44, 240 + dx - rx + 6, ly - 18), 9, frame);
  return c;
}

/** A masquerade mask: placement (-0.02, 0.14, 1.04, 0.44) → eyes at x = 260 ± 100, y = 120 of 520×220. */
function mask(): Canvas {
  const c = new Canvas(520, 220);
  const cx = 260;
  const ey = 120;
  const half = (side: 1 | -1) => (x: number) => cx + side * x;
  const outline = new Path();
  const L = half(-1);
  const R = half(1);
  outline
    .moveTo(cx, 78)
    .cubicTo(L(40), 40, L(150), 30, L(245), 22)
    .cubicTo(L(250), 90, L(220), 170, L(150), 190)
    .cubicTo(L(90), 205, L(40), 175, cx, 150)
    .cubicTo(R(40), 175, R(90), 205, R(150), 190)
    .cubicTo(R(220), 170, R(250), 90, R(245), 22)
    .cubicTo(R(150), 30, R(40), 40, cx, 78);
  // The eye holes are rings of the same path: filled even-odd, they stay clear.
  for (const side of [-1, 1] as const) {
    const hole = ellipse(cx + side * 100, ey, 50, 28, side * 0.12);
    outline.rings.push(hole.rings[0]!);
  }
  c.fill(outline, linear([0, 20], [0, 200], [[0, hex('#7b3fe4')], [0.55, hex('#4b1fa0')], [1, hex('#2a0f60')]]));
  c.stroke(outline, 5, hex('#f2c14e'));
  // Gems on the brow and the wings.
  for (const [x, y, r] of [[cx, 92, 11], [cx - 190, 60, 8], [cx + 190, 60, 8]] as const) {
    c.fill(circle(x, y, r + 3), hex('#8a5408'));
    c.fill(circle(x, y, r), radial([x - r * 0.35, y - r * 0.4], r * 1.5, [[0, hex('#7ff0ff')], [1, hex('#0f6f8a')]]));
  }
  return c;
}

await mkdir(OUT_DIR, { recursive: true });
for (const [name, draw] of [['top-hat', topHat], ['party-hat', partyHat], ['crown', crown], ['glasses', glasses], ['mask', mask]] as const) {
  await writeFile(`${OUT_DIR}${name}.png`, draw().toPng());
  console.log(`wrote assets/hats/${name}.png`);
}
