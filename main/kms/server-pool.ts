/**
 * A pool of media servers (issue 13): web mode's `--ws_uri` may list several (`builtin` may be
 * one of them). Each new mirror goes to the least-loaded healthy server, judged by what each
 * server reports of itself (ServerManager getPipelines, then getUsedCpu), with a cap on
 * pipelines per server.
 *
 * Health: every server is asked for its load every `checkMs`. One that fails to answer (refused,
 * not Kurento, its socket gone, or MAX_SLOW_CHECKS checks in a row too slow) is marked down with the reason, and its connection is dropped, so its mirrors end at once with
 * kms-lost — and, since another server is up, their pages are told to start again (MirrorSession
 * `failover`), which places them on the others. A socket that drops is not waited out for the
 * connection's resume deadline (15 s): the server is probed with a fresh connection at once, and
 * one that refuses it is down. A server that answers again is up and takes new mirrors.
 * One log line per placement and per change of a server's state.
 */
import net from 'node:net';
import { BUILTIN_KMS, POOL_DEFAULTS } from '../defaults.js';
import type { MediaServerSummary } from '../../common/mirror-protocol.js';
import { MirrorError, PROBLEM_TEXT, asMirrorError } from '../problems.js';
import { withoutEngineSecret } from '../../common/kms-uri.js';
import { KmsAnswerError, KmsConnection } from './kms-connection.js';
import type { KmsConnections } from './kms-connections.js';

export type PoolServerState = 'checking' | 'up' | 'down';

/** One server as the pool sees it (the stats overlay and "Test connection" show these). */
export interface PoolServerView {
  uri: string;
  state: PoolServerState;
  /** Why it is down. */
  reason?: string;
  /** Its pipelines at the last check (every client's), and mirrors placed on it since. */
  pipelines?: number;
  placedSinceCheck: number;
  /** Percent of its CPU used, at the last check. */
  usedCpu?: number;
}

export interface ServerPoolOptions {
  /** At most this many pipelines per server (default 4: the engine's 30 fps limit on 2 cores). */
  cap?: number;
  checkMs?: number;
  /** A check that takes longer marks the server down. */
  checkTimeoutMs?: number;
  /** getUsedCpu's measuring window (the call takes this long). */
  cpuIntervalMs?: number;
  log?: (line: string) => void;
}


interface Server {
  uri: string;
  state: PoolServerState;
  reason?: string;
  pipelines?: number;
  usedCpu?: number;
  /** When each mirror placed here since the last check began was placed (ms). */
  placed: number[];
  checking?: Promise<void>;
  /** The connection whose events are watched. */
  watched?: KmsConnection;
  /** Checks in a row that timed out (a busy server answers late; a dead one refuses or drops its socket). */
  slowChecks: number;
}

/** A server is given up after this many checks in a row without an answer in time (≈ 3 × checkMs + checkTimeoutMs). */
const MAX_SLOW_CHECKS = 3;

export class MediaServerPool {
  readonly #servers: Server[];
  readonly #o: Required<Omit<ServerPoolOptions, 'log'>> & { log: (line: string) => void };
  #timer: NodeJS.Timeout | undefined;
  #firstRound: Promise<void> | undefined;
  #closed = false;

  constructor(
    uris: readonly string[],
    private readonly connections: KmsConnections,
    options: ServerPoolOptions = {},
  ) {
    if (uris.length === 0) throw new Error('a media server pool needs at least one URI');
    this.#servers = [...new Set(uris)].map((uri) => ({ uri, state: 'checking', placed: [], slowChecks: 0 }));
    this.#o = { ...POOL_DEFAULTS, log: () => {}, ...options };
  }

  /** Checks every server now, then every checkMs. */
  start(): void {
    if (this.#firstRound || this.#closed) return;
    // The first round skips getUsedCpu (it takes cpuIntervalMs): the first mirrors need only know who is up.
    this.#firstRound = this.#checkAll(0);
    this.#timer = setInterval(() => void this.#checkAll(), this.#o.checkMs);
    this.#timer.unref();
  }

  get uris(): string[] {
    return this.#servers.map((s) => s.uri);
  }

  /** Every server's state, in the order given. */
  view(): PoolServerView[] {
    return this.#servers.map((s) => ({ uri: s.uri, state: s.state, reason: s.reason, pipelines: s.pipelines, usedCpu: s.usedCpu, placedSinceCheck: s.placed.length }));
  }

  /** The pool as the page's stats overlay shows it: the server behind `kms`, and every server's state. */
  summaryFor(kms: KmsConnection): { current: string; servers: MediaServerSummary[] } {
    const current = withoutEngineSecret(this.#servers.find((s) => s.watched === kms)?.uri ?? kms.label);
    return { current, servers: this.#servers.map((s) => ({ uri: withoutEngineSecret(s.uri), state: s.state, mirrors: load(s), ...(s.reason && { reason: s.reason }) })) };
  }

  /** Whether a server other than the one behind `kms` is up with room: a mirror lost there can start again at once. */
  canTakeOver(kms: KmsConnection): boolean {
    return this.#servers.some((s) => s.watched !== kms && s.uri !== kms.uri && this.#hasRoom(s));
  }

  /**
   * A connection to the least-loaded server that is up and below the cap (waiting for the first
   * round of checks). Rejects with a MirrorError naming every server and why it cannot take it.
   */
  async place(): Promise<KmsConnection> {
    if (this.#closed) throw new MirrorError('internal', PROBLEM_TEXT.unexpected('the app is shutting down'));
    this.start();
    await this.#firstRound;
    const candidates = this.#servers.filter((s) => this.#hasRoom(s));
    if (candidates.length === 0) throw this.#noServer();
    candidates.sort((a, b) => load(a) - load(b) || (a.usedCpu ?? 0) - (b.usedCpu ?? 0));
    const chosen = candidates[0]!;
    chosen.placed.push(performance.now());
    this.#o.log(`placed a mirror on ${chosen.uri} (${load(chosen) - 1} pipelines there before it, CPU ${fmtCpu(chosen.usedCpu)})`);
    try {
      const connection = await this.connections.get(chosen.uri);
      this.#watch(chosen, connection);
      return connection;
    } catch (err) {
      this.#markDown(chosen, asMirrorError(err).message);
      throw err;
    }
  }

  /**
   * No more checks; resolves once those in flight have returned, so the connections can be
   * closed with no request pending (kurento-jsonrpc keeps a timer per unanswered request).
   */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await Promise.allSettled(this.#servers.map((s) => s.checking));
  }

  #hasRoom(s: Server): boolean {
    return s.state === 'up' && load(s) < this.#o.cap;
  }

  #noServer(): MirrorError {
    const why = this.#servers.map((s) => `${s.uri}: ${s.state === 'up' ? `full (${load(s)} of ${this.#o.cap} mirrors)` : s.reason ?? 'not checked yet'}`);
    const allFull = this.#servers.every((s) => s.state === 'up');
    return new MirrorError(allFull ? 'busy' : 'kms-unreachable', PROBLEM_TEXT.noMediaServer(why));
  }

  #checkAll(cpuIntervalMs = this.#o.cpuIntervalMs): Promise<void> {
    return Promise.all(this.#servers.map((s) => (s.checking ??= this.#check(s, cpuIntervalMs).finally(() => (s.checking = undefined))))).then(() => {});
  }

  async #check(s: Server, cpuIntervalMs: number): Promise<void> {
    const began = performance.now();
    // A server that is down is first knocked at with a bare TCP connection: a Kurento client per
    // second to a refused port costs more, and kurento-client may still retry after close().
    if (s.state === 'down' && s.uri !== BUILTIN_KMS && !(await tcpOpens(s.uri, this.#o.checkTimeoutMs))) return;
    try {
      const connection = await withTimeout(this.connections.get(s.uri), this.#o.checkTimeoutMs + 4000, () => PROBLEM_TEXT.connectTimeout(s.uri, this.#o.checkTimeoutMs + 4000));
      this.#watch(s, connection);
      const { pipelines, usedCpu } = await connection.load(cpuIntervalMs, this.#o.checkTimeoutMs);
      if (this.#closed) return;
      s.pipelines = pipelines;
      if (usedCpu !== undefined) s.usedCpu = usedCpu;
      s.placed = s.placed.filter((t) => t >= began);
      s.slowChecks = 0;
      this.#markUp(s);
    } catch (err) {
      if (this.#closed) return;
      const error = asMirrorError(err);
      // A server that is up but answers late (a loaded machine) keeps its mirrors for a few checks.
      if (error.problem === 'kms-timeout' && s.state === 'up' && ++s.slowChecks < MAX_SLOW_CHECKS) return;
      // A server that answered (with an error) is there: dropping its connection would end its
      // mirrors and strand their pipelines until its session expires. Its last counts stand.
      if (err instanceof KmsAnswerError && s.state === 'up') {
        this.#o.log(`media server ${s.uri} answered its load check with an error: ${error.message}`);
        return;
      }
      this.#markDown(s, error.message);
    }
  }

  /** A dropped socket: a fresh connection tells at once whether the server is still there. */
  #watch(s: Server, connection: KmsConnection): void {
    if (s.watched === connection) return;
    s.watched = connection;
    connection.on('interrupted', () => {
      if (this.#closed || s.watched !== connection) return;
      KmsConnection.open(connection.uri, { timeouts: { connectMs: this.#o.checkTimeoutMs } }).then(
        (probe) => probe.close(),
        (err: unknown) => this.#markDown(s, asMirrorError(err).message),
      );
    });
  }

  #markUp(s: Server): void {
    if (s.state !== 'up') this.#o.log(`media server ${s.uri} is up (${s.pipelines} pipelines, CPU ${fmtCpu(s.usedCpu)})`);
    s.state = 'up';
    s.reason = undefined;
  }

  #markDown(s: Server, reason: string): void {
    if (s.state !== 'down') this.#o.log(`media server ${s.uri} is down: ${reason}`);
    s.state = 'down';
    s.reason = reason;
    s.placed = [];
    s.watched = undefined;
    // Its mirrors end now (kms-lost), rather than after the connection's resume deadline.
    this.connections.drop(s.uri, new MirrorError('kms-lost', PROBLEM_TEXT.lost(s.uri)));
  }
}

const load = (s: Server) => (s.pipelines ?? 0) + s.placed.length;
const fmtCpu = (cpu: number | undefined) => (cpu === undefined ? '?' : `${Math.round(cpu)} %`);

/** Whether a TCP connection to the URI's host and port opens within `ms`. */
function tcpOpens(uri: string, ms: number): Promise<boolean> {
  const u = new URL(uri);
  const port = Number(u.port || (u.protocol === 'wss:' ? 443 : 80));
  return new Promise((resolve) => {
    const socket = net.connect({ host: u.hostname.replace(/^\[|\]$/g, ''), port, timeout: ms });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true)).once('timeout', () => done(false)).once('error', () => done(false));
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, text: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new MirrorError('kms-timeout', text())), ms)))]).finally(() => clearTimeout(timer));
}
