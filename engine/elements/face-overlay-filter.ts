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
import { MediaElementImpl } from '../objects/media-element.js';
import type { MediaObjectImpl, ObjectHost } from '../objects/media-object.js';
import { ErrorCode } from '../protocol/errors.js';
import type { VideoFrame } from '../media/frames.js';
import { BoxTracker } from '../vision/box-tracker.js';
import { detectionService, type DetectionClient } from '../vision/detection-service.js';
import type { FaceBox } from '../vision/face-detector.js';
import { composite, loadOverlayImage, type OverlayImage, type OverlayParams } from '../vision/overlay.js';

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
      void this.loadOverlay(uri as string, params as unknown as OverlayParams);
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
      this.raiseError(ErrorCode.URI_PATH_FILE_NOT_FOUND, 'URI_PATH_FILE_NOT_FOUND', (err as Error).message);
    }
  }

  /** Loads the images a new EACH_FACE_TAG value names; each that fails raises the filter's Error event. */
  private async loadFaceImages(tag: string): Promise<void> {
    this.faceImages = { tag, images: [] };
    const uris = tag.split(/\s+/).filter(Boolean);
    const loaded = await Promise.all(uris.map((uri) => loadOverlayImage(uri).catch((err: Error) => {
      if (this.faceImages.tag === tag && !this.released) this.raiseError(ErrorCode.URI_PATH_FILE_NOT_FOUND, 'URI_PATH_FILE_NOT_FOUND', err.message);
      return undefined;
    })));
    if (this.faceImages.tag === tag) this.faceImages = { tag, images: loaded.filter((i): i is OverlayImage => i !== undefined) };
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

  onFaces(boxes: FaceBox[], seq: number): void {
    this.detectionFailed = false;
    this.tracker.update(boxes, seq);
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
