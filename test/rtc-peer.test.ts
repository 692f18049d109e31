/**
 * RtcPeer against a plain wrtc RTCPeerConnection playing the browser: real ICE over this
 * machine's interfaces, real VP8/Opus encode → network → decode, no mocks.
 *
 * Run: node --import tsx --test test/rtc-peer.test.ts
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import wrtc from '@roamhq/wrtc';
import { i420Size, type AudioFrame, type VideoFrame } from '../engine/media/frames.js';
import { RtcPeer, type IceCandidateInit, type RtcPeerEvents } from '../engine/media/rtc-peer.js';
import { KurentoError } from '../engine/protocol/errors.js';
import { readCounterI420, stampCounter } from './helpers/frame-counter.js';

// A process that created an RTCVideoSource segfaults when it exits by itself (see
// shared/notes/webrtc-in-node.md), so it must call process.exit, after node:test has reported
// (a failed test has set process.exitCode by then). node:test prints its summary on
// 'beforeExit', i.e. once everything is closed; if something was left open that never comes,
// so a fallback exits anyway (unref'd: it does not itself keep the loop alive).
const exit = () => process.exit(process.exitCode ?? 0);
process.once('beforeExit', () => setTimeout(exit, 100));
after(() =>
  setTimeout(() => {
    console.error('rtc-peer.test: event loop still busy 3 s after the last test: something was not closed');
    exit();
  }, 3000).unref(),
);

const { RTCPeerConnection, nonstandard } = wrtc;
// wrtc's typings lean on the DOM lib; these keep the callbacks typed with or without it.
type Track = ConstructorParameters<typeof nonstandard.RTCVideoSink>[0];
type IceEvent = { candidate: { candidate: string; sdpMid: string | null; sdpMLineIndex: number | null } | null };
const WIDTH = 320;
const HEIGHT = 240;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** A 320×240 grey I420 frame carrying counter n in its bottom strip. */
function patternFrame(n: number): VideoFrame {
  const frame = { width: WIDTH, height: HEIGHT, data: new Uint8Array(i420Size(WIDTH, HEIGHT)).fill(128) };
  stampCounter(frame, n);
  return frame;
}

/** The direction attribute of the first m-section of this kind. */
function direction(sdp: string, kind: 'audio' | 'video'): string | undefined {
  const section = sdp.split(/\r\n(?=m=)/).find((s) => s.startsWith(`m=${kind} `));
  return /^a=(sendrecv|sendonly|recvonly|inactive)\r?$/m.exec(section ?? '')?.[1];
}

function rms(samples: Int16Array): number {
  let sum = 0;
  for (const s of samples) sum += s * s;
  return Math.sqrt(sum / samples.length);
}

type Recorded = { name: keyof RtcPeerEvents; args: unknown[] };
const EVENT_NAMES: (keyof RtcPeerEvents)[] = [
  'iceCandidate', 'iceGatheringDone', 'iceComponentState', 'candidatePairSelected', 'connectionState',
  'mediaState', 'mediaFlowIn', 'mediaFlowOut', 'video', 'audio', 'failure',
];

/** Every event the peer emits, in order. */
function record(peer: RtcPeer): Recorded[] {
  const events: Recorded[] = [];
  for (const name of EVENT_NAMES) peer.on(name, (...args: unknown[]) => events.push({ name, args }));
  return events;
}

const named = (events: Recorded[], name: keyof RtcPeerEvents) => events.filter((e) => e.name === name);
const has = (events: Recorded[], name: keyof RtcPeerEvents, arg: unknown) =>
  named(events, name).some((e) => JSON.stringify(e.args[0]) === JSON.stringify(arg));

/**
 * The remote side, acting like a browser: sends a counter-stamped pattern (30 fps) and a 440 Hz
 * tone (10 ms chunks of 480 samples at 48 kHz), and reads the counters and audio level it gets back.
 */
class FakeBrowser {
  readonly pc = new RTCPeerConnection();
  readonly candidates: IceCandidateInit[] = [];
  /** wrtc's end-of-candidates, which may overtake the last candidate events (see rtc-peer.ts). */
  gatheringComplete = false;
  onCandidate: ((c: IceCandidateInit) => void) | undefined;
  readonly countersBack = new Set<number>();
  maxRmsBack = 0;
  private readonly videoSource = new nonstandard.RTCVideoSource();
  private readonly audioSource = new nonstandard.RTCAudioSource();
  private readonly tracks = [this.videoSource.createTrack(), this.audioSource.createTrack()];
  private readonly sinks: { stop(): void }[] = [];
  private timers: NodeJS.Timeout[] = [];

  constructor() {
    for (const track of this.tracks) this.pc.addTrack(track);
    this.pc.onicecandidate = ({ candidate }: IceEvent) => {
      if (!candidate) {
        this.gatheringComplete = true;
        return;
      }
      const c = { candidate: candidate.candidate, sdpMid: candidate.sdpMid ?? '0', sdpMLineIndex: candidate.sdpMLineIndex ?? 0 };
      this.candidates.push(c);
      this.onCandidate?.(c);
    };
    this.pc.ontrack = ({ track }: { track: Track }) => {
      if (track.kind === 'video') {
        const sink = new nonstandard.RTCVideoSink(track);
        sink.onframe = ({ frame }: { frame: VideoFrame }) => {
          const n = readCounterI420(frame);
          if (n !== null) this.countersBack.add(n);
        };
        this.sinks.push(sink);
      } else {
        const sink = new nonstandard.RTCAudioSink(track);
        sink.ondata = (d: AudioFrame) => (this.maxRmsBack = Math.max(this.maxRmsBack, rms(d.samples)));
        this.sinks.push(sink);
      }
    };
  }

  /** Creates and sets the offer; resolves with the offer SDP (no candidates: they trickle). */
  async offer(): Promise<string> {
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(offer);
    return offer.sdp!;
  }

  startSending(): void {
    let n = 0;
    let phase = 0;
    const samples = new Int16Array(480);
    this.timers.push(setInterval(() => this.videoSource.onFrame(patternFrame(n++)), 33));
    this.timers.push(
      setInterval(() => {
        for (let i = 0; i < samples.length; i++) samples[i] = 8000 * Math.sin((phase += (2 * Math.PI * 440) / 48_000));
        this.audioSource.onData({ samples, sampleRate: 48_000, bitsPerSample: 16, channelCount: 1, numberOfFrames: 480 });
      }, 10),
    );
  }

  stopSending(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  close(): void {
    this.stopSending();
    for (const sink of this.sinks) sink.stop();
    for (const track of this.tracks) track.stop();
    this.pc.close();
  }
}

/** An offer from a throwaway FakeBrowser (for tests that need no media). */
async function browserOffer(): Promise<string> {
  const browser = new FakeBrowser();
  try {
    return await browser.offer();
  } finally {
    browser.close();
  }
}

function isKurentoError(code: number, message?: string) {
  return (err: unknown) => {
    assert.ok(err instanceof KurentoError, `expected a KurentoError, got ${String(err)}`);
    assert.equal(err.code, code);
    if (message !== undefined) assert.equal(err.message, message);
    return true;
  };
}

test('processOffer: trickle ICE, loopback of video and audio, KMS-like events', { timeout: 30_000 }, async () => {
  const peer = new RtcPeer();
  const browser = new FakeBrowser();
  try {
    const events = record(peer);
    peer.on('iceCandidate', (c) => void browser.pc.addIceCandidate(c));
    // The KMS magic-mirror loopback: every decoded frame goes straight back.
    peer.on('video', (frame) => peer.sendVideo(frame));
    peer.on('audio', (frame) => peer.sendAudio(frame));

    const offer = await browser.offer();
    await until('browser ICE gathering', () => browser.gatheringComplete);
    assert.ok(browser.candidates.length > 0);

    // As the Kurento tutorial does: processOffer, gatherCandidates and the remote's candidates
    // all go out before the answer comes back.
    let answered = false;
    const answerPromise = peer.processOffer(offer).then((sdp) => ((answered = true), sdp));
    peer.gatherCandidates();
    for (const c of browser.candidates) void peer.addIceCandidate(c);
    assert.equal(answered, false, 'remote candidates must reach the peer before processOffer resolves');
    browser.onCandidate = (c) => void peer.addIceCandidate(c); // any straggler
    const answer = await answerPromise;
    assert.match(answer, /^m=video [1-9]/m);
    assert.match(answer, /^m=audio [1-9]/m);
    assert.equal(direction(answer, 'video'), 'sendrecv');
    assert.equal(direction(answer, 'audio'), 'sendrecv');
    assert.equal(peer.remoteSdp, offer);
    await browser.pc.setRemoteDescription({ type: 'answer', sdp: answer });

    browser.startSending();
    await until('30 distinct counters and a tone back', () => browser.countersBack.size >= 30 && browser.maxRmsBack > 1000, 15_000);
    await until('iceGatheringDone', () => named(events, 'iceGatheringDone').length > 0);
    await until('audio flow-in (from RTP stats)', () => peer.isMediaFlowingIn('AUDIO'), 3000);

    const names = events.map((e) => e.name);
    assert.equal(named(events, 'failure').length, 0, JSON.stringify(named(events, 'failure')));
    const candidates = named(events, 'iceCandidate').map((e) => e.args[0] as IceCandidateInit);
    assert.ok(candidates.length > 0);
    for (const c of candidates) {
      assert.match(c.candidate, /^candidate:/);
      assert.equal(typeof c.sdpMid, 'string');
      assert.equal(typeof c.sdpMLineIndex, 'number');
    }
    assert.ok(names.lastIndexOf('iceCandidate') < names.indexOf('iceGatheringDone'), 'candidates come before IceGatheringDone');
    for (const state of ['GATHERING', 'CONNECTED', 'READY']) {
      assert.ok(has(events, 'iceComponentState', { streamId: 1, componentId: 1, state }), `iceComponentState ${state}`);
    }
    const [pair] = named(events, 'candidatePairSelected').map((e) => e.args[0] as Record<string, unknown>);
    assert.ok(pair, 'candidatePairSelected');
    assert.equal(pair.streamId, '1');
    assert.equal(pair.componentId, 1);
    const kmsCandidate = /^candidate:\S+ 1 (UDP|TCP) \d+ \S+ \d+ typ (host|srflx|prflx|relay)/;
    assert.match(pair.localCandidate as string, kmsCandidate);
    assert.match(pair.remoteCandidate as string, kmsCandidate);
    assert.ok(has(events, 'connectionState', 'CONNECTED'));
    assert.ok(has(events, 'mediaState', 'CONNECTED'));
    assert.ok(has(events, 'mediaFlowIn', { kind: 'VIDEO', state: 'FLOWING' }));
    assert.ok(has(events, 'mediaFlowOut', { kind: 'VIDEO', state: 'FLOWING' }));
    assert.ok(peer.isMediaFlowingIn('VIDEO'));
    assert.ok(peer.isMediaFlowingOut('VIDEO'));
    assert.ok(peer.localSdp?.includes('a=candidate:'), 'localSdp lists the gathered candidates');
    const stats = await peer.getStats();
    assert.ok(stats.some((s) => s.type === 'inbound-rtp' && s.kind === 'video' && s.framesDecoded > 0));

    // The remote stops sending: both kinds go NOT_FLOWING after ~2 s, then media is DISCONNECTED.
    browser.stopSending();
    await until('NOT_FLOWING in', () => !peer.isMediaFlowingIn('VIDEO') && !peer.isMediaFlowingIn('AUDIO'), 5000);
    assert.ok(has(events, 'mediaFlowIn', { kind: 'VIDEO', state: 'NOT_FLOWING' }));
    assert.ok(has(events, 'mediaFlowIn', { kind: 'AUDIO', state: 'NOT_FLOWING' }));
    assert.ok(has(events, 'mediaState', 'DISCONNECTED'));
    assert.equal(named(events, 'iceGatheringDone').length, 1, 'exactly one iceGatheringDone');
  } finally {
    peer.close();
    browser.close();
  }
});

test('gatherCandidates before processOffer still delivers every candidate, then one iceGatheringDone', { timeout: 15_000 }, async () => {
  const peer = new RtcPeer();
  try {
    const events = record(peer);
    peer.gatherCandidates();
    await peer.processOffer(await browserOffer());
    await until('iceGatheringDone', () => named(events, 'iceGatheringDone').length > 0);
    await sleep(300);
    assert.equal(named(events, 'iceGatheringDone').length, 1);
    // The SDP's lines lack the "ufrag" extension: compare up to the port.
    const key = (line: string) => line.split(' ').slice(0, 6).join(' ');
    const emitted = named(events, 'iceCandidate').map((e) => key((e.args[0] as IceCandidateInit).candidate));
    const inSdp = [...peer.localSdp!.matchAll(/^a=(candidate:.*)$/gm)].map((m) => key(m[1]!));
    assert.ok(emitted.length > 0);
    assert.deepEqual(new Set(emitted), new Set(inSdp));
  } finally {
    peer.close();
  }
});

test('generateOffer / processAnswer with a plain RTCPeerConnection, then close()', { timeout: 30_000 }, async () => {
  // Unreachable STUN and TURN servers: accepted by wrtc, and must not matter on a LAN.
  const peer = new RtcPeer(() => ({ stunServerAddress: '192.0.2.250', stunServerPort: 3478, turnUrl: 'user:p%40ss@192.0.2.251:3478?transport=udp' }));
  const browser = new FakeBrowser();
  let sender: NodeJS.Timeout | undefined;
  try {
    const events = record(peer);
    let framesIn = 0;
    peer.on('video', () => framesIn++);
    peer.on('iceCandidate', (c) => void browser.pc.addIceCandidate(c));
    browser.onCandidate = (c) => void peer.addIceCandidate(c);
    peer.gatherCandidates(); // before any negotiation

    const offer = await peer.generateOffer();
    assert.match(offer, /^m=video [1-9]/m);
    await browser.pc.setRemoteDescription({ type: 'offer', sdp: offer });
    const answer = await browser.pc.createAnswer();
    await browser.pc.setLocalDescription(answer);
    const local = await peer.processAnswer(answer.sdp!);
    assert.match(local, /^v=0/);
    assert.equal(peer.remoteSdp, answer.sdp);

    browser.startSending();
    let n = 0;
    sender = setInterval(() => peer.sendVideo(patternFrame(n++)), 33);
    await until('video both ways', () => framesIn >= 10 && browser.countersBack.size >= 10, 15_000);
    assert.ok(has(events, 'connectionState', 'CONNECTED'));
    assert.ok(named(events, 'candidatePairSelected').length > 0);
    assert.equal(named(events, 'failure').length, 0, JSON.stringify(named(events, 'failure')));

    await assert.rejects(peer.processAnswer(answer.sdp!), isKurentoError(40210, 'Sdp Answer already processed'));
    await assert.rejects(peer.generateOffer(), isKurentoError(40208, 'Endpoint already negotiated'));
    await assert.rejects(peer.processOffer(offer), isKurentoError(40208, 'Endpoint already negotiated'));

    // close() while media flows both ways: idempotent, and silent afterwards.
    peer.close();
    peer.close();
    const count = events.length;
    peer.sendVideo(patternFrame(0)); // dropped silently
    peer.gatherCandidates();
    await peer.addIceCandidate(browser.candidates[0]!);
    await sleep(2500); // longer than the flow timeout: no NOT_FLOWING either
    assert.equal(events.length, count, `events after close: ${events.slice(count).map((e) => e.name).join(', ')}`);
    assert.deepEqual(await peer.getStats(), []);
  } finally {
    clearInterval(sender);
    peer.close();
    browser.close();
  }
});

/** Rewrites an offer's video section to offer nothing but H265 (payload type 96). */
function h265Only(sdp: string): string {
  return sdp
    .split(/\r\n(?=m=)/)
    .map((section) => {
      if (!section.startsWith('m=video')) return section;
      return section
        .split('\r\n')
        .filter((line) => !/^a=(rtpmap|fmtp|rtcp-fb):/.test(line) || line.startsWith('a=rtpmap:96 ') || line.startsWith('a=rtcp-fb:96 '))
        .map((line) => (line.startsWith('m=video') ? 'm=video 9 UDP/TLS/RTP/SAVPF 96' : line.replace('a=rtpmap:96 VP8/90000', 'a=rtpmap:96 H265/90000')))
        .join('\r\n');
    })
    .join('\r\n');
}

test('processOffer errors: unparsable SDP (40201), no codec in common (40205)', { timeout: 20_000 }, async () => {
  const offer = await browserOffer();
  const peer = new RtcPeer();
  try {
    for (const bad of ['not an sdp', 'v=0', '']) {
      await assert.rejects(peer.processOffer(bad), isKurentoError(40201, 'Invalid SDP'), JSON.stringify(bad));
    }
    const videoOnly = h265Only(offer).split(/\r\n(?=m=audio)/)[0]!.replace('a=group:BUNDLE 0 1', 'a=group:BUNDLE 0') + '\r\n';
    const noMedia = 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n';
    const allRejected = offer.replace(/^m=(audio|video) 9 /gm, 'm=$1 0 ');
    for (const [name, sdp] of Object.entries({ h265VideoOnly: videoOnly, h265WithAudio: h265Only(offer), noMedia, allRejected })) {
      const t0 = Date.now();
      await assert.rejects(peer.processOffer(sdp), isKurentoError(40205, 'Error processing offer'), name);
      assert.ok(Date.now() - t0 < 3000, `${name} took ${Date.now() - t0} ms`);
    }
    // A failed processOffer leaves the endpoint unnegotiated: a good offer still works.
    assert.match(await peer.processOffer(offer), /^m=video [1-9]/m);
  } finally {
    peer.close();
  }
});

test('processAnswer without an offer (40209), odd candidates and frames', { timeout: 15_000 }, async () => {
  const peer = new RtcPeer();
  try {
    const events = record(peer);
    const notGenerated = isKurentoError(40209, 'Offer not generated. It is not possible to process an answer.');
    await assert.rejects(peer.processAnswer('v=0'), notGenerated);
    // KMS answers success for an unparsable candidate, before and after the remote description.
    await peer.addIceCandidate({ candidate: 'garbage', sdpMid: '0', sdpMLineIndex: 0 });
    await peer.processOffer(await browserOffer());
    await peer.addIceCandidate({ candidate: 'garbage', sdpMid: '0', sdpMLineIndex: 0 });
    await peer.addIceCandidate({ candidate: 'candidate:1 1 UDP 1 192.0.2.9 9 typ host', sdpMid: '7', sdpMLineIndex: 7 });
    await assert.rejects(peer.processAnswer('v=0'), notGenerated);
    assert.throws(() => peer.sendVideo({ width: WIDTH, height: HEIGHT, data: new Uint8Array(10) }), RangeError);
    assert.equal(named(events, 'failure').length, 0);
  } finally {
    peer.close();
  }
});

test('generateOffer options; close() during processOffer', { timeout: 15_000 }, async () => {
  const offerer = new RtcPeer();
  const answerer = new RtcPeer();
  try {
    const sdp = await offerer.generateOffer({ offerToReceiveVideo: false });
    assert.equal(direction(sdp, 'video'), 'sendonly');
    assert.equal(direction(sdp, 'audio'), 'sendrecv');

    const pending = answerer.processOffer(await browserOffer());
    answerer.close();
    await assert.rejects(pending, isKurentoError(40108, 'Endpoint released'));
    await assert.rejects(answerer.processOffer('v=0'), isKurentoError(40108));
  } finally {
    offerer.close();
    answerer.close();
  }
});

test('a STUN address wrtc cannot parse is reported as a failure, not thrown', { timeout: 15_000 }, async () => {
  const peer = new RtcPeer({ stunServerAddress: 'not a host' });
  try {
    const events = record(peer);
    assert.match(await peer.processOffer(await browserOffer()), /^m=video [1-9]/m);
    assert.deepEqual(named(events, 'failure').map((e) => (e.args[0] as { type: string }).type), ['ICE_SERVER_CONFIG']);
  } finally {
    peer.close();
  }
});
