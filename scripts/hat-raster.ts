/**
 * A tiny anti-aliased vector painter for scripts/make-hats.ts: paths of lines and Bézier curves
 * (flattened to polygons), filled or stroked with a solid colour or any per-pixel paint
 * (gradients, stripes), composited "over" into an RGBA image and written as PNG with pngjs.
 *
 * Edges are anti-aliased from the signed distance to the outline: a pixel centre at distance d
 * inside the edge is covered by clamp(0.5 + d) — exact for straight edges, and good for curves
 * much larger than a pixel.
 */
import { PNG } from 'pngjs';

export type Point = readonly [number, number];
/** Straight (not premultiplied) colour: r, g, b in 0..255, a in 0..1. */
export type Rgba = readonly [number, number, number, number];
/** The colour of a shape at a pixel centre. */
export type Paint = (x: number, y: number) => Rgba;

export function hex(color: string, alpha = 1): Rgba {
  const n = parseInt(color.replace('#', ''), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255, alpha];
}

export function mix(a: Rgba, b: Rgba, t: number): Rgba {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t, a[3] + (b[3] - a[3]) * t];
}

/** Colour stops [offset 0..1, colour], offsets ascending. */
export type Stops = readonly (readonly [number, Rgba])[];

function atStops(stops: Stops, t: number): Rgba {
  if (t <= stops[0][0]) return stops[0][1];
  for (let i = 1; i < stops.length; i++) {
    const [o1, c1] = stops[i];
    const [o0, c0] = stops[i - 1];
    if (t <= o1) return mix(c0, c1, (t - o0) / Math.max(1e-9, o1 - o0));
  }
  return stops[stops.length - 1][1];
}

export function linear(from: Point, to: Point, stops: Stops): Paint {
  const [dx, dy] = [to[0] - from[0], to[1] - from[1]];
  const len2 = dx * dx + dy * dy;
  return (x, y) => atStops(stops, ((x - from[0]) * dx + (y - from[1]) * dy) / len2);
}

export function radial(centre: Point, radius: number, stops: Stops): Paint {
  return (x, y) => atStops(stops, Math.hypot(x - centre[0], y - centre[1]) / radius);
}

/** A closed outline made of one or more rings (holes by the even-odd rule). */
export class Path {
  readonly rings: Point[][] = [];
  private ring: Point[] = [];

  moveTo(x: number, y: number): this {
    this.ring = [[x, y]];
    this.rings.push(this.ring);
    return this;
  }
  lineTo(x: number, y: number): this {
    this.ring.push([x, y]);
    return this;
  }
  quadTo(cx: number, cy: number, x: number, y: number): this {
    const [x0, y0] = this.ring[this.ring.length - 1];
    for (let i = 1; i <= 24; i++) {
      const t = i / 24;
      const u = 1 - t;
      this.ring.push([u * u * x0 + 2 * u * t * cx + t * t * x, u * u * y0 + 2 * u * t * cy + t * t * y]);
    }
    return this;
  }
  cubicTo(c1x: number, c1y: number, c2x: number, c2y: number, x: number, y: number): this {
    const [x0, y0] = this.ring[this.ring.length - 1];
    for (let i = 1; i <= 32; i++) {
      const t = i / 32;
      const u = 1 - t;
      const [a, b, c, d] = [u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t];
      this.ring.push([a * x0 + b * c1x + c * c2x + d * x, a * y0 + b * c1y + c * c2y + d * y]);
    }
    return this;
  }
}

export function polygon(points: readonly Point[]): Path {
  const p = new Path().moveTo(...points[0]);
  points.slice(1).forEach(([x, y]) => p.lineTo(x, y));
  return p;
}

export function ellipse(cx: number, cy: number, rx: number, ry: number, rotation = 0): Path {
  const p = new Path();
  const n = Math.max(48, Math.ceil(Math.max(rx, ry) * 1.5));
  const [cos, sin] = [Math.cos(rotation), Math.sin(rotation)];
  for (let i = 0; i < n; i++) {
    const a = (i / n) * 2 * Math.PI;
    const [ex, ey] = [rx * Math.cos(a), ry * Math.sin(a)];
    const [x, y] = [cx + ex * cos - ey * sin, cy + ex * sin + ey * cos];
    if (i === 0) p.moveTo(x, y);
    else p.lineTo(x, y);
  }
  return p;
}

export const circle = (cx: number, cy: number, r: number) => ellipse(cx, cy, r, r);

/** Signed distance from (x, y) to the path's outline: positive inside. */
function signedDistance(rings: readonly Point[][], x: number, y: number): number {
  let best = Infinity;
  let inside = false;
  for (const ring of rings) {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [ax, ay] = ring[j];
      const [bx, by] = ring[i];
      const [ex, ey] = [bx - ax, by - ay];
      const t = Math.max(0, Math.min(1, ((x - ax) * ex + (y - ay) * ey) / (ex * ex + ey * ey || 1)));
      best = Math.min(best, Math.hypot(x - ax - ex * t, y - ay - ey * t));
      if (ay > y !== by > y && x < ax + ((y - ay) * ex) / ey) inside = !inside;
    }
  }
  return inside ? best : -best;
}

export class Canvas {
  /** Premultiplied RGBA, 0..1. */
  private readonly px: Float32Array;

  constructor(readonly width: number, readonly height: number) {
    this.px = new Float32Array(width * height * 4);
  }

  fill(path: Path, paint: Paint | Rgba, opacity = 1): void {
    this.paint(path, paint, (d) => d + 0.5, opacity, 0);
  }

  /** A line of the given width centred on the outline. */
  stroke(path: Path, width: number, paint: Paint | Rgba, opacity = 1): void {
    this.paint(path, paint, (d) => width / 2 + 0.5 - Math.abs(d), opacity, width / 2);
  }

  private paint(path: Path, paint: Paint | Rgba, coverageAt: (d: number) => number, opacity: number, grow: number): void {
    const colour: Paint = typeof paint === 'function' ? paint : () => paint;
    const all = path.rings.flat();
    const x0 = Math.max(0, Math.floor(Math.min(...all.map((p) => p[0])) - grow - 1));
    const x1 = Math.min(this.width - 1, Math.ceil(Math.max(...all.map((p) => p[0])) + grow + 1));
    const y0 = Math.max(0, Math.floor(Math.min(...all.map((p) => p[1])) - grow - 1));
    const y1 = Math.min(this.height - 1, Math.ceil(Math.max(...all.map((p) => p[1])) + grow + 1));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const [cx, cy] = [x + 0.5, y + 0.5];
        const coverage = Math.max(0, Math.min(1, coverageAt(signedDistance(path.rings, cx, cy))));
        if (coverage === 0) continue;
        const [r, g, b, a] = colour(cx, cy);
        const alpha = a * coverage * opacity;
        const i = (y * this.width + x) * 4;
        const keep = 1 - alpha;
        this.px[i] = (r / 255) * alpha + this.px[i] * keep;
        this.px[i + 1] = (g / 255) * alpha + this.px[i + 1] * keep;
        this.px[i + 2] = (b / 255) * alpha + this.px[i + 2] * keep;
        this.px[i + 3] = alpha + this.px[i + 3] * keep;
      }
    }
  }

  /** The image as PNG (straight alpha, as PNG stores it). */
  toPng(): Buffer {
    const png = new PNG({ width: this.width, height: this.height });
    for (let i = 0; i < this.px.length; i += 4) {
      const a = this.px[i + 3];
      for (let c = 0; c < 3; c++) png.data[i + c] = a > 0 ? Math.round(Math.min(1, this.px[i + c] / a) * 255) : 0;
      png.data[i + 3] = Math.round(a * 255);
    }
    return PNG.sync.write(png);
  }
}
