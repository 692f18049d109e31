/**
 * One run of the mirror, as in the Kurento magic-mirror tutorial's index.js: a kurento-utils
 * WebRtcPeerSendrecv shows the camera in the camera <video> and what comes back in the mirror
 * <video>; its SDP offer goes out in `start`, and the answer (`startResponse`) and the
 * server's ICE candidates (`iceCandidate`) come back. Beyond the tutorial it passes on the
 * server's `status` messages and watches for what the page can see by itself: no answer,
 * ICE failure, no frames arriving, the camera going away.
 */
import kurentoUtils from 'kurento-utils';
import type { IceCandidateJson, MediaServerSummary, ServerMessage } from '../common/mirror-protocol.js';
import type { Problem } from './messages.js';
import { markStep } from './timing.js';
import type { MirrorTransport } from './transport/transport.js';

export interface SessionEvents {
  /** The server waits for its media server (the built-in engine starting, or a connection opening). */
  waiting(what: 'engine' | 'media-server'): void;
  /** With a pool of media servers: which took the mirror, and each one's state. */
  mediaServers(current: string, servers: MediaServerSummary[]): void;
  /** The server's answer is applied: the tutorial's I_CAN_STOP. */
  answered(): void;
  /** The mirror <video> shows its first frame. */
  firstFrame(): void;
  /** The local ICE connection state changed. */
  iceState(state: RTCIceConnectionState): void;
  problem(problem: Problem, serverMessage?: string): void;
  problemCleared(problem: Problem): void;
  /**
   * The session ended by itself (not through stop()) and is already disposed. problem is
   * undefined for a server error without a code (the tutorial's server sends those).
   */
  ended(why: { problem: Problem | undefined; serverMessage?: string; retry?: boolean } | { stoppedReason: string }): void;
}

export interface SessionOptions {
  transport: MirrorTransport;
  camera: MediaStream;
  cameraVideo: HTMLVideoElement;
  mirrorVideo: HTMLVideoElement;
  events: SessionEvents;
}

/** How long the server may take to answer `start` (it builds a Kurento pipeline meanwhile). */
const ANSWER_TIMEOUT_MS = 20_000;
/** How long the mirror may go without a decoded frame before it counts as "no video". */
const NO_MEDIA_MS = 10_000;
const MEDIA_POLL_MS = 1_000;
/** No local ICE candidate this long after the peer connection was made: the browser has no usable network. */
const NO_CANDIDATE_MS = 5_000;

export class MirrorSession {
  private readonly peer: kurentoUtils.WebRtcPeer;
  private answerTimer: number;
  private mediaTimer = 0;
  private noCandidateTimer = 0;
  private disposed = false;

  constructor(private readonly options: SessionOptions) {
    const { transport, camera, cameraVideo, mirrorVideo, events } = options;
    transport.onMessage((message) => this.onServerMessage(message));
    this.answerTimer = window.setTimeout(() => this.end({ problem: 'server-timeout' }), ANSWER_TIMEOUT_MS);
    camera.getVideoTracks()[0]?.addEventListener('ended', () => this.end({ problem: 'camera-lost' }));

    const session = this;
    this.peer = kurentoUtils.WebRtcPeer.WebRtcPeerSendrecv(
      {
        localVideo: cameraVideo,
        remoteVideo: mirrorVideo,
        videoStream: camera,
        // kurento-utils would add a random set of public STUN servers (freeice). The page and
        // the media server are on one machine or network, where host candidates suffice, and
        // a mirror should not tell third parties that it is running.
        configuration: { iceServers: [] },
        onicecandidate: (candidate) => transport.send({ id: 'onIceCandidate', candidate: toJson(candidate) }),
      },
      function (error) {
        if (error) return session.fail(error);
        this.generateOffer((offerError, sdpOffer) => {
          if (offerError) return session.fail(offerError);
          if (session.disposed) return;
          transport.send({ id: 'start', sdpOffer, statusEvents: true });
          markStep('offer');
        });
      },
    );
    const pc = this.peer.peerConnection;
    // A browser whose only network is loopback gathers no candidate at all (Chromium skips
    // loopback unless --allow-loopback-in-peer-connection; docs/networking.md): say so, rather
    // than wait for a "no video" that has a different cure.
    // Measured in a loopback-only network namespace: gathering then never completes, so a
    // silent NO_CANDIDATE_MS is the sign (host candidates come within milliseconds otherwise).
    let localCandidates = 0;
    const noNetwork = () => localCandidates === 0 && !this.disposed && events.problem('no-network');
    pc.addEventListener('icecandidate', (e) => void (e.candidate?.candidate && localCandidates++));
    pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && noNetwork());
    this.noCandidateTimer = window.setTimeout(noNetwork, NO_CANDIDATE_MS);
    pc.addEventListener('iceconnectionstatechange', () => {
      const state = pc.iceConnectionState;
      events.iceState(state);
      if (state === 'failed') events.problem('ice-failed');
      else if (state === 'connected' || state === 'completed') {
        markStep('ice');
        events.problemCleared('ice-failed');
      }
    });
  }

  get peerConnection(): RTCPeerConnection {
    return this.peer.peerConnection;
  }

  /** The tutorial's stop(): tells the server, then releases the peer and the camera. */
  stop(): void {
    if (this.disposed) return;
    this.options.transport.send({ id: 'stop' });
    this.dispose();
  }

  /** Releases everything without telling the server (for when the link is gone). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    clearTimeout(this.answerTimer);
    clearTimeout(this.mediaTimer);
    clearTimeout(this.noCandidateTimer);
    this.options.transport.onMessage(() => {});
    this.peer.dispose();
    // dispose() stops the tracks it sent; stop them all in case it never got to add them.
    this.options.camera.getTracks().forEach((t) => t.stop());
  }

  private onServerMessage(message: ServerMessage): void {
    const { events } = this.options;
    switch (message.id) {
      case 'startResponse':
        clearTimeout(this.answerTimer);
        this.peer.processAnswer(message.sdpAnswer, (error) => {
          if (error) return this.fail(error);
          markStep('answer');
          this.showRemoteTracks();
          events.answered();
          this.watchMedia();
        });
        break;
      case 'iceCandidate':
        this.peer.addIceCandidate(message.candidate, (error) => {
          if (error) console.warn('mirror: the server sent an ICE candidate this browser rejects', error);
        });
        break;
      case 'error':
        this.end({ problem: message.code, serverMessage: message.message, retry: message.retry === true });
        break;
      case 'status': {
        const status = message.status;
        if (status.kind === 'problem') events.problem(status.problem, status.message);
        else if (status.kind === 'problem-cleared') events.problemCleared(status.problem);
        else if (status.kind === 'stopped') this.end({ stoppedReason: status.reason });
        else if (status.kind === 'media-in' && status.flowing) markStep('serverMedia');
        else if (status.kind === 'waiting') events.waiting(status.for);
        else if (status.kind === 'media-servers') events.mediaServers(status.current, status.servers);
        // 'ice' repeats what the local peer connection reports; 'media-in'/'media-out' not
        // flowing come as 'no-media' problems too.
        break;
      }
    }
  }

  /**
   * kurento-utils shows pc.getRemoteStreams()[0], but Chrome only groups remote tracks into the
   * streams the answer names (a=msid:<stream> <track>). Kurento names one; an answer without
   * (a=msid:- <track>, as a wrtc peer sends when its tracks belong to no stream) would leave
   * the mirror empty, so then the page shows the received tracks itself.
   */
  private showRemoteTracks(): void {
    const { mirrorVideo } = this.options;
    if (!mirrorVideo.srcObject) mirrorVideo.srcObject = new MediaStream(this.peer.peerConnection.getReceivers().map((r) => r.track));
  }

  /**
   * Reports the first frame, and "no video" while no frame has been decoded for NO_MEDIA_MS
   * with ICE connected (before that, and after an ICE failure, ICE is the problem to show).
   * Counts decoded frames (getStats) rather than painted ones, which a hidden tab throttles.
   */
  private watchMedia(): void {
    const { mirrorVideo, events } = this.options;
    mirrorVideo.requestVideoFrameCallback((_now, frame) => {
      if (this.disposed) return;
      markStep('firstFrame', frame.expectedDisplayTime);
      events.firstFrame();
    });
    let frames = 0;
    let lastChange = performance.now();
    let reported = false;
    const poll = async () => {
      const pc = this.peer.peerConnection;
      const decoded = await framesDecoded(pc);
      if (this.disposed) return;
      const now = performance.now();
      const iceUp = pc.iceConnectionState === 'connected' || pc.iceConnectionState === 'completed';
      if (!iceUp) {
        lastChange = now;
      } else if (decoded > frames) {
        frames = decoded;
        lastChange = now;
        if (reported) events.problemCleared('no-media');
        reported = false;
      } else if (!reported && now - lastChange > NO_MEDIA_MS) {
        reported = true;
        events.problem('no-media');
      }
      this.mediaTimer = window.setTimeout(poll, MEDIA_POLL_MS);
    };
    void poll();
  }

  private end(why: Parameters<SessionEvents['ended']>[0]): void {
    if (this.disposed) return;
    this.stop();
    this.options.events.ended(why);
  }

  /** A local WebRTC failure (no server message to show): logged, shown as 'internal'. */
  private fail(error: unknown): void {
    console.warn('mirror: WebRTC setup failed', error);
    this.end({ problem: 'internal' });
  }
}

function toJson(candidate: RTCIceCandidate): IceCandidateJson {
  const { candidate: line, sdpMid, sdpMLineIndex } = candidate;
  return { candidate: line, sdpMid, sdpMLineIndex };
}

/** Video frames decoded so far by the peer connection (0 before any arrive or once closed). */
async function framesDecoded(pc: RTCPeerConnection): Promise<number> {
  const stats = await pc.getStats().catch(() => undefined);
  let total = 0;
  stats?.forEach((s: RTCStats & { kind?: string; framesDecoded?: number }) => {
    if (s.type === 'inbound-rtp' && s.kind === 'video') total += s.framesDecoded ?? 0;
  });
  return total;
}
