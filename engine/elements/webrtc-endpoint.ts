/**
 * WebRtcEndpoint: a Kurento element whose media half is an RtcPeer (@roamhq/wrtc).
 * Frames decoded from the remote peer go into the pipeline; frames the pipeline sends to
 * this element go back out to the remote peer. Peer events become Kurento events.
 */
import { kmd } from '../objects/kmd.js';
import { MediaElementImpl } from '../objects/media-element.js';
import type { MediaObjectImpl, ObjectHost } from '../objects/media-object.js';
import type { AudioFrame, VideoFrame } from '../media/frames.js';
import { RtcPeer, type IceCandidateInit } from '../media/rtc-peer.js';

type TwoState = 'CONNECTED' | 'DISCONNECTED';

export class WebRtcEndpointImpl extends MediaElementImpl {
  private readonly peer: RtcPeer;
  private mediaState: TwoState = 'DISCONNECTED';
  private connectionState: TwoState = 'DISCONNECTED';
  private readonly iceStates = new Map<number, { streamId: string; componentId: number; state: string }>();
  private readonly pairs: Record<string, unknown>[] = [];

  constructor(host: ObjectHost, pipeline: MediaObjectImpl, _params: Record<string, unknown>) {
    super('WebRtcEndpoint', host, pipeline);
    // STUN/TURN properties may be set any time before negotiation, so they are read lazily.
    this.peer = new RtcPeer(() => ({
      stunServerAddress: this.property('stunServerAddress') as string,
      stunServerPort: this.property('stunServerPort') as number,
      turnUrl: this.property('turnUrl') as string,
    }));
    this.wirePeer();

    this.handle('processOffer', ({ offer }) => this.peer.processOffer(offer as string));
    this.handle('generateOffer', ({ options }) =>
      this.peer.generateOffer(options as { offerToReceiveAudio?: boolean; offerToReceiveVideo?: boolean } | undefined),
    );
    this.handle('processAnswer', ({ answer }) => this.peer.processAnswer(answer as string));
    this.handle('getLocalSessionDescriptor', () => this.peer.localSdp ?? '');
    this.handle('getRemoteSessionDescriptor', () => this.peer.remoteSdp ?? '');
    this.handle('gatherCandidates', () => void this.peer.gatherCandidates());
    this.handle('addIceCandidate', async ({ candidate }) => void (await this.peer.addIceCandidate(candidate as IceCandidateInit)));
    this.handle('getMediaState', () => this.mediaState);
    this.handle('getConnectionState', () => this.connectionState);
    this.handle('getICECandidatePairs', () => this.pairs);
    this.handle('getIceConnectionState', () => [...this.iceStates.values()].map((s) => kmd().tagComplex('IceConnection', s)));
    this.handle('requestKeyframe', () => null);
    this.handle('getStats', ({ mediaType }) => this.stats(mediaType as string | undefined));
  }

  private wirePeer(): void {
    const peer = this.peer;
    peer.on('iceCandidate', (c: IceCandidateInit) => this.raise('IceCandidateFound', { candidate: kmd().tagComplex('IceCandidate', c) }));
    peer.on('iceGatheringDone', () => this.raise('IceGatheringDone'));
    peer.on('iceComponentState', (s: { streamId: number; componentId: number; state: string }) => {
      this.iceStates.set(s.componentId, { streamId: String(s.streamId), componentId: s.componentId, state: s.state });
      this.raise('IceComponentStateChanged', s);
    });
    peer.on('candidatePairSelected', (pair: Record<string, unknown>) => {
      const tagged = kmd().tagComplex('IceCandidatePair', pair);
      this.pairs.push(tagged);
      this.raise('NewCandidatePairSelected', { candidatePair: tagged });
    });
    peer.on('connectionState', (state: TwoState) => {
      if (state === this.connectionState) return;
      const oldState = this.connectionState;
      this.connectionState = state;
      this.raise('ConnectionStateChanged', { oldState, newState: state });
    });
    peer.on('mediaState', (state: TwoState) => {
      if (state === this.mediaState) return;
      const oldState = this.mediaState;
      this.mediaState = state;
      this.raise('MediaStateChanged', { oldState, newState: state });
    });
    peer.on('video', (frame: VideoFrame) => this.pushVideo(frame));
    peer.on('audio', (frame: AudioFrame) => this.pushAudio(frame));
    peer.on('failure', (f: { type: string; message: string }) => this.raiseError(40003, f.type, f.message));
  }

  protected override receiveVideo(frame: VideoFrame): void {
    this.peer.sendVideo(frame);
  }

  protected override receiveAudio(frame: AudioFrame): void {
    this.peer.sendAudio(frame);
  }

  /** libwebrtc's stats mapped onto the KMS stats types apps read (inbound/outbound RTP). */
  private async stats(mediaType?: string): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    const now = Date.now();
    for (const s of await this.peer.getStats()) {
      const kind = String(s.kind ?? s.mediaType ?? '').toUpperCase();
      if (mediaType && kind && kind !== mediaType) continue;
      const common = {
        id: s.id,
        timestampMillis: now,
        ssrc: String(s.ssrc ?? ''),
        associateStatsId: '',
        codecId: s.codecId ?? '',
        transportId: s.transportId ?? '',
        mediaTrackId: '',
        isRemote: false,
        firCount: s.firCount ?? 0,
        pliCount: s.pliCount ?? 0,
        nackCount: s.nackCount ?? 0,
        sliCount: 0,
        remb: 0,
        fractionLost: 0,
      };
      if (s.type === 'inbound-rtp') {
        out[s.id] = kmd().tagComplex('RTCInboundRTPStreamStats', {
          ...common,
          type: 'inboundrtp',
          bytesReceived: s.bytesReceived ?? 0,
          packetsReceived: s.packetsReceived ?? 0,
          packetsLost: s.packetsLost ?? 0,
          jitter: s.jitter ?? 0,
        });
      } else if (s.type === 'outbound-rtp') {
        out[s.id] = kmd().tagComplex('RTCOutboundRTPStreamStats', {
          ...common,
          type: 'outboundrtp',
          bytesSent: s.bytesSent ?? 0,
          packetsSent: s.packetsSent ?? 0,
          packetsLost: 0,
          roundTripTime: 0,
          targetBitrate: s.targetBitrate ?? 0,
        });
      }
    }
    return out;
  }

  protected override dispose(): void {
    super.dispose();
    this.peer.close();
  }
}
