/**
 * FaceOverlayFilter: draws an image over every face, placed as KMS places it. Video frames
 * pass through synchronously; face detection runs off this thread (engine/vision), and between
 * detections every frame moves the faces with the picture (box-tracker.ts), so the hat follows
 * a moving head on every frame. Audio passes through unchanged.
 *
 * Like KMS, setOverlayedImage answers at once and loads the image afterwards; a load failure
 * is reported through this object's `Error` event, not as a failed call. Unlike KMS, faces
 * larger than half the frame still get their hat. The app's tags (common/filter-tags.ts) ask
 * for more: tilt with the head, follow the eyes, each face its own image.
 */
import { ANCHOR_TAG, EACH_FACE_TAG, TILT_TAG } from '../../common/filter-tags.js';
import { OVERLAY_OFFSET_LIMIT, OVERLAY_SIZE_LIMIT } from '../../common/overlay-placement.js';
import { MediaElementImpl } from '../objects/media-element.js';
import type { MediaObjectImpl, ObjectHost } from '../objects/media-object.js';
import { ErrorCode, KurentoError } from '../protocol/errors.js';
import type { VideoFrame } from '../media/frames.js';
import { BoxTracker } from '../vision/box-tracker.js';
import { detectionService, type DetectionClient } from '../vision/detection-service.js';
import type { FaceBox } from '../vision/face-detector.js';
import { ImageLoadError, loadOverlayImage } from '../vision/image-loader.js';
import { composite, type OverlayImage, type OverlayParams } from '../vision/overlay.js';

export class FaceOverlayFilterImpl extends MediaElementImpl implements DetectionClient {
  private overlay: { image: OverlayImage; params: OverlayParams } | undefined;
  /** Bumped by every set/unset, so a slow load that lost the race is dropped. */
  private overlayGeneration = 0;
  /** EACH_FACE_TAG's images, for the value they were loaded for (those that failed are absent). */
  private faceImages: { tag: string; images: OverlayImage[] } = { tag: '', images: [] };
  private readonly tracker = new BoxTracker();
  private detectionFailed = false;

  constructor(host: ObjectHost, pipeline: MediaObjectImpl) {
    super('FaceOverlayFilter', host, pipeline);
    detectionService().warmUp();
    this.handle('setOverlayedImage', ({ uri, ...params }) => {
      void this.loadOverlay(uri as string, checkedPlacement(params));
      return null;
    });
    this.handle('unsetOverlayedImage', () => {
      this.overlayGeneration++;
      this.overlay = undefined;
      return null;
    });
  }

  private async loadOverlay(uri: string, params: OverlayParams): Promise<void> {
    const generation = ++this.overlayGeneration;
    try {
      const image = await loadOverlayImage(uri);
      if (generation === this.overlayGeneration && !this.released) this.overlay = { image, params };
    } catch (err) {
      if (generation !== this.overlayGeneration || this.released) return;
      this.overlay = undefined;
      this.imageFailed(err);
    }
  }

  /**
   * Loads the images a new EACH_FACE_TAG value names (the first MAX_FACE_IMAGES); each that
   * fails raises the filter's Error event.
   */
  private async loadFaceImages(tag: string): Promise<void> {
    this.faceImages = { tag, images: [] };
    const uris = tag.split(/\s+/).filter(Boolean);
    if (uris.length > MAX_FACE_IMAGES) {
      this.raiseError(ErrorCode.MEDIA_OBJECT_ILLEGAL_PARAM_ERROR, 'MEDIA_OBJECT_ILLEGAL_PARAM_ERROR', `${EACH_FACE_TAG} names ${uris.length} images: only the first ${MAX_FACE_IMAGES} are used`);
      uris.length = MAX_FACE_IMAGES;
    }
    const loaded = await Promise.all(uris.map((uri) => loadOverlayImage(uri).catch((err: unknown) => {
      if (this.faceImages.tag === tag && !this.released) this.imageFailed(err);
      return undefined;
    })));
    if (this.faceImages.tag === tag) this.faceImages = { tag, images: loaded.filter((i): i is OverlayImage => i !== undefined) };
  }

  /** The Error event says the image could not be loaded; the log also says why. */
  private imageFailed(err: unknown): void {
    // raiseError logs the public text; the log also gets what the network or file system said.
    if (err instanceof ImageLoadError) this.host.log(`${this.id}: the image failed because: ${err.detail}`);
    this.raiseError(ErrorCode.URI_PATH_FILE_NOT_FOUND, 'URI_PATH_FILE_NOT_FOUND', (err as Error).message);
  }

  protected override receiveVideo(frame: VideoFrame): void {
    const overlay = this.overlay;
    if (!overlay) return this.pushVideo(frame);
    const eachFace = this.tag(EACH_FACE_TAG) ?? '';
    if (eachFace !== this.faceImages.tag) void this.loadFaceImages(eachFace);
    const seq = this.tracker.follow(frame);
    const anchor = this.tag(ANCHOR_TAG) === 'eyes' ? 'eyes' : 'face';
    // Landmarks (roll, eyes) only when the app asked for tilt or eye anchoring: they cost time.
    detectionService().offer(this, frame, seq, this.tag(TILT_TAG) === 'on' || anchor === 'eyes');
    const boxes = this.tracker.boxes;
    if (boxes.length === 0) return this.pushVideo(frame);
    // Draw on a copy: the source element may hand this same frame to other sinks too.
    const out: VideoFrame = { width: frame.width, height: frame.height, data: new Uint8Array(frame.data) };
    // With EACH_FACE_TAG's images, faces take turns by the order they appeared.
    const images = [overlay.image, ...this.faceImages.images];
    for (const box of boxes) composite(out, [box], images[(box.face ?? 0) % images.length]!, overlay.params, anchor);
    this.pushVideo(out);
  }

  /** The overlay failed on a frame (MediaElementImpl.frameFailed): the mirror goes on without it. */
  protected override onFrameError(): void {
    this.overlayGeneration++;
    this.overlay = undefined;
  }

  onFaces(boxes: FaceBox[], seq: number): void {
    this.detectionFailed = false;
    try {
      this.tracker.update(boxes, seq);
    } catch (err) {
      // Called from the detector's message handler: a throw here would end the engine.
      this.onFrameError();
      this.raiseError(ErrorCode.UNEXPECTED_ERROR, 'UNEXPECTED_ERROR', `FaceOverlayFilter could not follow the faces: ${(err as Error).message}`);
    }
  }

  onDetectionError(message: string): void {
    if (this.detectionFailed) return; // one Error event per outage, not one per frame
    this.detectionFailed = true;
    this.raiseError(ErrorCode.UNEXPECTED_ERROR, 'UNEXPECTED_ERROR', `Face detection is not working: ${message}`);
  }

  protected override dispose(): void {
    super.dispose();
    detectionService().forget(this);
  }
}

/** EACH_FACE_TAG's images beyond this many are not loaded (faces beyond it take turns anyway). */
export const MAX_FACE_IMAGES = 8;

/**
 * setOverlayedImage's numbers, refused unless finite and within common/overlay-placement.ts's
 * bounds. KMS takes any double; here a placement is drawn on every frame, so one absurd number
 * (a width of 40000 faces) would cost the frame path a sprite of billions of pixels.
 */
function checkedPlacement(params: Record<string, unknown>): OverlayParams {
  const check = (name: keyof OverlayParams, limit: { min: number; max: number }): number => {
    const v = params[name];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < limit.min || v > limit.max) {
      throw new KurentoError('MEDIA_OBJECT_ILLEGAL_PARAM_ERROR', `setOverlayedImage: ${name} must be a number from ${limit.min} to ${limit.max} (fractions of the face box), not ${String(v)}`);
    }
    return v;
  };
  return {
    offsetXPercent: check('offsetXPercent', OVERLAY_OFFSET_LIMIT),
    offsetYPercent: check('offsetYPercent', OVERLAY_OFFSET_LIMIT),
    widthPercent: check('widthPercent', OVERLAY_SIZE_LIMIT),
    heightPercent: check('heightPercent', OVERLAY_SIZE_LIMIT),
  };
}
