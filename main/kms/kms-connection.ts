/**
 * KmsConnection: one kurento-client 7.2.0 connection to one media server, made safe to use.
 *
 * What kurento-client does on its own, and what this class does about it (all measured):
 * - A refused/failed connection emits 'error' on its reconnecting socket (`_re`, only on the
 *   un-awaited client object) with no listener: the process dies. `await kurento(uri)` then
 *   never settles. → listeners on `_re` and on every socket stream from the first tick; the
 *   first failure before the socket opens fails open() with a classified message.
 * - After close(), a request can still be written to the ended stream ('write after end'),
 *   emitted asynchronously on the stream. → a permanent 'error' listener on every stream.
 * - The promise form of every call swallows errors (see types/kurento-client.d.ts). → call()
 *   always uses the callback form, and gives every call its own timeout.
 * - Its pings are process-global and stop for every client when any client closes. → our own
 *   WebSocket-level pings; a socket that stops answering is terminated, which starts the
 *   normal reconnect path.
 * - After a reconnect it sends `connect` with the old session id and emits 'reconnected'
 *   (true: same session; false: 40007, the server restarted and our objects are gone) — and
 *   nothing at all for any other outcome. → a resume deadline.
 */
import { EventEmitter } from 'node:events';
import kurento from 'kurento-client';
import { KMS_DUPLICATES_TIMEOUT_MS, KMS_RECONNECT_ATTEMPTS, KMS_TIMEOUTS, type KmsTimeouts } from '../defaults.js';
import { MirrorError, PROBLEM_TEXT } from '../problems.js';
import { connectFailure } from './connect-failure.js';
import { withoutEngineSecret } from '../../common/kms-uri.js';
import { ErrorCode } from '../../engine/protocol/errors.js';

type Callback<T> = kurento.Callback<T>;

/** The ws 3 WebSocket under kurento-client's websocket-stream. */
interface RawSocket {
  ping(data: undefined, mask: undefined, failSilently: true): void;
  terminate(): void;
  on(event: 'pong', listener: () => void): unknown;
}
interface SocketStream extends EventEmitter {
  socket?: RawSocket;
}
/** reconnect-core's emitter: 'connect' (stream), 'disconnect', 'error', 'fail'. */
interface ReconnectingSocket extends EventEmitter {
  disconnect(): void;
  _connection?: SocketStream;
}
/** The un-awaited client object: the only one that has `_re`. A thenable: never await it or return it from an async function. */
type RawClient = kurento.KurentoClient & { _re: ReconnectingSocket };

export type KmsConnectionState = 'connecting' | 'connected' | 'interrupted' | 'closed';

export interface KmsConnectionEvents {
  /** The socket dropped; kurento-client is reconnecting. Objects may still be alive on the server. */
  interrupted: [];
  /** The socket is back and the server still knows our session: objects and subscriptions live on. */
  resumed: [];
  /** Objects made over this connection are gone or out of reach for good. Sessions must end. */
  lost: [MirrorError];
  /** Closed (close(), or kurento-client gave up reconnecting): unusable from now on. */
  closed: [];
}

/**
 * One user's listeners for the connection's events (each mirror has one): kept in a set rather
 * than as EventEmitter listeners, which warn past 10 per event (MaxListenersExceededWarning at
 * the 11th mirror) although one per mirror is no leak.
 */
export type KmsConnectionWatcher = { [E in keyof KmsConnectionEvents]?: (...args: KmsConnectionEvents[E]) => void };

export interface KmsConnectionOptions {
  timeouts?: Partial<KmsTimeouts>;
  log?: (line: string) => void;
}

/** getPipelines asked this often when a pipeline is released while it is answered (#countPipelines). */
const COUNT_PIPELINES_TRIES = 3;

/** The media server answered a request with an error (JSON-RPC error: code + message). */
export class KmsAnswerError extends MirrorError {
  constructor(
    readonly operation: string,
    readonly code: number | undefined,
    readonly detail: string,
  ) {
    super('internal', PROBLEM_TEXT.callFailed(operation, detail));
    this.name = 'KmsAnswerError';
  }
}

/** What the server said about itself when the connection opened (ServerManager.getInfo). */
export interface KmsServerInfo {
  /** The server's version, e.g. "7.2.0". */
  version: string;
  modules: { name: string; version: string; factories: string[] }[];
}

export class KmsConnection extends EventEmitter<KmsConnectionEvents> {
  /** Opens and checks a connection: rejects with a MirrorError within timeouts.connectMs. */
  static async open(uri: string, options: KmsConnectionOptions = {}): Promise<KmsConnection> {
    const connection = new KmsConnection(uri, options);
    try {
      await connection.#checkServer();
      return connection;
    } catch (err) {
      connection.close();
      throw err;
    }
  }

  readonly timeouts: KmsTimeouts;
  /** Set once open() has checked the server. */
  serverInfo: KmsServerInfo = { version: '', modules: [] };
  readonly #client: RawClient;
  readonly #log: (line: string) => void;
  #state: KmsConnectionState = 'connecting';
  #opened: Promise<void>;
  #failOpening: (err: MirrorError) => void = () => {};
  #stopHeartbeat = () => {};
  #resumeTimer: NodeJS.Timeout | undefined;
  /** Set once 'lost' was emitted for the current outage, so it is emitted once. */
  #lostReported = false;
  /** Objects whose release failed while the connection was down: released once it is back. */
  readonly #orphans = new Set<kurento.MediaObject>();
  /** Rejecters of calls in flight: a lost or closed connection fails them at once instead of at their timeout. */
  readonly #inFlight = new Set<(err: MirrorError) => void>();
  readonly #watchers = new Set<KmsConnectionWatcher>();

  /** The address as texts and logs show it: the built-in engine's secret left out. */
  readonly label: string;

  private constructor(
    readonly uri: string,
    options: KmsConnectionOptions,
  ) {
    super();
    this.label = withoutEngineSecret(uri);
    this.timeouts = { ...KMS_TIMEOUTS, ...options.timeouts };
    this.#log = options.log ?? (() => {});
    this.#client = kurento(uri, {
      socket: {
        objectMode: true, // one JSON-RPC message per frame: a real KMS reads only the first of a frame
        // ws 3 waits for ever on a server that accepts TCP but never upgrades (a frozen KMS), which
        // would stall reconnection; a bit longer than connectMs so open() reports its own timeout.
        handshakeTimeout: this.timeouts.connectMs + 1000,
      },
      strict: false, // its module check has no timeout and rejects into the void; #checkServer does it instead
      failAfter: KMS_RECONNECT_ATTEMPTS,
      duplicates_timeout: KMS_DUPLICATES_TIMEOUT_MS,
      // Our own timeout answers first; this only bounds how long kurento-jsonrpc keeps the request.
      request_timeout: this.timeouts.callMs + 1000,
    }) as unknown as RawClient;

    this.#opened = new Promise((resolve, reject) => {
      this.#failOpening = reject;
      this.#client._re.once('connect', () => resolve());
    });
    this.#opened.catch(() => {}); // rejected before anyone awaits it when the server refuses at once
    const re = this.#client._re;
    re.on('error', (err: Error) => this.#onSocketError(err));
    re.on('connect', (stream: SocketStream) => this.#onSocketOpen(stream));
    re.on('disconnect', () => this.#onSocketClosed());
    this.#client.on('reconnected', (sameSession: boolean) => this.#onReconnected(sameSession));
    // kurento-client's own 'disconnect': it gave up reconnecting (failAfter attempts).
    this.#client.on('disconnect', () => this.close(new MirrorError('kms-lost', PROBLEM_TEXT.lost(this.label))));
  }

  get state(): KmsConnectionState {
    return this.#state;
  }

  /** Calls `watcher`'s handlers on the connection's events (after its EventEmitter listeners) until the returned function is called. */
  watch(watcher: KmsConnectionWatcher): () => void {
    const own = { ...watcher }; // the same object watched twice is two watchers
    this.#watchers.add(own);
    return () => void this.#watchers.delete(own);
  }

  /** emit(), then every watcher. */
  #notify<E extends keyof KmsConnectionEvents>(event: E, ...args: KmsConnectionEvents[E]): void {
    (this.emit as (event: E, ...args: KmsConnectionEvents[E]) => boolean)(event, ...args);
    for (const watcher of [...this.#watchers]) (watcher[event] as ((...a: KmsConnectionEvents[E]) => void) | undefined)?.(...args);
  }

  /**
   * One kurento-client call in callback form, with a timeout. Rejects with a MirrorError:
   * KmsAnswerError when the server answered with an error; kms-timeout when it did not answer;
   * kms-lost when the connection is down. `onLate` gets a result that arrives after the timeout.
   */
  call<T>(what: string, invoke: (done: Callback<T>) => unknown, options: { timeoutMs?: number; onLate?: (result: T) => void } = {}): Promise<T> {
    if (this.#state === 'closed') return Promise.reject(new MirrorError('kms-lost', PROBLEM_TEXT.lost(this.label)));
    const timeoutMs = options.timeoutMs ?? this.timeouts.callMs;
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const fail = (err: MirrorError) => {
        settled = true;
        clearTimeout(timer);
        this.#inFlight.delete(fail);
        reject(err);
      };
      const timer = setTimeout(() => {
        fail(this.#state === 'interrupted'
          ? new MirrorError('kms-lost', PROBLEM_TEXT.reconnecting(this.label))
          : new MirrorError('kms-timeout', PROBLEM_TEXT.callTimeout(this.label, what, timeoutMs)));
      }, timeoutMs);
      this.#inFlight.add(fail);
      const done: Callback<T> = (error, result) => {
        if (settled) {
          if (!error) options.onLate?.(result);
          return;
        }
        if (error) return fail(this.#callError(what, error));
        settled = true;
        clearTimeout(timer);
        this.#inFlight.delete(fail);
        resolve(result);
      };
      try {
        invoke(done);
      } catch (err) {
        // kurento-client checks argument types synchronously.
        done(err as Error, undefined as T);
      }
    });
  }

  /**
   * Creates a pipeline. The result is boxed: a media object is a thenable, and resolving a
   * promise with it would hand back a detached copy. A pipeline that the server makes after
   * our timeout gave up on it is released at once.
   */
  async createPipeline(): Promise<{ pipeline: kurento.MediaPipeline }> {
    let pipeline!: kurento.MediaPipeline;
    await this.call<kurento.MediaPipeline>('create MediaPipeline', (done) => (pipeline = this.#client.create('MediaPipeline', done)), {
      onLate: () => void this.release(pipeline),
    });
    return { pipeline };
  }

  /** Creates an element of a pipeline (released with it, so no late-result handling). Boxed like createPipeline. */
  createElement(pipeline: kurento.MediaPipeline, type: 'WebRtcEndpoint'): Promise<{ element: kurento.WebRtcEndpoint }>;
  createElement(pipeline: kurento.MediaPipeline, type: 'FaceOverlayFilter'): Promise<{ element: kurento.FaceOverlayFilter }>;
  async createElement(pipeline: kurento.MediaPipeline, type: 'WebRtcEndpoint' | 'FaceOverlayFilter'): Promise<{ element: kurento.MediaElement }> {
    let element!: kurento.MediaElement;
    await this.call<kurento.MediaElement>(`create ${type}`, (done) =>
      (element = type === 'WebRtcEndpoint' ? pipeline.create(type, done) : pipeline.create(type, done)));
    return { element };
  }

  /**
   * Lets kurento-client report failed event subscriptions to `onError` instead of killing the
   * process. Its 'newListener' hook refuses an 'error' listener (not a Kurento event type), so
   * the hook is lifted while ours is added. Use on the original object (from createElement).
   */
  catchSubscriptionErrors(object: kurento.MediaObject, onError: (err: MirrorError) => void): void {
    const hooks = object.listeners('newListener') as ((...args: unknown[]) => void)[];
    object.removeAllListeners('newListener');
    object.on('error', (err: Error) => onError(this.#callError('subscribe', err)));
    for (const hook of hooks) object.on('newListener', hook);
  }

  /** Releases an object, never throwing; if the server is out of reach it is retried once the connection resumes. */
  async release(object: kurento.MediaObject): Promise<void> {
    try {
      await this.call<void>('release', (done) => object.release(done));
      this.#orphans.delete(object);
    } catch (err) {
      const unreachable = err instanceof MirrorError && !(err instanceof KmsAnswerError) && this.#state !== 'closed';
      if (unreachable) this.#orphans.add(object);
      this.#log(`could not release ${object.id}: ${(err as Error).message}${unreachable ? ' (will retry when the connection is back)' : ''}`);
    }
  }

  /** Closes the connection. With a reason, 'lost' is emitted first (for sessions still using it). */
  close(reason?: MirrorError): void {
    if (this.#state === 'closed') return;
    const wasOpen = this.#state !== 'connecting';
    this.#state = 'closed';
    this.#failOpening(new MirrorError('kms-lost', PROBLEM_TEXT.lost(this.label)));
    clearTimeout(this.#resumeTimer);
    this.#stopHeartbeat();
    this.#orphans.clear();
    const re = this.#client._re;
    re.disconnect(); // now: the client's own close() waits for its last request, which may never answer
    this.#client.close(); // clears its ping timer
    re._connection?.socket?.terminate();
    const error = reason ?? new MirrorError('kms-lost', PROBLEM_TEXT.lost(this.label));
    for (const fail of [...this.#inFlight]) fail(error);
    if (reason && wasOpen && !this.#lostReported) this.#notify('lost', reason);
    this.#notify('closed');
    this.#watchers.clear();
  }

  /**
   * What the server reports of its own load (ServerManager): how many pipelines it holds (every
   * client's), and the share of its CPU used over `cpuIntervalMs` (the call takes that long;
   * 0: not asked, undefined).
   */
  async load(cpuIntervalMs: number, timeoutMs: number): Promise<{ pipelines: number; usedCpu: number | undefined }> {
    const { manager } = await this.call<{ manager: kurento.ServerManager }>(
      'getServerManager',
      (done) => this.#client.getServerManager((e, manager) => done(e, { manager })),
      { timeoutMs },
    );
    const usedCpu = cpuIntervalMs > 0 ? await this.call<number>('getUsedCpu', (done) => manager.getUsedCpu(cpuIntervalMs, done), { timeoutMs: timeoutMs + cpuIntervalMs }) : undefined;
    return { pipelines: await this.#countPipelines(manager, timeoutMs), usedCpu: usedCpu === undefined ? undefined : Number(usedCpu) };
  }

  /**
   * kurento-client answers getPipelines only after it has `describe`d each pipeline it did not
   * create itself, so one released meanwhile (any client's mirror ending) fails the whole call
   * with MEDIA_OBJECT_NOT_FOUND. That is a race, not a sick server: asked again, a few times.
   */
  async #countPipelines(manager: kurento.ServerManager, timeoutMs: number): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.call<kurento.MediaPipeline[]>('getPipelines', (done) => manager.getPipelines(done), { timeoutMs })).length;
      } catch (err) {
        if (!(err instanceof KmsAnswerError && err.code === ErrorCode.MEDIA_OBJECT_NOT_FOUND) || attempt === COUNT_PIPELINES_TRIES) throw err;
      }
    }
  }

  /** Waits for the socket, then asks for ServerInfo: a Kurento server with FaceOverlayFilter answers it. */
  async #checkServer(): Promise<void> {
    const deadline = Date.now() + this.timeouts.connectMs;
    const timeout = () => new MirrorError('kms-timeout', PROBLEM_TEXT.connectTimeout(this.label, this.timeouts.connectMs));
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.#opened,
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(timeout()), this.timeouts.connectMs))),
      ]);
    } finally {
      clearTimeout(timer);
    }

    let info: kurento.ServerInfo;
    try {
      const remaining = () => ({ timeoutMs: Math.max(1, deadline - Date.now()) });
      const { manager } = await this.call<{ manager: kurento.ServerManager }>(
        'getServerManager',
        (done) => this.#client.getServerManager((e, manager) => done(e, { manager })),
        remaining(),
      );
      info = await this.call<kurento.ServerInfo>('getInfo', (done) => manager.getInfo(done), remaining());
    } catch (err) {
      if (err instanceof KmsAnswerError) throw new MirrorError('kms-unreachable', PROBLEM_TEXT.notKurento(this.label, `it answered "${err.detail}"`));
      if (err instanceof MirrorError && err.problem === 'kms-timeout') throw timeout();
      throw err;
    }
    this.serverInfo = {
      version: String(info.version ?? ''),
      modules: (info.modules ?? []).map((m) => ({ name: String(m.name), version: String(m.version), factories: [...(m.factories ?? [])] })),
    };
    if (!info.modules?.some((m) => m.factories?.includes('FaceOverlayFilter'))) {
      throw new MirrorError('kms-unreachable', PROBLEM_TEXT.noFaceOverlay(this.label, this.serverInfo.version));
    }
    this.#state = 'connected';
  }

  #callError(what: string, error: Error & { code?: number }): MirrorError {
    if (error instanceof MirrorError) return error;
    if (typeof error.code === 'number') return new KmsAnswerError(what, error.code, error.message);
    // kurento-client's words for "not connected and not reconnecting any more".
    if (error.message === 'Connection error') return new MirrorError('kms-lost', PROBLEM_TEXT.lost(this.label), { cause: error });
    if (error.message === 'Request has timed out') {
      return new MirrorError('kms-timeout', PROBLEM_TEXT.callTimeout(this.label, what, this.timeouts.callMs), { cause: error });
    }
    return new KmsAnswerError(what, undefined, error.message);
  }

  #onSocketError(err: Error): void {
    if (this.#state === 'connecting') {
      this.#failOpening(connectFailure(this.label, err));
      this.#client._re.disconnect(); // no reconnection attempts for a server we never reached
    } else if (this.#state !== 'closed') {
      this.#log(`media server socket ${this.label}: ${err.message}`);
    }
  }

  #onSocketOpen(stream: SocketStream): void {
    // Errors of a stream after reconnect-core stopped listening to it ('write after end').
    stream.on('error', (err: Error) => this.#state !== 'closed' && this.#log(`media server socket ${this.label}: ${err.message}`));
    if (stream.socket) this.#startHeartbeat(stream.socket);
  }

  #startHeartbeat(socket: RawSocket): void {
    this.#stopHeartbeat();
    let lastPong = Date.now();
    socket.on('pong', () => (lastPong = Date.now()));
    const timer = setInterval(() => {
      if (Date.now() - lastPong > this.timeouts.pingTimeoutMs) {
        this.#log(`media server ${this.label} stopped answering pings: dropping the connection`);
        socket.terminate(); // → 'disconnect' → reconnection, like any other drop
        return;
      }
      socket.ping(undefined, undefined, true);
    }, this.timeouts.pingIntervalMs);
    timer.unref();
    this.#stopHeartbeat = () => clearInterval(timer);
  }

  #onSocketClosed(): void {
    this.#stopHeartbeat();
    if (this.#state !== 'connected') return;
    this.#state = 'interrupted';
    this.#log(`lost the connection to the media server ${this.label}; reconnecting`);
    this.#notify('interrupted');
    this.#resumeTimer = setTimeout(() => this.#reportLost(PROBLEM_TEXT.lost(this.label)), this.timeouts.resumeMs);
    this.#resumeTimer.unref();
  }

  #onReconnected(sameSession: boolean): void {
    if (this.#state === 'closed') return;
    clearTimeout(this.#resumeTimer);
    this.#state = 'connected';
    if (sameSession) {
      this.#log(`reconnected to the media server ${this.label}`);
      for (const object of this.#orphans) void this.release(object);
      this.#lostReported = false;
      this.#notify('resumed');
    } else {
      this.#log(`the media server ${this.label} restarted: its objects are gone`);
      this.#orphans.clear();
      this.#reportLost(PROBLEM_TEXT.restarted(this.label));
      this.#lostReported = false;
    }
  }

  #reportLost(text: string): void {
    if (this.#lostReported) return;
    this.#lostReported = true;
    const error = new MirrorError('kms-lost', text);
    for (const fail of [...this.#inFlight]) fail(error);
    this.#notify('lost', error);
  }
}
