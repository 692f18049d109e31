/**
 * The Settings page's hat preview: the hat drawn over a still photo the way Kurento's
 * FaceOverlayFilter draws it over each face. For a face box (x, y, w, h) the hat image is
 * stretched to (w·widthPercent) × (h·heightPercent) with its top-left corner at
 * (x + offsetXPercent·w, y + offsetYPercent·h) — the same formula as the engine
 * (engine/vision/overlay.ts) and KMS. The photo's face box is known (measured on a real KMS),
 * so the preview shows what the mirror will show for a face framed like it.
 */
import type { HatOverlay } from '../../common/settings.js';

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Where the hat goes for a face box (KMS's formula). */
export function hatRect(face: Box, o: HatOverlay): Box {
  return {
    x: face.x + o.offsetXPercent * face.width,
    y: face.y + o.offsetYPercent * face.height,
    width: face.width * o.widthPercent,
    height: face.height * o.heightPercent,
  };
}

function union(a: Box, b: Box): Box {
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return { x, y, width: Math.max(a.x + a.width, b.x + b.width) - x, height: Math.max(a.y + a.height, b.y + b.height) - y };
}

/**
 * The part of the photo's plane to show: the head and shoulders around the face, grown to
 * take in the whole hat wherever the numbers put it (even off the photo), then widened to the
 * canvas's aspect ratio.
 */
export function previewView(face: Box, hat: Box | undefined, aspect: number, photo?: { width: number; height: number }): Box {
  let needed: Box = { x: face.x - 1.0 * face.width, y: face.y - 0.5 * face.height, width: 3.0 * face.width, height: 2.5 * face.height };
  if (hat && hat.width > 0 && hat.height > 0) {
    const margin = 0.15 * face.width;
    needed = union(needed, { x: hat.x - margin, y: hat.y - margin, width: hat.width + 2 * margin, height: hat.height + 2 * margin });
  }
  let view = needed;
  if (view.width / view.height < aspect) {
    const w = view.height * aspect;
    view = { ...view, x: view.x - (w - view.width) / 2, width: w };
  } else {
    const h = view.width / aspect;
    view = { ...view, y: view.y - (h - view.height) / 2, height: h };
  }
  if (!photo) return view;
  // Slide the view over the photo where it can (less empty backdrop; a view wider than the
  // photo centres it), keeping what is needed in it.
  const slide = (pos: number, size: number, need0: number, need1: number, limit: number) => {
    const keep = (p: number) => Math.min(need0, Math.max(need1 - size, p));
    if (size > limit) return keep((limit - size) / 2);
    const lo = Math.max(need1 - size, 0);
    const hi = Math.min(need0, limit - size);
    return lo <= hi ? Math.min(hi, Math.max(lo, pos)) : keep(pos);
  };
  return {
    ...view,
    x: slide(view.x, view.width, needed.x, needed.x + needed.width, photo.width),
    y: slide(view.y, view.height, needed.y, needed.y + needed.height, photo.height),
  };
}

/** What the preview draws the hat with: a loaded image, or a stand-in for an image the page cannot load (a file of the person's). */
export type PreviewHat = { kind: 'image'; image: HTMLImageElement } | { kind: 'placeholder'; label: string };

export interface PreviewColours {
  backdrop: string;
  faceBox: string;
  placeholderFill: string;
  placeholderStroke: string;
  placeholderText: string;
}

export class HatPreview {
  private readonly ctx: CanvasRenderingContext2D;

  constructor(
    readonly canvas: HTMLCanvasElement,
    private readonly photo: HTMLImageElement,
    /** The face box in the photo's pixels. */
    private readonly face: Box,
    private readonly colours: PreviewColours,
  ) {
    this.ctx = canvas.getContext('2d')!;
  }

  /** Draws the photo and, for valid numbers, the hat over its face (overlay undefined: no hat, numbers being fixed). */
  draw(hat: PreviewHat | undefined, overlay: HatOverlay | undefined): void {
    const { canvas, ctx, face } = this;
    const W = canvas.width;
    const H = canvas.height;
    const rect = overlay ? hatRect(face, overlay) : undefined;
    const loaded = this.photo.complete && this.photo.naturalWidth > 0;
    const view = previewView(face, rect, W / H, loaded ? { width: this.photo.naturalWidth, height: this.photo.naturalHeight } : undefined);
    const k = W / view.width;
    const toCanvas = (b: Box): Box => ({ x: (b.x - view.x) * k, y: (b.y - view.y) * k, width: b.width * k, height: b.height * k });

    ctx.save();
    ctx.clearRect(0, 0, W, H);
    ctx.fillStyle = this.colours.backdrop;
    ctx.fillRect(0, 0, W, H);
    if (loaded) {
      const p = toCanvas({ x: 0, y: 0, width: this.photo.naturalWidth, height: this.photo.naturalHeight });
      ctx.imageSmoothingQuality = 'high';
      ctx.drawImage(this.photo, p.x, p.y, p.width, p.height);
    }
    // The face box the filter would find, dashed.
    const f = toCanvas(face);
    ctx.setLineDash([Math.max(4, W / 80), Math.max(3, W / 110)]);
    ctx.lineWidth = Math.max(1.5, W / 220);
    ctx.strokeStyle = this.colours.faceBox;
    ctx.strokeRect(f.x, f.y, f.width, f.height);
    ctx.setLineDash([]);

    if (rect && hat) {
      const r = toCanvas(rect);
      if (hat.kind === 'image' && hat.image.complete && hat.image.naturalWidth > 0) {
        ctx.drawImage(hat.image, r.x, r.y, r.width, r.height);
      } else if (hat.kind === 'placeholder') {
        ctx.fillStyle = this.colours.placeholderFill;
        ctx.fillRect(r.x, r.y, r.width, r.height);
        ctx.lineWidth = Math.max(1.5, W / 240);
        ctx.strokeStyle = this.colours.placeholderStroke;
        ctx.strokeRect(r.x, r.y, r.width, r.height);
        ctx.fillStyle = this.colours.placeholderText;
        ctx.font = `600 ${Math.round(Math.max(11, Math.min(r.height / 6, W / 22)))}px system-ui, sans-serif`;
        ctx.textAlign = 'center';
        ctx.textBaseline = 'middle';
        ctx.fillText(hat.label, r.x + r.width / 2, r.y + r.height / 2, r.width * 0.9);
      }
    }
    ctx.restore();
  }
}
