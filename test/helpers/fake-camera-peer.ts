/**
 * A Node-side "browser" for tests: an @roamhq/wrtc RTCPeerConnection that offers sendrecv
 * audio + video (trickle ICE), sends counter-stamped fixture video and a 440 Hz tone, and
 * records what comes back — the remote side of any Kurento WebRtcEndpoint-like server.
 *
 *   const cam = new FakeCameraPeer({ background: 'face' });
 *   cam.on('iceCandidate', (c) => server.addIceCandidate(c));
 *   const answer = await server.processOffer(await cam.createOffer());
 *   await cam.processAnswer(answer);
 *   await cam.start();
 *   await cam.connected();
 *   await cam.received.waitForCounters(30);
 *   ...
 *   cam.close();
 *
 * Pitfalls (see also shared/notes/webrtc-in-node.md):
 * - A process that ever created an RTCVideoSource SEGFAULTS (exit 139) when it exits by itself:
 *   test files using this class must call exitAfterTests() from ./process-exit.ts.
 * - close() is required: an unstopped source track keeps the process alive forever.
 * - The outgoing track only carries frames pushed by start(); before start() the remote side
 *   receives no video at all (the connection still completes).
 * - ICE: wrtc 0.10.0 gathers loopback candidates too (127.0.0.1, ::1), so it connects on a
 *   host whose only network is `lo` (docs/networking.md; Chromium, unlike wrtc, skips loopback).
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import wrtc from '@roamhq/wrtc';
import { i420Size, type VideoFrame } from '../../engine/media/frames.js';
import { readCounterI420, stampCounter } from './frame-counter.js';
import { backgroundPainter, type BackgroundKind, type BackgroundPainter } from './video-fixtures.js';

const { RTCPeerConnection, nonstandard } = wrtc;
const { RTCVideoSource, RTCAudioSource, RTCVideoSink, RTCAudioSink } = nonstandard;

const AUDIO_RATE = 48000;
const AUDIO_CHUNK = AUDIO_RATE / 100; // 10 ms
const TONE_HZ = 440;
/**
 * The tone as 5 chunks played in a loop: 440 Hz at 48 kHz repeats exactly every 1200 samples,
 * so 2400 samples (5 chunks) loop seamlessly. Separate arrays, not subarrays: a chunk handed to
 * the native side should start at its buffer's start.
 */
const TONE_CHUNKS = Array.from({ length: 5 }, (_, c) =>
  Int16Array.from({ length: AUDIO_CHUNK }, (_, i) =>
    Math.round(0.3 * 32767 * Math.sin((2 * Math.PI * TONE_HZ * (c * AUDIO_CHUNK + i)) / AUDIO_RATE))));
/** received.audioRms() looks at this many of the latest 10 ms chunks (1 s). */
const RMS_WINDOW = 100;
/** The send loop's tick; video and audio are each paced against the clock, not the tick. */
const TICK_MS = 5;

export interface FakeCameraOptions {
  background?: BackgroundKind;
  /** Paints each frame instead of `background` (e.g. a clip with a known face path). */
  painter?: BackgroundPainter;
  width?: number;
  height?: number;
  fps?: number;
  /** How many of the latest received frames received.frames keeps (default 30). */
  keepFrames?: number;
  /** Frames per moving-face swing (default 300, like makeY4m's clip). */
  period?: number;
}

/** A candidate as Kurento's IceCandidate / the browser's RTCIceCandidateInit carries it. */
export interface IceCandidate {
  candidate: string;
  sdpMid: string | null;
  sdpMLineIndex: number | null;
}

type FrameListener = (frame: VideoFrame, counter: number | null) => void;

/** What came back from the remote side. */
export class ReceivedMedia {
  /** The latest received video frames, oldest first (each its own buffer). */
  readonly frames: VideoFrame[] = [];
  /** Every counter read from a received frame. */
  readonly counters = new Set<number>();
  /** Number of received video frames, with or without a counter. */
  frameCount = 0;
  readonly #keep: number;
  readonly #listeners = new Set<FrameListener>();
  readonly #audioPower: number[] = [];

  constructor(keep: number) {
    this.#keep = keep;
  }

  /** Calls cb for every received frame from now on; returns a function that unsubscribes. */
  onFrame(cb: FrameListener): () => void {
    this.#listeners.add(cb);
    return () => this.#listeners.delete(cb);
  }

  /** RMS of the last second of received audio, 0 (silence or none) to 1 (full scale). */
  audioRms(): number {
    if (this.#audioPower.length === 0) return 0;
    return Math.sqrt(this.#audioPower.reduce((a, b) => a + b, 0) / this.#audioPower.length) / 32768;
  }

  /** Resolves once `count` distinct counters have been received; rejects after timeoutMs. */
  waitForCounters(count: number, timeoutMs = 10_000): Promise<void> {
    if (this.counters.size >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`got ${this.counters.size} of ${count} distinct counters (${this.frameCount} frames) in ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.onFrame(() => {
        if (this.counters.size < count) return;
        clearTimeout(timer);
        off();
        resolve();
      });
    });
  }

  /** @internal */
  addFrame(frame: VideoFrame): void {
    const counter = readCounterI420(frame);
    this.frameCount++;
    if (counter !== null) this.counters.add(counter);
    this.frames.push(frame);
    if (this.frames.length > this.#keep) this.frames.shift();
    for (const cb of this.#listeners) cb(frame, counter);
  }

  /** @internal */
  addAudio(samples: Int16Array): void {
    let sum = 0;
    for (const s of samples) sum += s * s;
    this.#audioPower.push(samples.length ? sum / samples.length : 0);
    if (this.#audioPower.length > RMS_WINDOW) this.#audioPower.shift();
  }
}

export class FakeCameraPeer extends EventEmitter<{ iceCandidate: [IceCandidate] }> {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly received: ReceivedMedia;
  readonly pc: RTCPeerConnection;
  /** Frames pushed so far; the next frame carries this counter (mod 65536). */
  sentFrames = 0;

  readonly #background: BackgroundKind;
  readonly #painter: BackgroundPainter | undefined;
  readonly #period: number;
  /** A synthetic picture has no noise: libvpx's denoiser would only cost the harness CPU (~35 % of encoding). */
  readonly #videoSource = new RTCVideoSource({ needsDenoising: false });
  readonly #audioSource = new RTCAudioSource();
  readonly #localTracks: MediaStreamTrack[];
  readonly #sinks: { stop(): void }[] = [];
  readonly #pendingCandidates: IceCandidate[] = [];
  /**
   * The answer once applied. Not pc.remoteDescription / localDescription: wrtc serializes those
   * on the JS thread while libwebrtc adds candidates to them on its own, and crashes
   * (engine/media/rtc-peer.ts localSdpCache).
   */
  get remoteSdp(): string | undefined {
    return this.#remoteSdp;
  }
  #remoteSdp: string | undefined;
  readonly #sentAt = new Float64Array(65536).fill(NaN);
  #timer: NodeJS.Timeout | undefined;
  #started = false;
  #closed = false;

  constructor(opts: FakeCameraOptions = {}) {
    super();
    this.#background = opts.background ?? 'face';
    this.#painter = opts.painter;
    this.width = opts.width ?? 640;
    this.height = opts.height ?? 480;
    this.fps = opts.fps ?? 30;
    this.#period = opts.period ?? 300;
    this.received = new ReceivedMedia(opts.keepFrames ?? 30);

    this.pc = new RTCPeerConnection();
    const stream = new wrtc.MediaStream();
    this.#localTracks = [this.#audioSource.createTrack(), this.#videoSource.createTrack()];
    for (const track of this.#localTracks) this.pc.addTrack(track, stream);

    this.pc.onicecandidate = ({ candidate }) => {
      // A null candidate marks the end of gathering; Kurento has no message for it.
      if (candidate) {
        this.emit('iceCandidate', { candidate: candidate.candidate, sdpMid: candidate.sdpMid, sdpMLineIndex: candidate.sdpMLineIndex });
      }
    };
    this.pc.ontrack = ({ track }) => {
      if (track.kind === 'video') {
        const sink = new RTCVideoSink(track);
        // The sink hands out a fresh buffer per frame, so frames can be kept as they are.
        sink.onframe = ({ frame }: { frame: VideoFrame }) =>
          this.received.addFrame({ width: frame.width, height: frame.height, data: frame.data });
        this.#sinks.push(sink);
      } else {
        const sink = new RTCAudioSink(track);
        sink.ondata = ({ samples }: { samples: Int16Array }) => this.received.addAudio(samples);
        this.#sinks.push(sink);
      }
    };
  }

  /** Creates the offer (sendrecv audio + video) and sets it as the local description; returns its SDP. */
  async createOffer(): Promise<string> {
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(offer);
    return offer.sdp!;
  }

  /**
   * Applies the remote answer, then any candidates that arrived before it. Something that is
   * not an SDP (undefined, '': e.g. kurento-client's promise form resolves `undefined` when
   * processOffer fails or times out) is refused with a clear error instead of wrtc's TypeError
   * "Expect line: v=".
   */
  async processAnswer(sdp: string): Promise<void> {
    if (typeof sdp !== 'string' || !sdp.startsWith('v=')) {
      throw new Error(`not an SDP answer: ${typeof sdp === 'string' ? JSON.stringify(sdp.slice(0, 40)) : String(sdp)}`);
    }
    await this.pc.setRemoteDescription({ type: 'answer', sdp });
    this.#remoteSdp = sdp;
    for (const c of this.#pendingCandidates.splice(0)) await this.pc.addIceCandidate(c);
  }

  /** Adds a remote candidate (queued until the answer is applied: servers may trickle before). */
  async addIceCandidate(c: IceCandidate): Promise<void> {
    if (this.#remoteSdp === undefined) this.#pendingCandidates.push(c);
    else await this.pc.addIceCandidate(c);
  }

  /** Resolves when the peer connection is 'connected'; rejects on 'failed'/'closed' or after timeoutMs. */
  connected(timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`not connected after ${timeoutMs} ms (${this.pc.connectionState})`)), timeoutMs);
      const check = () => {
        const state = this.pc.connectionState;
        if (state === 'connected') finish();
        else if (state === 'failed' || state === 'closed') finish(new Error(`peer connection ${state}`));
      };
      const finish = (err?: Error) => {
        clearTimeout(timer);
        this.pc.removeEventListener('connectionstatechange', check);
        if (err) reject(err);
        else resolve();
      };
      this.pc.addEventListener('connectionstatechange', check);
      check();
    });
  }

  /**
   * Starts sending: counter-stamped frames at fps and the tone in 10 ms chunks, both paced by the
   * clock. Resolves once the background is loaded and sending has begun.
   */
  async start(): Promise<void> {
    if (this.#started || this.#closed) return;
    this.#started = true;
    const paint = this.#painter ?? (await backgroundPainter(this.#background, this.width, this.height, this.#period));
    if (this.#closed) return;
    const frame: VideoFrame = { width: this.width, height: this.height, data: new Uint8Array(i420Size(this.width, this.height)) };
    const frameMs = 1000 / this.fps;
    let audioChunks = 0;
    let nextFrameAt = performance.now();
    let nextAudioAt = nextFrameAt;

    this.#timer = setInterval(() => {
      const now = performance.now();
      // After a stall (GC, busy event loop) resynchronise instead of sending a burst.
      if (now - nextAudioAt > 100) nextAudioAt = now;
      while (nextAudioAt <= now) {
        const samples = TONE_CHUNKS[audioChunks++ % TONE_CHUNKS.length]!;
        this.#audioSource.onData({ samples, sampleRate: AUDIO_RATE, bitsPerSample: 16, channelCount: 1, numberOfFrames: AUDIO_CHUNK });
        nextAudioAt += 10;
      }
      if (now >= nextFrameAt) {
        const n = this.sentFrames % 65536;
        paint(frame.data, this.sentFrames);
        stampCounter(frame, n);
        this.#videoSource.onFrame(frame);
        this.#sentAt[n] = now;
        this.sentFrames++;
        nextFrameAt = now - nextFrameAt > frameMs ? now + frameMs : nextFrameAt + frameMs;
      }
    }, TICK_MS);
  }

  /** performance.now() when the frame carrying `counter` was last sent, or undefined. */
  sentAt(counter: number): number | undefined {
    const t = this.#sentAt[counter % 65536];
    return Number.isNaN(t) ? undefined : t;
  }

  /** Stops sending and receiving: timer, sinks, every track, then the peer connection. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    for (const sink of this.#sinks) sink.stop();
    for (const track of this.#localTracks) track.stop();
    for (const receiver of this.pc.getReceivers()) receiver.track?.stop();
    this.pc.close();
  }
}
