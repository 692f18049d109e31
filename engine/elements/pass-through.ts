/** PassThrough: forwards audio and video unchanged (MediaElementImpl's default behaviour). */
import { MediaElementImpl } from '../objects/media-element.js';
import type { MediaObjectImpl, ObjectHost } from '../objects/media-object.js';

export class PassThroughImpl extends MediaElementImpl {
  constructor(host: ObjectHost, pipeline: MediaObjectImpl) {
    super('PassThrough', host, pipeline);
  }
}
