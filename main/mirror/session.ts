/**
 * MirrorSession: one page's mirror, the Kurento magic-mirror tutorial's server side made
 * robust. A page (a WebSocket in web mode) has one MirrorSession; each start → stop is a Run
 * that owns at most one MediaPipeline:
 *
 *   start(sdpOffer) → MediaPipeline → WebRtcEndpoint → FaceOverlayFilter.setOverlayedImage
 *   → connect endpoint → filter → endpoint → IceCandidateFound → processOffer → answer
 *   → gatherCandidates
 *
 * Ending a run (stop, the page gone, or any failure at any step) releases its pipeline, once,
 * after the step in flight has returned — so nothing is left on the media server whenever a
 * stop or failure happens. Failures reach the page as an `error` message a person can read.
 */
import kurento from 'kurento-client';
import { iceCandidateProblem, type ClientMessage, type IceCandidateJson, type MediaServerSummary, type MirrorStatus, type ServerMessage } from '../../common/mirror-protocol.js';
import { ANCHOR_TAG, EACH_FACE_TAG, TILT_TAG } from '../../common/filter-tags.js';
import { HAT_PLACEMENT, SESSION_TIMINGS, type HatPlacement, type SessionTimings } from '../defaults.js';
import { KmsAnswerError, type KmsConnection } from '../kms/kms-connection.js';
import { MirrorError, PROBLEM_TEXT, asMirrorError } from '../problems.js';
import type { AdmissionTicket, MirrorAdmission } from './admission.js';
import { MediaStatus, type IceComponentStateChanged, type KurentoErrorEvent, type MediaFlowStateChanged } from './media-status.js';

export interface MirrorSessionOptions {
  /** The media server connection to use, e.g. `() => registry.get(wsUri)`. */
  connect: () => Promise<KmsConnection>;
  /** The hat image URL, as the media server will fetch it (HatServer.uriFor). */
  hatUri: string;
  /** Delivers a message to the page. */
  send: (message: ServerMessage) => void;
  placement?: HatPlacement;
  /** 'eyes' for glasses and masks (common/settings.ts anchorOf): the engine follows each face's eyes; KMS ignores the tag. */
  anchor?: 'face' | 'eyes';
  /** More hat URLs: each face its own (the engine takes turns with hatUri; KMS ignores the tag and draws hatUri on all). */
  moreHatUris?: string[];
  /**
   * Whether another media server can take over a mirror lost on `kms` (a pool): the page is
   * then told to start again at once (ErrorMessage.retry).
   */
  failover?: (kms: KmsConnection) => boolean;
  /** With a pool: which server took the mirror and every server's state (sent to the page as a `media-servers` status). */
  mediaServers?: (kms: KmsConnection) => { current: string; servers: MediaServerSummary[] };
  /** What connect() reaches: the built-in engine or another media server (only for the page's "waiting" text). */
  mediaServer?: 'engine' | 'media-server';
  /** STUN/TURN for the media server's WebRtcEndpoint (Kurento takes IP addresses, not host names). */
  iceServers?: EndpointIceServers;
  timings?: Partial<SessionTimings>;
  /**
   * Web mode's places for mirrors, shared by every session (admission.ts): a run takes one
   * before it asks the media server for anything and frees it once its pipeline is released;
   * a run without camera video in time, or pushed out for a newcomer, ends with an error.
   */
  admission?: MirrorAdmission;
  /** Who is asking (the page socket's remote address), for the admission's fairness between addresses. */
  clientAddress?: string;
  log?: (line: string) => void;
}

/** The WebRtcEndpoint's STUN/TURN properties (Kurento's names); each is set only when given. */
export interface EndpointIceServers {
  stunServerAddress?: string;
  stunServerPort?: number;
  /** user:password@address:port(?transport=udp|tcp) */
  turnUrl?: string;
}

/** Thrown inside a run's steps once the run has been ended by someone else. */
class RunEnded extends Error {}

/** One start → stop cycle. */
class Run {
  kms?: KmsConnection;
  /** Owned from the moment it exists: ending the run releases it. */
  pipeline?: kurento.MediaPipeline;
  /** Set once the endpoint has the offer and takes candidates directly. */
  endpoint?: kurento.WebRtcEndpoint;
  building?: Promise<void>;
  /** Its place (with MirrorSessionOptions.admission), freed once the pipeline is released. */
  ticket?: AdmissionTicket;
  /** Set (synchronously) by the first end; `ended` completes once the pipeline is released. */
  over = false;
  ended?: Promise<void>;
  readonly detach: (() => void)[] = [];

  constructor(
    readonly statusEvents: boolean,
    readonly status: MediaStatus,
  ) {}

  /** Called after every step: a run that was ended meanwhile goes no further. */
  checkAlive(): void {
    if (this.over) throw new RunEnded();
  }
}

export class MirrorSession {
  readonly #o: MirrorSessionOptions;
  readonly #timings: SessionTimings;
  readonly #placement: HatPlacement;
  readonly #log: (line: string) => void;
  #run: Run | undefined;
  /** Page candidates that came before the endpoint could take them (even before `start`). */
  readonly #queued: IceCandidateJson[] = [];
  #closed = false;

  constructor(options: MirrorSessionOptions) {
    this.#o = options;
    this.#timings = { ...SESSION_TIMINGS, ...options.timings };
    this.#placement = options.placement ?? HAT_PLACEMENT;
    this.#log = options.log ?? (() => {});
  }

  /** Whether a run is starting or running. */
  get active(): boolean {
    return this.#run !== undefined;
  }

  /** Handles a page message; the returned promise settles when it has been dealt with (never rejects). */
  handle(message: ClientMessage): Promise<void> {
    switch (message.id) {
      case 'start':
        return this.start(message.sdpOffer, { statusEvents: message.statusEvents });
      case 'onIceCandidate':
        this.addIceCandidate(message.candidate);
        return Promise.resolve();
      case 'stop':
        return this.stop();
    }
  }

  /** Starts the mirror; resolves once it runs (answer sent, candidates gathering) or has failed and been cleaned up. */
  async start(sdpOffer: string, options: { statusEvents?: boolean } = {}): Promise<void> {
    if (this.#closed) return;
    if (this.#run) {
      this.#o.send({ id: 'error', code: 'busy', message: PROBLEM_TEXT.busy() });
      return;
    }
    const statusEvents = options.statusEvents === true;
    const run: Run = new Run(
      statusEvents,
      new MediaStatus({
        report: (status) => this.#sendStatus(run, status),
        hatUri: this.#o.hatUri,
        noMediaMs: this.#timings.noMediaMs,
      }),
    );
    this.#run = run;
    run.building = this.#build(run, sdpOffer);
    try {
      await run.building;
    } catch (err) {
      await (err instanceof RunEnded ? run.ended : this.#end(run, asMirrorError(err)));
    }
  }

  /** A page candidate: straight to the endpoint once it takes them, queued until then. */
  addIceCandidate(candidate: IceCandidateJson): void {
    // Callers check (parseClientMessage, the IPC schema); a candidate that slips past is not forwarded.
    const problem = iceCandidateProblem(candidate);
    if (problem) return this.#log(`dropped an ICE candidate: ${problem}`);
    const run = this.#run;
    if (run?.endpoint) return this.#applyCandidate(run, run.endpoint, candidate);
    if (this.#queued.length < this.#timings.maxQueuedCandidates) this.#queued.push(candidate);
    else this.#log('dropped an ICE candidate: too many queued before start');
  }

  /** Stops the mirror; resolves once its pipeline is released. */
  async stop(): Promise<void> {
    this.#queued.length = 0;
    if (this.#run) await this.#end(this.#run, undefined);
  }

  /** The page is gone: stop, and send nothing more. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.stop();
  }

  async #build(run: Run, sdpOffer: string): Promise<void> {
    const connecting = this.#o.connect();
    // Not connected within a tick (the engine is still starting, or a server is far away): say so.
    if (!(await settlesWithin(connecting, 0))) this.#sendStatus(run, { kind: 'waiting', for: this.#o.mediaServer ?? 'media-server' });
    const kms = await connecting;
    run.checkAlive();
    if (this.#o.admission) {
      // A place before anything is made on the media server (rejects 'busy' when every place has
      // a running mirror); taken only now, so waiting for the engine to start does not count
      // against the start's time for video.
      run.ticket = await this.#o.admission.admit((err) => void this.#end(run, err), this.#o.clientAddress);
      run.checkAlive();
    }
    run.kms = kms;
    this.#watchConnection(run, kms);
    if (this.#o.mediaServers) this.#sendStatus(run, { kind: 'media-servers', ...this.#o.mediaServers(kms) });

    const { pipeline } = await kms.createPipeline();
    run.pipeline = pipeline;
    run.checkAlive();
    // Requests that do not depend on each other go out together (each in its own frame: see
    // kms-connection), so a Start costs three round trips to the media server before the answer,
    // not seven. Every step settles before a failure is thrown, so ending the run releases the
    // pipeline only once nothing is in flight.
    const [{ element: endpoint }, { element: filter }] = await allSettledOrThrow([
      kms.createElement(pipeline, 'WebRtcEndpoint'),
      kms.createElement(pipeline, 'FaceOverlayFilter'),
    ]);
    run.checkAlive();
    // Subscribed before setOverlayedImage: the engine reports a hat it cannot load right after answering it.
    this.#listen(run, kms, endpoint, filter);
    endpoint.on('IceCandidateFound', (e: { candidate: kurento.IceCandidate }) => this.#sendCandidate(run, e.candidate));

    // STUN/TURN first (one more round trip, only when set): an endpoint reads them as it starts negotiating.
    const ice = this.#o.iceServers ?? {};
    await allSettledOrThrow([
      ice.stunServerAddress !== undefined && kms.call<void>('setStunServerAddress', (done) => endpoint.setStunServerAddress(ice.stunServerAddress!, done)),
      ice.stunServerPort !== undefined && kms.call<void>('setStunServerPort', (done) => endpoint.setStunServerPort(ice.stunServerPort!, done)),
      ice.turnUrl !== undefined && kms.call<void>('setTurnUrl', (done) => endpoint.setTurnUrl(ice.turnUrl!, done)),
    ]);
    run.checkAlive();
    const p = this.#placement;
    const [sdpAnswer] = await allSettledOrThrow([
      kms.call<string>('processOffer', (done) => endpoint.processOffer(sdpOffer, done)).catch((err: unknown) => {
        throw err instanceof KmsAnswerError ? new MirrorError('bad-offer', PROBLEM_TEXT.badOffer(err.detail), { cause: err }) : err;
      }),
      kms.call<void>('setOverlayedImage', (done) =>
        filter.setOverlayedImage(this.#o.hatUri, p.offsetXPercent, p.offsetYPercent, p.widthPercent, p.heightPercent, done)),
      // The built-in engine tilts the hat with the head when asked; KMS keeps the tag and ignores it.
      kms.call<void>('addTag', (done) => filter.addTag(TILT_TAG, 'on', done)),
      this.#o.anchor === 'eyes' && kms.call<void>('addTag', (done) => filter.addTag(ANCHOR_TAG, 'eyes', done)),
      !!this.#o.moreHatUris?.length && kms.call<void>('addTag', (done) => filter.addTag(EACH_FACE_TAG, this.#o.moreHatUris!.join(' '), done)),
      kms.call<void>('connect WebRtcEndpoint → FaceOverlayFilter', (done) => endpoint.connect(filter, done)),
      kms.call<void>('connect FaceOverlayFilter → WebRtcEndpoint', (done) => filter.connect(endpoint, done)),
    ]);
    run.checkAlive();

    // From now on candidates go straight to the endpoint, and the queued ones are applied in
    // this same tick: none can arrive in between and be lost (the tutorial drains its queue
    // before registering the session, and drops what comes in that gap).
    run.endpoint = endpoint;
    for (const candidate of this.#queued.splice(0)) this.#applyCandidate(run, endpoint, candidate);

    this.#send(run, { id: 'startResponse', sdpAnswer });
    run.status.answered();
    // Gathering only now, so the page gets our candidates after the answer on the same socket.
    await kms.call<void>('gatherCandidates', (done) => endpoint.gatherCandidates(done));
    run.checkAlive();
  }

  /** Media server events → status messages; failed subscriptions end the run. */
  #listen(run: Run, kms: KmsConnection, endpoint: kurento.WebRtcEndpoint, filter: kurento.FaceOverlayFilter): void {
    const failed = (err: MirrorError) => void this.#end(run, err);
    kms.catchSubscriptionErrors(endpoint, failed);
    kms.catchSubscriptionErrors(filter, failed);
    const live = <E>(handle: (e: E) => void) => (e: E) => void (run.over || handle(e));
    filter.on('Error', live((e: KurentoErrorEvent) => run.status.filterError(e)));
    endpoint.on('Error', live((e: KurentoErrorEvent) => run.status.endpointError(e)));
    endpoint.on('IceComponentStateChanged', live((e: IceComponentStateChanged) => {
      run.status.iceComponent(e);
      if (e.componentId === 1 && (e.state === 'CONNECTED' || e.state === 'READY')) run.ticket?.iceConnected();
    }));
    endpoint.on('MediaFlowOutStateChanged', live((e: MediaFlowStateChanged) => {
      run.status.cameraFlow(e);
      if (e.mediaType === 'VIDEO') run.ticket?.media(e.state === 'FLOWING');
    }));
    endpoint.on('MediaFlowInStateChanged', live((e: MediaFlowStateChanged) => run.status.mirrorFlow(e)));
  }

  /** The connection dropping is a problem; it coming back clears it; it being lost ends the run. */
  #watchConnection(run: Run, kms: KmsConnection): void {
    const interrupted = () => run.status.raise('kms-lost', PROBLEM_TEXT.interrupted(kms.label));
    const resumed = () => run.status.clear('kms-lost');
    const lost = (err: MirrorError) => void this.#end(run, err);
    // One watcher per run, not three EventEmitter listeners: 11 mirrors would trip its leak warning.
    run.detach.push(kms.watch({ interrupted, resumed, lost }));
  }

  #applyCandidate(run: Run, endpoint: kurento.WebRtcEndpoint, c: IceCandidateJson): void {
    const candidate = kurento.getComplexType('IceCandidate')(c);
    run.kms!.call<void>('addIceCandidate', (done) => endpoint.addIceCandidate(candidate, done)).catch((err: Error) => {
      if (!run.over) this.#log(`the media server refused an ICE candidate: ${err.message}`);
    });
  }

  #sendCandidate(run: Run, c: kurento.IceCandidate): void {
    this.#send(run, { id: 'iceCandidate', candidate: { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex } });
  }

  /** Ends a run once (later calls share the first): tells the page why, then releases the pipeline. */
  #end(run: Run, error: MirrorError | undefined): Promise<void> {
    if (run.over) return run.ended!;
    run.over = true;
    run.ended = (async () => {
      await run.building?.catch(() => {}); // the step in flight returns (each has a timeout)
      if (run.pipeline) await run.kms!.release(run.pipeline);
      run.ticket?.release();
    })();
    if (this.#run === run) {
      this.#run = undefined;
      this.#queued.length = 0; // candidates for this run's offer
    }
    run.status.stop();
    for (const detach of run.detach) detach();
    if (error) {
      this.#log(`mirror failed (${error.problem}): ${error.message}`);
      const retry = error.problem === 'kms-lost' && run.kms !== undefined && this.#o.failover?.(run.kms) === true;
      if (!this.#closed) this.#o.send({ id: 'error', message: error.message, code: error.problem, ...(retry && { retry }) });
    }
    this.#sendStatus(run, { kind: 'stopped', reason: error ? error.problem : 'stop' }, true);
    return run.ended;
  }

  /** Sends for a run that is still on (an ended run sends nothing more). */
  #send(run: Run, message: ServerMessage): void {
    if (!run.over && !this.#closed) this.#o.send(message);
  }

  #sendStatus(run: Run, status: MirrorStatus, final = false): void {
    if (run.statusEvents && (final || !run.over) && !this.#closed) this.#o.send({ id: 'status', status });
  }
}

/** Whether `p` settles (either way) within `ms` (0: by the next macrotask). Never rejects. */
function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.then(() => true, () => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
  ]).finally(() => clearTimeout(timer));
}

type Settled<T extends readonly unknown[]> = { -readonly [K in keyof T]: Awaited<T[K]> };

/** Like Promise.all, but waits for every promise to settle before rejecting with the first failure. */
async function allSettledOrThrow<T extends readonly unknown[]>(promises: T): Promise<Settled<T>> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as Settled<T>;
}
