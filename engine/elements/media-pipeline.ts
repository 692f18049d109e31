/** MediaPipeline: the container every element lives in; releasing it releases them all. */
import { MediaObjectImpl, type ObjectHost } from '../objects/media-object.js';
import { MediaElementImpl } from '../objects/media-element.js';

export class MediaPipelineImpl extends MediaObjectImpl {
  constructor(host: ObjectHost) {
    super('MediaPipeline', host);
    this.handle('getGstreamerDot', () => this.dot());
  }

  private dot(): string {
    const lines = [...this.children].flatMap((c) => (c instanceof MediaElementImpl ? c.dot().split('\n').filter((l) => l.includes('->')) : []));
    return `digraph "${this.id}" {\n${lines.join('\n')}\n}\n`;
  }
}
