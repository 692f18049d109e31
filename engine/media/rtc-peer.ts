/**
 * RtcPeer: the media half of a Kurento WebRtcEndpoint, built on @roamhq/wrtc 0.10.0.
 * It negotiates one RTCPeerConnection (SDP offer/answer, trickle ICE), hands every decoded
 * remote frame out as a 'video' / 'audio' event and sends frames given to sendVideo/sendAudio
 * to the remote peer through nonstandard RTCVideoSource / RTCAudioSource tracks. The protocol
 * layer maps its events onto Kurento events.
 *
 * Facts about wrtc 0.10.0 measured while writing this (Node 20, linux-x64):
 * - setRemoteDescription rejects with a TypeError ("Expect line: v=") for unparsable SDP,
 *   including a bare "v=0"; with InvalidAccessError when an m-line has no codec it supports
 *   (e.g. H265 only: "Failed to set remote video description send parameters"). An SDP with no
 *   m-lines, or whose m-lines all have port 0, is accepted and answered with nothing usable, so
 *   processOffer checks the answer for an accepted audio/video m-line itself.
 * - addIceCandidate rejects "garbage" with a TypeError ("Expect line: candidate:<candidate-str>")
 *   and rejects every candidate while there is no remote description ("Failed to set ICE
 *   candidate.") — hence the queue below.
 * - libwebrtc gathers as soon as the local description is set (gatherCandidates only releases
 *   what was buffered). Here it also gathered loopback host candidates (127.0.0.1, ::1) besides
 *   eth0's, and TCP passive ones ~100 ms after the UDP ones. With BUNDLE every candidate has
 *   sdpMid "0".
 * - RTCAudioSink is pull-driven: it calls ondata every 10 ms from the moment it exists, with
 *   silence at 16 kHz mono before any RTP, 48 kHz mono once Opus arrives, and fading
 *   concealment noise after RTP stops. So audio flow-in is measured from inbound-rtp
 *   packetsReceived, not from sink callbacks. Video flow-in is measured from decoded frames.
 * - RTCVideoSink hands out a fresh Uint8Array per frame (safe to keep); frames carry a
 *   `rotation` (0 from wrtc senders; phones may send 90/180/270 — not handled here).
 * - Stats: local-/remote-candidate entries carry no foundation; the transport entry's
 *   selectedCandidatePairId names the selected pair. After pc.close() getStats() rejects.
 * - Event dispatch is asynchronous but state getters (iceConnectionState, iceGatheringState)
 *   are live: a 'checking' event may read 'connected', and wrtc's own end-of-candidates (null
 *   candidate) can come before the last candidates. Hence the care in the ICE code below.
 * - `new RTCPeerConnection` with an ICE server it cannot parse ("stun:bad host:3478") throws
 *   AND leaks a handle that keeps the process alive for ever; setConfiguration throws cleanly.
 * - With an unreachable STUN/TURN server gathering completes only after ~40 s, unless ICE
 *   connects first (libwebrtc then stops gathering: no TCP candidates, early completion).
 * - A process that ever created an RTCVideoSource segfaults when it exits by itself: processes
 *   using this module must end with process.exit(). A source track that is never stop()ped
 *   keeps the process alive.
 */
import { EventEmitter } from 'node:events';
import wrtc from '@roamhq/wrtc';
import { KurentoError } from '../protocol/errors.js';
import { FrameBurst } from './frame-burst.js';
import { i420Size, type AudioFrame, type MediaKind, type VideoFrame } from './frames.js';

// The slice of wrtc used here, typed locally: wrtc's own typings re-export the DOM lib's WebRTC
// types, which a Node-only compilation does not have (and whose RTCStatsReport lacks values()).
interface Track {
  readonly kind: string;
  stop(): void;
}
interface Sink {
  stop(): void;
}
interface IceCandidateEvent {
  candidate: { candidate: string; sdpMid: string | null; sdpMLineIndex: number | null } | null;
}
interface SessionDescription {
  type: 'offer' | 'answer';
  sdp: string;
}
interface PeerConnection {
  readonly localDescription: SessionDescription | null;
  readonly remoteDescription: SessionDescription | null;
  readonly iceGatheringState: 'new' | 'gathering' | 'complete';
  readonly iceConnectionState: 'new' | 'checking' | 'connected' | 'completed' | 'disconnected' | 'failed' | 'closed';
  readonly connectionState: 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';
  onicecandidate: ((e: IceCandidateEvent) => void) | null;
  onicegatheringstatechange: (() => void) | null;
  oniceconnectionstatechange: (() => void) | null;
  onconnectionstatechange: (() => void) | null;
  ontrack: ((e: { track: Track }) => void) | null;
  addTrack(track: Track, stream: object): unknown;
  addTransceiver(track: Track, init: { direction: 'sendrecv' | 'sendonly'; streams: object[] }): unknown;
  setRemoteDescription(d: SessionDescription): Promise<void>;
  setLocalDescription(d: SessionDescription): Promise<void>;
  createOffer(): Promise<SessionDescription>;
  createAnswer(): Promise<SessionDescription>;
  addIceCandidate(c: IceCandidateInit): Promise<void>;
  setConfiguration(config: { iceServers: IceServer[] }): void;
  getStats(): Promise<Map<string, Record<string, any>>>;
  close(): void;
}
interface Wrtc {
  RTCPeerConnection: new (config: { iceServers: IceServer[] }) => PeerConnection;
  nonstandard: {
    RTCVideoSource: new (init?: { needsDenoising?: boolean }) => { createTrack(): Track; onFrame(frame: VideoFrame): void };
    RTCAudioSource: new () => { createTrack(): Track; onData(frame: AudioFrame): void };
    RTCVideoSink: new (track: Track) => Sink & { onframe: (e: { frame: VideoFrame & { rotation: number } }) => void };
    RTCAudioSink: new (track: Track) => Sink & { ondata: (d: AudioFrame) => void };
  };
}
type IceServer = { urls: string; username?: string; credential?: string };
const { RTCPeerConnection, MediaStream, nonstandard } = wrtc as unknown as Wrtc & { MediaStream: new () => object };

export interface IceCandidateInit {
  candidate: string;
  sdpMid: string;
  sdpMLineIndex: number;
}

export interface RtcPeerOptions {
  stunServerAddress?: string;
  stunServerPort?: number;
  /** KMS format: user:password@host:port?transport=udp|tcp|tls */
  turnUrl?: string;
}

export type IceComponentState = 'DISCONNECTED' | 'GATHERING' | 'CONNECTING' | 'CONNECTED' | 'READY' | 'FAILED';
export type FlowState = 'FLOWING' | 'NOT_FLOWING';
// Payloads are type aliases (not interfaces) so listeners typed as Record<string, unknown> fit.
export type IceComponentStateEvent = { streamId: number; componentId: number; state: IceComponentState };
export type CandidatePair = { streamId: string; componentId: number; localCandidate: string; remoteCandidate: string };
export type FlowEvent = { kind: MediaKind; state: FlowState };
export type Failure = { type: string; message: string };

export type RtcPeerEvents = {
  iceCandidate: [IceCandidateInit];
  iceGatheringDone: [];
  iceComponentState: [IceComponentStateEvent];
  candidatePairSelected: [CandidatePair];
  connectionState: ['CONNECTED' | 'DISCONNECTED'];
  mediaState: ['CONNECTED' | 'DISCONNECTED'];
  mediaFlowIn: [FlowEvent];
  mediaFlowOut: [FlowEvent];
  video: [VideoFrame];
  audio: [AudioFrame];
  failure: [Failure];
};

/** Upper bound for any single wrtc promise (setRemoteDescription, createAnswer, getStats, ...). */
const WRTC_TIMEOUT_MS = 10_000;
/** A kind with no frame (no new RTP packet, for audio in) for this long is NOT_FLOWING. */
const FLOW_TIMEOUT_MS = 2000;
const FLOW_CHECK_MS = 500;
/** Kurento's ids for the single ICE stream/component (BUNDLE + rtcp-mux). */
const STREAM_ID = 1;
const COMPONENT_ID = 1;
const KINDS: MediaKind[] = ['AUDIO', 'VIDEO'];

/** Decoded frames of one dispatch burst passed on; older ones are stale (see FrameBurst). */
const MAX_FRAMES_PER_BURST = 2;

/** Negotiation progress: at most one SDP exchange per peer, as in KMS. */
type Negotiation = 'none' | 'busy' | 'offerGenerated' | 'done';

export class RtcPeer extends EventEmitter<RtcPeerEvents> {
  private readonly getOptions: () => RtcPeerOptions;
  // Sources exist for the peer's whole life, so sendVideo/sendAudio work before negotiation.
  /**
   * No denoising: what is sent was decoded from a compressed stream already, and libvpx's
   * denoiser took ~35 % of VP8 encoding (EncoderQueue 0.36 → 0.22 core at 4 sessions, 2026-12-02).
   */
  private readonly videoSource = new nonstandard.RTCVideoSource({ needsDenoising: false });
  private readonly audioSource = new nonstandard.RTCAudioSource();
  /** Peer connections created and not yet closed, in this process (for leak checks). */
  static openCount = 0;
  /** Decoded frames not passed on because a newer one came in the same burst (this process). */
  static staleFramesDropped = 0;
  private pc: PeerConnection | undefined;
  private sourceTracks: Track[] = [];
  private sinks: Sink[] = [];
  private closed = false;

  private negotiation: Negotiation = 'none';
  private offerGenerated = false;
  /**
   * The descriptions as set. wrtc's pc.localDescription / remoteDescription getters serialize
   * libwebrtc's description on the JS thread while its signalling thread adds ICE candidates to
   * it: a segfault in webrtc::SdpSerialize (a core dump of a test run, 2026-12-07). So those
   * getters are read only once gathering is complete, and these stand in for them otherwise.
   */
  private localSdpCache: string | undefined;
  private remoteSdpCache: string | undefined;

  // ICE
  private gatherRequested = false;
  private gatheringReported = false;
  private gatheringDoneReported = false;
  private readonly localCandidates: IceCandidateInit[] = [];
  private emittedCandidates = 0;
  /** candidateKey()s of the local candidates received so far. */
  private readonly localCandidateKeys = new Set<string>();
  private readonly pendingRemoteCandidates: IceCandidateInit[] = [];
  /** Candidate lines by "protocol address port", to give the selected pair its foundation. */
  private readonly candidateLines = new Map<string, string>();
  private iceState: IceComponentState | undefined;
  private handledIceConnectionState: string | undefined;
  private selectedPairId: string | undefined;
  private connection: 'CONNECTED' | 'DISCONNECTED' = 'DISCONNECTED';

  // Media flow: one timer per peer checks these timestamps.
  private readonly lastIn = new Map<MediaKind, number>();
  private readonly lastOut = new Map<MediaKind, number>();
  private readonly flowingIn = new Set<MediaKind>();
  private readonly flowingOut = new Set<MediaKind>();
  private mediaConnected = false;
  private audioPacketsIn = 0;
  private flowTimer: NodeJS.Timeout | undefined;
  private statsPending = false;

  /** `opts` may be a function, read when the RTCPeerConnection is created (STUN/TURN set late). */
  constructor(opts?: RtcPeerOptions | (() => RtcPeerOptions)) {
    super();
    this.getOptions = typeof opts === 'function' ? opts : () => opts ?? {};
  }

  get localSdp(): string | undefined {
    return this.localSdpCache;
  }

  get remoteSdp(): string | undefined {
    return this.remoteSdpCache;
  }

  /** Answers a remote offer; returns the SDP answer at once (candidates come by trickle). */
  async processOffer(sdp: string): Promise<string> {
    this.startNegotiation();
    try {
      const pc = this.createPc();
      // addTrack (not addTransceiver) so setRemoteDescription reuses these transceivers for the
      // offered m-lines: the answer is then sendrecv for both kinds, like a KMS loopback.
      // One stream for both tracks: its id goes into the answer's msid, so the browser sees
      // a remote stream (kurento-utils shows `event.streams[0]`), as with KMS.
      const stream = new MediaStream();
      for (const source of [this.videoSource, this.audioSource]) {
        const track = source.createTrack();
        this.sourceTracks.push(track);
        pc.addTrack(track, stream);
      }
      try {
        await guard(pc.setRemoteDescription({ type: 'offer', sdp: withStartBitrate(sdp) }), 'setRemoteDescription');
      } catch (err) {
        throw isParseError(err)
          ? new KurentoError('SDP_PARSE_ERROR', 'Invalid SDP')
          : new KurentoError('SDP_END_POINT_PROCESS_OFFER_ERROR', 'Error processing offer');
      }
      this.remoteSdpCache = sdp;
      this.applyPendingCandidates(pc);
      const answer = await guard(pc.createAnswer(), 'createAnswer');
      if (!acceptsMedia(answer.sdp ?? '')) throw new Error('no audio or video m-line accepted');
      await guard(pc.setLocalDescription(answer), 'setLocalDescription');
      this.checkStillOpen(pc);
      this.localSdpCache = answer.sdp; // not pc.localDescription: see localSdpCache
      this.negotiation = 'done';
      this.startFlowTimer();
      return withStartBitrate(withoutCandidates(this.localSdpCache!));
    } catch (err) {
      this.abandonNegotiation();
      if (this.closed) throw released();
      throw err instanceof KurentoError ? err : new KurentoError('SDP_END_POINT_PROCESS_OFFER_ERROR', 'Error processing offer');
    }
  }

  /** Creates the local offer (sendrecv per kind, sendonly when not offering to receive it). */
  async generateOffer(opts?: { offerToReceiveAudio?: boolean; offerToReceiveVideo?: boolean }): Promise<string> {
    this.startNegotiation();
    try {
      const pc = this.createPc();
      const recv = { VIDEO: opts?.offerToReceiveVideo ?? true, AUDIO: opts?.offerToReceiveAudio ?? true };
      const stream = new MediaStream();
      for (const [kind, source] of [['VIDEO', this.videoSource], ['AUDIO', this.audioSource]] as const) {
        const track = source.createTrack();
        this.sourceTracks.push(track);
        pc.addTransceiver(track, { direction: recv[kind] ? 'sendrecv' : 'sendonly', streams: [stream] });
      }
      const offer = await guard(pc.createOffer(), 'createOffer');
      await guard(pc.setLocalDescription(offer), 'setLocalDescription');
      this.checkStillOpen(pc);
      this.localSdpCache = offer.sdp; // not pc.localDescription: see localSdpCache
      this.offerGenerated = true;
      this.negotiation = 'offerGenerated';
      this.startFlowTimer();
      return withStartBitrate(withoutCandidates(this.localSdpCache!));
    } catch (err) {
      this.abandonNegotiation();
      if (this.closed) throw released();
      throw err instanceof KurentoError ? err : new KurentoError('SDP_END_POINT_GENERATE_OFFER_ERROR', 'Error generating offer');
    }
  }

  /** Applies the remote answer to our offer; returns the local offer SDP. */
  async processAnswer(sdp: string): Promise<string> {
    if (this.closed) throw released();
    if (!this.offerGenerated) {
      throw new KurentoError('SDP_END_POINT_NOT_OFFER_GENERATED', 'Offer not generated. It is not possible to process an answer.');
    }
    if (this.negotiation !== 'offerGenerated') {
      throw new KurentoError('SDP_END_POINT_ANSWER_ALREADY_PROCCESED', 'Sdp Answer already processed');
    }
    const pc = this.pc!;
    this.negotiation = 'busy';
    try {
      await guard(pc.setRemoteDescription({ type: 'answer', sdp: withStartBitrate(sdp) }), 'setRemoteDescription');
      this.checkStillOpen(pc);
    } catch (err) {
      if (this.closed) throw released();
      // The offer is still pending: the caller may try another answer.
      this.negotiation = 'offerGenerated';
      if (err instanceof KurentoError) throw err;
      throw isParseError(err)
        ? new KurentoError('SDP_PARSE_ERROR', 'Invalid SDP')
        : new KurentoError('SDP_END_POINT_PROCESS_ANSWER_ERROR', 'Error processing answer');
    }
    this.remoteSdpCache = sdp;
    this.negotiation = 'done';
    this.applyPendingCandidates(pc);
    return this.localSdpCache!;
  }

  /**
   * Starts delivering local candidates (KMS semantics). libwebrtc gathers on its own once the
   * local description is set; until this is called its candidates are only buffered. May be
   * called before or during negotiation.
   */
  gatherCandidates(): void {
    if (this.closed || this.gatherRequested) return;
    this.gatherRequested = true;
    this.flushLocalCandidates();
  }

  /** Adds a remote candidate; queued until the remote description is set. Never throws. */
  async addIceCandidate(c: IceCandidateInit): Promise<void> {
    if (this.closed) return;
    this.rememberCandidateLine(c.candidate);
    const pc = this.pc;
    if (!pc || this.remoteSdpCache === undefined) {
      this.pendingRemoteCandidates.push(c);
      return;
    }
    await this.applyCandidate(pc, c);
  }

  /** Sends one I420 frame to the remote peer. Throws RangeError on a wrong buffer size. */
  sendVideo(frame: VideoFrame): void {
    if (this.closed) return;
    const expected = i420Size(frame.width, frame.height);
    if (frame.data.length !== expected) {
      throw new RangeError(`I420 ${frame.width}x${frame.height} needs ${expected} bytes, got ${frame.data.length}`);
    }
    this.videoSource.onFrame({ width: frame.width, height: frame.height, data: frame.data });
    this.markOut('VIDEO');
  }

  /** Sends 10 ms of 16-bit PCM to the remote peer. Throws RangeError on an inconsistent frame. */
  sendAudio(frame: AudioFrame): void {
    if (this.closed) return;
    if (frame.samples.length !== frame.numberOfFrames * frame.channelCount) {
      throw new RangeError(
        `audio frame needs ${frame.numberOfFrames}x${frame.channelCount} samples, got ${frame.samples.length}`,
      );
    }
    this.audioSource.onData(frame);
    this.markOut('AUDIO');
  }

  /** Raw RTCStatsReport entries; empty before negotiation and after close. */
  async getStats(): Promise<Record<string, any>[]> {
    const pc = this.pc;
    if (!pc || this.closed) return [];
    const report = await guard(pc.getStats(), 'getStats');
    return [...report.values()];
  }

  isMediaFlowingIn(kind: MediaKind): boolean {
    return this.flowingIn.has(kind);
  }

  isMediaFlowingOut(kind: MediaKind): boolean {
    return this.flowingOut.has(kind);
  }

  /** Idempotent. Stops sinks, source tracks and the peer connection; no events after this. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.flowTimer);
    this.teardownPc();
  }

  // ---------------------------------------------------------------------------------------------

  private fire<K extends keyof RtcPeerEvents>(event: K, ...args: RtcPeerEvents[K]): void {
    // The cast: TS cannot match a generic tuple against EventEmitter's conditional parameter type.
    if (!this.closed) this.emit(event, ...(args as never));
  }

  private startNegotiation(): void {
    if (this.closed) throw released();
    if (this.negotiation !== 'none') throw new KurentoError('SDP_END_POINT_ALREADY_NEGOTIATED', 'Endpoint already negotiated');
    this.negotiation = 'busy';
  }

  /** A failed processOffer/generateOffer leaves the peer as new, so it may be tried again. */
  private abandonNegotiation(): void {
    if (this.closed) return; // close() has torn everything down
    this.teardownPc();
    this.negotiation = 'none';
    this.localSdpCache = undefined;
    this.remoteSdpCache = undefined;
    this.localCandidates.length = 0;
    this.emittedCandidates = 0;
    this.localCandidateKeys.clear();
    this.gatheringReported = false;
    this.gatheringDoneReported = false;
    this.iceState = undefined;
    this.handledIceConnectionState = undefined;
  }

  /** Thrown after an await if close() ran meanwhile (its pc is gone). */
  private checkStillOpen(pc: PeerConnection): void {
    if (this.closed || this.pc !== pc) throw released();
  }

  private teardownPc(): void {
    for (const sink of this.sinks) sink.stop();
    for (const track of this.sourceTracks) track.stop();
    if (this.pc) {
      this.pc.close();
      RtcPeer.openCount--;
    }
    this.sinks = [];
    this.sourceTracks = [];
    this.pc = undefined;
  }

  private createPc(): PeerConnection {
    // wrtc throws "ICE server parse failed" on a bad STUN/TURN setting. From the constructor
    // that also leaks a handle that keeps the process alive for ever; from setConfiguration it
    // does not. KMS would just gather without that server: do the same and report it.
    const pc = new RTCPeerConnection({ iceServers: [] });
    RtcPeer.openCount++;
    this.pc = pc;
    try {
      const servers = iceServers(this.getOptions());
      if (servers.length > 0) pc.setConfiguration({ iceServers: servers });
    } catch (err) {
      this.fire('failure', { type: 'ICE_SERVER_CONFIG', message: String(err) });
    }
    // Every handler ignores a pc that is no longer ours (closed, or abandoned after a failure).
    const current = () => this.pc === pc && !this.closed;

    // wrtc's end-of-candidates (null candidate) is not used: it is dispatched when the *live*
    // gathering state reads 'complete', which can be before the queued candidate events are.
    pc.onicecandidate = ({ candidate }) => {
      if (!current() || !candidate?.candidate) return;
      this.rememberCandidateLine(candidate.candidate);
      this.localCandidateKeys.add(candidateKey(candidate.candidate));
      this.localCandidates.push({
        candidate: candidate.candidate,
        sdpMid: candidate.sdpMid ?? '0',
        sdpMLineIndex: candidate.sdpMLineIndex ?? 0,
      });
      this.flushLocalCandidates();
    };
    pc.onicegatheringstatechange = () => {
      if (current()) this.flushLocalCandidates();
    };
    pc.oniceconnectionstatechange = () => {
      if (current()) void this.onIceConnectionState(pc);
    };
    pc.onconnectionstatechange = () => {
      if (!current()) return;
      const s = pc.connectionState;
      if (s === 'connected') this.setConnection('CONNECTED');
      else if (s === 'disconnected' || s === 'failed' || s === 'closed') this.setConnection('DISCONNECTED');
    };
    pc.ontrack = ({ track }) => {
      if (current()) this.attachSink(track);
    };
    return pc;
  }

  private attachSink(track: Track): void {
    if (track.kind === 'video') {
      const sink = new nonstandard.RTCVideoSink(track);
      const frames = new FrameBurst<VideoFrame>((f) => this.fire('video', f), MAX_FRAMES_PER_BURST, () => RtcPeer.staleFramesDropped++);
      sink.onframe = ({ frame }) => {
        if (this.closed) return;
        this.markIn('VIDEO');
        frames.push({ width: frame.width, height: frame.height, data: frame.data });
      };
      this.sinks.push(sink);
    } else if (track.kind === 'audio') {
      const sink = new nonstandard.RTCAudioSink(track);
      // Called every 10 ms whether or not RTP arrives (see the header); flow is judged by stats.
      sink.ondata = (d) => {
        if (this.closed) return;
        this.fire('audio', {
          samples: d.samples,
          sampleRate: d.sampleRate,
          bitsPerSample: 16,
          channelCount: d.channelCount,
          numberOfFrames: d.numberOfFrames,
        });
      };
      this.sinks.push(sink);
    }
  }

  // ICE ---------------------------------------------------------------------------------------

  /**
   * Once gatherCandidates was called: emits GATHERING, the buffered candidates and, when
   * gathering is complete and every candidate the local SDP lists has been emitted, the one
   * IceGatheringDone.
   */
  private flushLocalCandidates(): void {
    const pc = this.pc;
    if (!this.gatherRequested || !pc || this.closed) return;
    if (!this.gatheringReported && pc.iceGatheringState !== 'new') {
      this.gatheringReported = true;
      // KMS reports GATHERING first; libwebrtc may already be checking (remote candidates were
      // applied), and a late gatherCandidates must not move the state back from READY.
      if (this.iceState === undefined) this.setIceState('GATHERING');
    }
    while (this.emittedCandidates < this.localCandidates.length) {
      this.fire('iceCandidate', this.localCandidates[this.emittedCandidates++]!);
    }
    if (pc.iceGatheringState !== 'complete' || this.gatheringDoneReported) return;
    // Read once gathering is complete, when libwebrtc no longer adds candidates to it (see localSdpCache).
    const sdp = pc.localDescription?.sdp ?? '';
    if (this.listsOnlyKnownCandidates(sdp)) {
      this.gatheringDoneReported = true;
      this.localSdpCache = sdp; // now with every candidate
      this.fire('iceGatheringDone');
    }
  }

  private listsOnlyKnownCandidates(sdp: string): boolean {
    for (const m of sdp.matchAll(/^a=(candidate:.*)$/gm)) if (!this.localCandidateKeys.has(candidateKey(m[1]!))) return false;
    return true;
  }

  private applyPendingCandidates(pc: PeerConnection): void {
    for (const c of this.pendingRemoteCandidates.splice(0)) void this.applyCandidate(pc, c);
  }

  /**
   * KMS answers success even for a candidate it cannot parse ("garbage"), so failures here
   * (unparsable, unknown sdpMid, stale ufrag) are deliberately ignored.
   */
  private async applyCandidate(pc: PeerConnection, c: IceCandidateInit): Promise<void> {
    try {
      await guard(pc.addIceCandidate({ candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex }), 'addIceCandidate');
    } catch {
      // ignored, see above
    }
  }

  private rememberCandidateLine(line: string): void {
    const f = parseCandidate(line);
    if (f) this.candidateLines.set(`${f.protocol} ${f.address} ${f.port}`, line);
  }

  /**
   * wrtc dispatches state-change events asynchronously but its state getters are live, so an
   * event may find the state already past the one it announced (the 'checking' event reading
   * 'connected'); each live state is handled once, whichever event sees it first.
   */
  private async onIceConnectionState(pc: PeerConnection): Promise<void> {
    this.flushLocalCandidates(); // GATHERING, if due, comes before CONNECTING
    const state = pc.iceConnectionState;
    if (state === this.handledIceConnectionState) return;
    this.handledIceConnectionState = state;
    switch (state) {
      case 'checking':
        this.setIceState('CONNECTING');
        break;
      case 'connected':
      case 'completed':
        if (this.iceState === 'READY') {
          await this.reportSelectedPair(pc); // connected -> completed: only the pair may change
          return;
        }
        // KMS order: CONNECTING, NewCandidatePairSelected, CONNECTED, READY. ICE always passes
        // through checking, even when its event was overtaken.
        this.setIceState('CONNECTING');
        await this.reportSelectedPair(pc);
        if (this.pc !== pc || this.handledIceConnectionState !== state) return; // moved on meanwhile
        this.setIceState('CONNECTED');
        this.setIceState('READY');
        break;
      case 'disconnected':
        this.setIceState('DISCONNECTED');
        break;
      case 'failed':
        this.setIceState('FAILED');
        break;
    }
  }

  private setIceState(state: IceComponentState): void {
    if (state === this.iceState) return;
    this.iceState = state;
    this.fire('iceComponentState', { streamId: STREAM_ID, componentId: COMPONENT_ID, state });
  }

  private async reportSelectedPair(pc: PeerConnection): Promise<void> {
    let stats: Record<string, any>[];
    try {
      stats = [...(await guard(pc.getStats(), 'getStats')).values()];
    } catch (err) {
      if (this.pc === pc) this.fire('failure', { type: 'ICE_PAIR_LOOKUP', message: String(err) });
      return;
    }
    const byId = new Map(stats.map((s) => [s.id as string, s]));
    const transport = stats.find((s) => s.type === 'transport' && s.selectedCandidatePairId);
    const pair =
      byId.get(transport?.selectedCandidatePairId) ??
      stats.find((s) => s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded');
    const local = byId.get(pair?.localCandidateId);
    const remote = byId.get(pair?.remoteCandidateId);
    if (!pair || !local || !remote || pair.id === this.selectedPairId) return;
    this.selectedPairId = pair.id;
    this.fire('candidatePairSelected', {
      streamId: String(STREAM_ID),
      componentId: COMPONENT_ID,
      localCandidate: this.kmsCandidate(local),
      remoteCandidate: this.kmsCandidate(remote),
    });
  }

  /**
   * A candidate stats entry in KMS's style: "candidate:1 1 UDP 2015363327 192.0.2.2 64857 typ host".
   * Stats lack the foundation, so it comes from the candidate line we saw (0 if none, e.g. prflx).
   */
  private kmsCandidate(s: Record<string, any>): string {
    const protocol = String(s.protocol).toLowerCase();
    const line = this.candidateLines.get(`${protocol} ${s.address ?? s.ip} ${s.port}`);
    const foundation = (line && parseCandidate(line)?.foundation) || '0';
    let out = `candidate:${foundation} ${COMPONENT_ID} ${protocol.toUpperCase()} ${s.priority} ${s.address ?? s.ip} ${s.port} typ ${s.candidateType}`;
    if (s.relatedAddress) out += ` raddr ${s.relatedAddress} rport ${s.relatedPort}`;
    if (s.tcpType) out += ` tcptype ${s.tcpType}`;
    return out;
  }

  private setConnection(state: 'CONNECTED' | 'DISCONNECTED'): void {
    if (state === this.connection) return;
    this.connection = state;
    this.fire('connectionState', state);
  }

  // Media flow --------------------------------------------------------------------------------

  private markIn(kind: MediaKind): void {
    this.lastIn.set(kind, Date.now());
    if (this.flowingIn.has(kind)) return;
    this.startFlowTimer();
    this.flowingIn.add(kind);
    this.fire('mediaFlowIn', { kind, state: 'FLOWING' });
    if (!this.mediaConnected) {
      this.mediaConnected = true;
      this.fire('mediaState', 'CONNECTED');
    }
  }

  private markOut(kind: MediaKind): void {
    this.lastOut.set(kind, Date.now());
    if (this.flowingOut.has(kind)) return;
    this.startFlowTimer();
    this.flowingOut.add(kind);
    this.fire('mediaFlowOut', { kind, state: 'FLOWING' });
  }

  /** The one flow timer of this peer: expires idle kinds and polls audio RTP arrival. */
  private startFlowTimer(): void {
    this.flowTimer ??= setInterval(() => this.checkFlows(), FLOW_CHECK_MS).unref();
  }

  private checkFlows(): void {
    if (this.closed) return;
    const now = Date.now();
    for (const kind of KINDS) {
      if (this.flowingIn.has(kind) && now - (this.lastIn.get(kind) ?? 0) > FLOW_TIMEOUT_MS) {
        this.flowingIn.delete(kind);
        this.fire('mediaFlowIn', { kind, state: 'NOT_FLOWING' });
      }
      if (this.flowingOut.has(kind) && now - (this.lastOut.get(kind) ?? 0) > FLOW_TIMEOUT_MS) {
        this.flowingOut.delete(kind);
        this.fire('mediaFlowOut', { kind, state: 'NOT_FLOWING' });
      }
    }
    if (this.mediaConnected && this.flowingIn.size === 0) {
      this.mediaConnected = false;
      this.fire('mediaState', 'DISCONNECTED');
    }
    void this.pollAudioIn();
  }

  private async pollAudioIn(): Promise<void> {
    const pc = this.pc;
    if (!pc || this.statsPending || this.remoteSdpCache === undefined) return;
    this.statsPending = true;
    try {
      const report = await guard(pc.getStats(), 'getStats');
      if (this.pc !== pc || this.closed) return;
      let packets = 0;
      for (const s of report.values()) if (s.type === 'inbound-rtp' && s.kind === 'audio') packets += s.packetsReceived ?? 0;
      if (packets > this.audioPacketsIn) this.markIn('AUDIO');
      this.audioPacketsIn = packets;
    } catch {
      // The pc closed meanwhile, or stats were slow: the next tick tries again.
    } finally {
      this.statsPending = false;
    }
  }
}

// Helpers -------------------------------------------------------------------------------------

function released(): KurentoError {
  return new KurentoError('MEDIA_OBJECT_NOT_AVAILABLE', 'Endpoint released');
}

/** Rejects if `p` has not settled within WRTC_TIMEOUT_MS, so no wrtc call can hang a request. */
function guard<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${WRTC_TIMEOUT_MS} ms`)), WRTC_TIMEOUT_MS);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** wrtc reports SDP it cannot parse as a TypeError ("Expect line: ..."). */
function isParseError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'TypeError' || err.name === 'SyntaxError');
}

/** True if the SDP has an audio or video m-line with a non-zero port (i.e. not rejected). */
function acceptsMedia(sdp: string): boolean {
  return /^m=(audio|video) [1-9]/m.test(sdp);
}

/**
 * Start bitrate of every video sender, kbps. libwebrtc starts at 300 kbps and paces a 640×480
 * keyframe out at that rate: measured (bench/, wrtc ↔ engine on one machine) the first frame took
 * ~200 ms per hop instead of ~50, and Start → first mirror frame ~0.44 s; at 1000 kbps ~0.15 s.
 * Bandwidth estimation still adapts from there; a slower link loses a little at the start.
 */
export const VIDEO_START_BITRATE_KBPS = 1000;

/**
 * The SDP with libwebrtc's `x-google-start-bitrate` on each video codec (VP8, VP9, H264, AV1)
 * that lacks one. libwebrtc takes a sender's parameters from the REMOTE description, so this is
 * applied to the remote SDP before it is set (our sender) and to the SDP we hand out (a
 * libwebrtc browser's sender; other endpoints ignore the unknown parameter). Anything without
 * such a codec (garbage, H265 only, …) comes back unchanged. The localSdp/remoteSdp caches keep
 * the SDPs as they were.
 */
export function withStartBitrate(sdp: string, kbps = VIDEO_START_BITRATE_KBPS): string {
  const pts = new Set([...sdp.matchAll(/^a=rtpmap:(\d+) (?:VP8|VP9|H264|AV1)\/90000/gim)].map((m) => m[1]!));
  if (pts.size === 0) return sdp;
  const withFmtp = new Set([...sdp.matchAll(/^a=fmtp:(\d+) /gm)].map((m) => m[1]!));
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const param = `x-google-start-bitrate=${kbps}`;
  return sdp
    .split(eol)
    .flatMap((line) => {
      const fmtp = /^a=fmtp:(\d+) (.*)$/.exec(line);
      if (fmtp && pts.has(fmtp[1]!) && !fmtp[2]!.includes('x-google-start-bitrate')) return [`${line};${param}`];
      const rtpmap = /^a=rtpmap:(\d+) /.exec(line);
      if (rtpmap && pts.has(rtpmap[1]!) && !withFmtp.has(rtpmap[1]!)) return [line, `a=fmtp:${rtpmap[1]} ${param}`];
      return [line];
    })
    .join(eol);
}

/**
 * The SDP as KMS returns it from processOffer/generateOffer: candidates only ever trickle
 * (IceCandidateFound after gatherCandidates), so a client that relies on candidates inside
 * the SDP fails here as it would against KMS. libwebrtc may have some in it already.
 */
function withoutCandidates(sdp: string): string {
  return sdp.replace(/^a=(candidate:|end-of-candidates).*\r?\n/gm, '');
}

/** "foundation component protocol priority address port" of a candidate line (extensions vary). */
function candidateKey(line: string): string {
  return line.replace(/^a=/, '').split(' ').slice(0, 6).join(' ').toLowerCase();
}

function parseCandidate(line: string): { foundation: string; protocol: string; address: string; port: string } | undefined {
  const m = /^(?:a=)?candidate:(\S+) \d+ (\S+) \d+ (\S+) (\d+) typ /i.exec(line);
  return m ? { foundation: m[1]!, protocol: m[2]!.toLowerCase(), address: m[3]!, port: m[4]! } : undefined;
}

/** KMS's stunServerAddress/Port and turnUrl ("user:pass@host:port?transport=udp") as iceServers. */
function iceServers(o: RtcPeerOptions): IceServer[] {
  const servers: IceServer[] = [];
  if (o.stunServerAddress) {
    const host = o.stunServerAddress.includes(':') ? `[${o.stunServerAddress}]` : o.stunServerAddress;
    servers.push({ urls: `stun:${host}:${o.stunServerPort || 3478}` });
  }
  const turn = o.turnUrl && /^([^:@]*):([^@]*)@(.+)$/.exec(o.turnUrl);
  if (turn) servers.push({ urls: `turn:${turn[3]!}`, username: decodeURIComponent(turn[1]!), credential: decodeURIComponent(turn[2]!) });
  return servers;
}
