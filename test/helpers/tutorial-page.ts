/**
 * The page side of the magic-mirror protocol, played the way the Kurento tutorial's
 * index.js plays it, with a FakeCameraPeer as the browser's RTCPeerConnection:
 *
 *   start:            {id: 'start', sdpOffer}            (after the offer is made)
 *   local candidate:  {id: 'onIceCandidate', candidate}  (as soon as the peer finds it)
 *   startResponse:    peer.processAnswer(sdpAnswer)
 *   iceCandidate:     peer.addIceCandidate(candidate)
 *   stop:             {id: 'stop'}
 *
 * The transport is the caller's: `send` carries page → server messages, and every
 * server → page message must be handed to receive(). Every received message is kept.
 */
import type { ServerMessage } from '../../common/mirror-protocol.js';
import type { FakeCameraPeer, IceCandidate } from './fake-camera-peer.js';

export interface TutorialPageOptions {
  /** Hold our candidates and send them all before `start` (the order the tutorial's queue exists for). */
  candidatesBeforeStart?: boolean;
  /** Ignore the server's candidates (trickled and in the answer): ICE then only works if the server applied ours. */
  ignoreServerCandidates?: boolean;
  /** Ask for `status` messages (our extension; the tutorial page does not). */
  statusEvents?: boolean;
}

export class TutorialPage {
  readonly received: ServerMessage[] = [];
  readonly sentCandidates: IceCandidate[] = [];
  readonly #waiters = new Set<() => void>();
  readonly #held: IceCandidate[] = [];
  #holding: boolean;

  constructor(
    readonly peer: FakeCameraPeer,
    private readonly send: (message: object) => void,
    private readonly options: TutorialPageOptions = {},
  ) {
    this.#holding = options.candidatesBeforeStart === true;
    peer.on('iceCandidate', (candidate) => {
      if (this.#holding) this.#held.push(candidate);
      else this.#sendCandidate(candidate);
    });
  }

  /**
   * Makes the offer and sends `start` (after all our candidates, with candidatesBeforeStart).
   * The offer goes without candidates, as a browser's does right after setLocalDescription
   * (wrtc's already lists some): every candidate travels by onIceCandidate.
   */
  async start(): Promise<void> {
    const sdpOffer = withoutCandidates(await this.peer.createOffer());
    if (this.#holding) {
      await waitUntil(() => this.peer.pc.iceGatheringState === 'complete', 5000, 'local ICE gathering');
      for (const c of this.#held.splice(0)) this.#sendCandidate(c);
      this.#holding = false;
    }
    this.send(this.options.statusEvents ? { id: 'start', sdpOffer, statusEvents: true } : { id: 'start', sdpOffer });
  }

  stop(): void {
    this.send({ id: 'stop' });
  }

  /** Feed every server → page message here. */
  receive(message: ServerMessage): void {
    this.received.push(message);
    if (message.id === 'startResponse') {
      void this.peer.processAnswer(this.options.ignoreServerCandidates ? withoutCandidates(message.sdpAnswer) : message.sdpAnswer);
    }
    else if (message.id === 'iceCandidate' && !this.options.ignoreServerCandidates) {
      void this.peer.addIceCandidate({ candidate: message.candidate.candidate, sdpMid: message.candidate.sdpMid ?? null, sdpMLineIndex: message.candidate.sdpMLineIndex ?? null });
    }
    for (const w of this.#waiters) w();
  }

  /** Resolves with the first received message (past or future) that matches; rejects after timeoutMs. */
  waitFor<M extends ServerMessage>(match: (m: ServerMessage) => m is M, timeoutMs?: number): Promise<M>;
  waitFor(match: (m: ServerMessage) => boolean, timeoutMs?: number): Promise<ServerMessage>;
  waitFor(match: (m: ServerMessage) => boolean, timeoutMs = 10_000): Promise<ServerMessage> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = this.received.find(match);
        if (!m) return;
        this.#waiters.delete(check);
        clearTimeout(timer);
        resolve(m);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(this.received.map(summary))}`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }

  #sendCandidate(candidate: IceCandidate): void {
    this.sentCandidates.push(candidate);
    this.send({ id: 'onIceCandidate', candidate });
  }
}

function withoutCandidates(sdp: string): string {
  return sdp.split('\r\n').filter((line) => !line.startsWith('a=candidate:') && line !== 'a=end-of-candidates').join('\r\n');
}

/** A message without its bulky SDP, for failure messages. */
export function summary(m: ServerMessage): unknown {
  return m.id === 'startResponse' ? { id: m.id } : m.id === 'iceCandidate' ? { id: m.id } : m;
}

export const isId =
  <I extends ServerMessage['id']>(id: I) =>
  (m: ServerMessage): m is Extract<ServerMessage, { id: I }> =>
    m.id === id;

async function waitUntil(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what} not done within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
