/**
 * MediaElement: a node of the media graph. `connect(sink, mediaType)` wires this element's
 * output of that kind to the sink's input; frames then flow by plain synchronous calls
 * (pushVideo → sink.receiveVideo). A sink has at most one source per media type, as in KMS:
 * connecting a new source replaces the old one. DATA connections are kept as bookkeeping
 * only (no data channels are built).
 */
import { ErrorCode, KurentoError } from '../protocol/errors.js';
import type { AudioFrame, MediaKind, VideoFrame } from '../media/frames.js';
import { kmd } from './kmd.js';
import { MediaObjectImpl, type ObjectHost } from './media-object.js';

export type ConnectionKind = MediaKind | 'DATA';
const ALL_KINDS: ConnectionKind[] = ['AUDIO', 'DATA', 'VIDEO'];

/** A kind that has not seen a frame for this long is reported NOT_FLOWING. */
export const FLOW_TIMEOUT_MS = 2000;
/** A failing element raises its Error event at most this often per media kind. */
export const FRAME_ERROR_REPEAT_MS = 5000;

interface Connection {
  source: MediaElementImpl;
  sink: MediaElementImpl;
  kind: ConnectionKind;
  sourceDescription: string;
  sinkDescription: string;
}

type FlowState = 'FLOWING' | 'NOT_FLOWING';

/** Tracks whether media of each kind flows through one side of an element, and reports changes. */
class FlowMonitor {
  private readonly lastSeen = new Map<MediaKind, number>();
  private readonly state = new Map<MediaKind, FlowState>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly onChange: (kind: MediaKind, state: FlowState) => void) {}

  mark(kind: MediaKind): void {
    this.lastSeen.set(kind, Date.now());
    if (this.state.get(kind) !== 'FLOWING') {
      this.state.set(kind, 'FLOWING');
      this.onChange(kind, 'FLOWING');
      this.timer ??= setInterval(() => this.expire(), FLOW_TIMEOUT_MS / 2).unref();
    }
  }

  isFlowing(kind: MediaKind): boolean {
    return this.state.get(kind) === 'FLOWING';
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private expire(): void {
    const now = Date.now();
    for (const [kind, at] of this.lastSeen) {
      if (this.state.get(kind) === 'FLOWING' && now - at > FLOW_TIMEOUT_MS) {
        this.state.set(kind, 'NOT_FLOWING');
        this.onChange(kind, 'NOT_FLOWING');
      }
    }
    if (![...this.state.values()].includes('FLOWING')) this.stop();
  }
}

export class MediaElementImpl extends MediaObjectImpl {
  private readonly sinkConnections: Connection[] = [];
  private readonly sourceConnections: Connection[] = [];
  private readonly lastFrameError = new Map<MediaKind, number>();
  private readonly flowIn = new FlowMonitor((kind, state) =>
    this.raise('MediaFlowInStateChanged', { mediaType: kind, padName: 'default', state }),
  );
  private readonly flowOut = new FlowMonitor((kind, state) =>
    this.raise('MediaFlowOutStateChanged', { mediaType: kind, padName: 'default', state }),
  );

  constructor(typeName: string, host: ObjectHost, pipeline: MediaObjectImpl) {
    super(typeName, host, pipeline);

    this.handle('connect', (p) => this.connect(p.sink as string, p.mediaType as ConnectionKind | undefined, p));
    this.handle('disconnect', (p) => this.disconnect(p.sink as string, p.mediaType as ConnectionKind | undefined));
    this.handle('getSourceConnections', (p) => this.describeConnections(this.sourceConnections, p));
    this.handle('getSinkConnections', (p) => this.describeConnections(this.sinkConnections, p));
    this.handle('isMediaFlowingIn', (p) => this.flowIn.isFlowing(p.mediaType as MediaKind));
    this.handle('isMediaFlowingOut', (p) => this.flowOut.isFlowing(p.mediaType as MediaKind));
    this.handle('isMediaTranscoding', () => false);
    this.handle('getStats', () => ({}));
    this.handle('getGstreamerDot', () => this.dot());
  }

  /** Finds a sibling element by id (connect targets must live in the same pipeline). */
  private sibling(id: string): MediaElementImpl {
    const el = [...(this.parent?.children ?? [])].find((c) => c.id === id);
    if (!(el instanceof MediaElementImpl)) {
      throw new KurentoError('CONNECT_ERROR', `Cannot connect '${this.id}' to '${id}': not an element of the same pipeline`);
    }
    return el;
  }

  connect(sinkId: string, kind: ConnectionKind | undefined, p: Record<string, unknown> = {}): null {
    const sink = this.sibling(sinkId);
    for (const k of kind ? [kind] : ALL_KINDS) {
      // One source per kind on the sink: a new connection replaces the old one.
      const old = sink.sourceConnections.find((c) => c.kind === k);
      if (old?.source === this) continue;
      if (old) old.source.removeConnection(old);
      const c: Connection = {
        source: this,
        sink,
        kind: k,
        sourceDescription: (p.sourceMediaDescription as string) || 'default',
        sinkDescription: (p.sinkMediaDescription as string) || 'default',
      };
      this.sinkConnections.push(c);
      sink.sourceConnections.push(c);
      this.raise('ElementConnected', {
        mediaType: k,
        sink: sink.id,
        sinkMediaDescription: c.sinkDescription,
        sourceMediaDescription: c.sourceDescription,
      });
    }
    return null;
  }

  disconnect(sinkId: string, kind: ConnectionKind | undefined): null {
    for (const c of this.sinkConnections.filter((c) => c.sink.id === sinkId && (!kind || c.kind === kind))) {
      this.removeConnection(c);
    }
    return null;
  }

  private removeConnection(c: Connection): void {
    c.source.sinkConnections.splice(c.source.sinkConnections.indexOf(c), 1);
    c.sink.sourceConnections.splice(c.sink.sourceConnections.indexOf(c), 1);
    c.source.raise('ElementDisconnected', {
      mediaType: c.kind,
      sink: c.sink.id,
      sinkMediaDescription: c.sinkDescription,
      sourceMediaDescription: c.sourceDescription,
    });
  }

  private describeConnections(list: Connection[], p: Record<string, unknown>) {
    return list
      .filter((c) => !p.mediaType || c.kind === p.mediaType)
      .filter((c) => !p.description || c.sourceDescription === p.description || c.sinkDescription === p.description)
      .sort((a, b) => a.kind.localeCompare(b.kind))
      .map((c) =>
        kmd().tagComplex('ElementConnectionData', {
          sink: c.sink.id,
          sinkDescription: c.sinkDescription,
          source: c.source.id,
          sourceDescription: c.sourceDescription,
          type: c.kind,
        }),
      );
  }

  /** Sends a frame this element produced to every connected video sink. */
  protected pushVideo(frame: VideoFrame): void {
    this.flowOut.mark('VIDEO');
    for (const c of this.sinkConnections) if (c.kind === 'VIDEO') c.sink.acceptVideo(frame);
  }

  protected pushAudio(frame: AudioFrame): void {
    this.flowOut.mark('AUDIO');
    for (const c of this.sinkConnections) if (c.kind === 'AUDIO') c.sink.acceptAudio(frame);
  }

  private acceptVideo(frame: VideoFrame): void {
    if (this.released) return;
    this.flowIn.mark('VIDEO');
    try {
      this.receiveVideo(frame);
    } catch (err) {
      this.frameFailed('VIDEO', err);
      this.pushVideo(frame);
    }
  }

  private acceptAudio(frame: AudioFrame): void {
    if (this.released) return;
    this.flowIn.mark('AUDIO');
    try {
      this.receiveAudio(frame);
    } catch (err) {
      this.frameFailed('AUDIO', err);
      this.pushAudio(frame);
    }
  }

  /**
   * Whatever this element throws on a frame is its own failure, never the engine's: it becomes
   * this element's `Error` event (as KMS raises a failing element's GStreamer error), the frame
   * goes on as it came, and subclasses drop what failed (onFrameError). One event per kind
   * every FRAME_ERROR_REPEAT_MS, not one per frame.
   */
  private frameFailed(kind: MediaKind, err: unknown): void {
    this.onFrameError(err);
    const now = Date.now();
    if (now - (this.lastFrameError.get(kind) ?? -Infinity) < FRAME_ERROR_REPEAT_MS) return;
    this.lastFrameError.set(kind, now);
    this.raiseError(ErrorCode.UNEXPECTED_ERROR, 'UNEXPECTED_ERROR', `${this.typeName} could not process ${kind.toLowerCase()}: ${err instanceof Error ? err.message : String(err)}`);
  }

  /** A frame failed in receiveVideo/receiveAudio: drop what caused it, so the next frames pass. */
  protected onFrameError(_err: unknown): void {}

  /** What this element does with a frame from its source. By default: pass it on. */
  protected receiveVideo(frame: VideoFrame): void {
    this.pushVideo(frame);
  }

  protected receiveAudio(frame: AudioFrame): void {
    this.pushAudio(frame);
  }

  /** A Graphviz view of this element's connections (KMS returns GStreamer's pipeline graph). */
  dot(): string {
    const edges = this.sinkConnections.map((c) => `  "${c.source.id}" -> "${c.sink.id}" [label="${c.kind}"];`);
    return `digraph "${this.id}" {\n${edges.join('\n')}\n}\n`;
  }

  protected override dispose(): void {
    for (const c of [...this.sinkConnections, ...this.sourceConnections]) c.source.removeConnection(c);
    this.flowIn.stop();
    this.flowOut.stop();
  }
}
