/**
 * Kurento Protocol over JSON-RPC 2.0: turns each request into an answer, as KMS does.
 * Knows sessions and objects only through the registry; knows nothing about sockets
 * beyond the Connection it is handed.
 */
import { randomUUID } from 'node:crypto';
import { kmd } from '../objects/kmd.js';
import { ObjectRegistry } from '../objects/registry.js';
import { JsonRpcError, KurentoError } from './errors.js';
import { splitJsonTexts } from './frames.js';

/** One client socket. */
export interface Connection {
  send(message: object): void;
  /** The session this socket last spoke for. */
  sessionId?: string;
  /** Set by onClose: messages of this socket still being handled must not touch a session. */
  closed?: boolean;
  /** Sessions this socket started (by naming new ids or none): bounded by maxSessionsPerConnection. */
  sessionsStarted?: number;
}

export interface DispatcherOptions {
  /** How long a session's objects outlive its socket, for `connect` resumption. */
  graceMs: number;
  /** Largest accepted message, in bytes; larger ones get an error reply. */
  maxMessageBytes: number;
  /** Most objects one session may have alive at once. */
  maxObjectsPerSession: number;
  /** Most sessions one socket may start: otherwise fresh sessionIds would make the object limit moot. */
  maxSessionsPerConnection?: number;
  /** Most WebRtcEndpoints alive in the whole engine (each is a peer connection: ~6 threads, ~50 fds, ~3 MB). */
  maxWebRtcEndpoints?: number;
  log: (line: string) => void;
}

interface Session {
  id: string;
  connection?: Connection;
  graceTimer?: NodeJS.Timeout;
}

type Json = Record<string, unknown>;

class RpcError extends Error {
  constructor(readonly error: { code: number; message: string; data?: unknown }) {
    super(error.message);
  }
}

export class Dispatcher {
  private readonly sessions = new Map<string, Session>();
  readonly registry: ObjectRegistry;

  constructor(private readonly opts: DispatcherOptions) {
    this.registry = new ObjectRegistry(
      { deliver: (sessionId, message) => this.sessions.get(sessionId)?.connection?.send(message) },
      opts.log,
      () => [...this.sessions.keys()],
    );
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Handles one WebSocket text frame: one or several concatenated JSON-RPC messages. */
  async onFrame(conn: Connection, frame: string): Promise<void> {
    if (Buffer.byteLength(frame) > this.opts.maxMessageBytes) {
      conn.send(this.errorReply(idOf(frame), { code: JsonRpcError.INVALID_REQUEST.code, message: `Message too large (limit ${this.opts.maxMessageBytes} bytes)` }));
      return;
    }
    const { texts, malformed } = splitJsonTexts(frame);
    if (malformed && texts.length === 0) {
      conn.send(this.errorReply(null, JsonRpcError.PARSE_ERROR));
      return;
    }
    for (const text of texts) {
      if (conn.closed) return; // nobody to answer; see execute
      let message: unknown;
      try {
        message = JSON.parse(text);
      } catch {
        conn.send(this.errorReply(null, JsonRpcError.PARSE_ERROR));
        continue;
      }
      const reply = await this.onMessage(conn, message);
      if (reply) conn.send(reply);
    }
    if (malformed) conn.send(this.errorReply(null, JsonRpcError.PARSE_ERROR));
  }

  /** Answers one parsed message; notifications (no id) get no answer. */
  async onMessage(conn: Connection, message: unknown): Promise<object | undefined> {
    if (!isObject(message) || message.jsonrpc !== '2.0' || typeof message.method !== 'string') {
      return this.errorReply(null, JsonRpcError.INVALID_REQUEST);
    }
    const id = message.id;
    const isNotification = id === undefined;
    if (!isNotification && typeof id !== 'number' && typeof id !== 'string') {
      return this.errorReply(null, JsonRpcError.INVALID_REQUEST);
    }
    if (message.params !== undefined && !isObject(message.params)) {
      return isNotification ? undefined : this.errorReply(id, JsonRpcError.INVALID_PARAMS);
    }
    try {
      const result = await this.execute(conn, message.method, (message.params ?? {}) as Json);
      return isNotification ? undefined : { id, jsonrpc: '2.0', result };
    } catch (err) {
      const error = toRpcError(err);
      this.opts.log(`error ${message.method} ${error.code}: ${error.message}`);
      return isNotification ? undefined : this.errorReply(id, error);
    }
  }

  /** The socket closed: its sessions keep their objects for the grace period, then release them. */
  onClose(conn: Connection): void {
    conn.closed = true;
    for (const session of this.sessions.values()) {
      if (session.connection !== conn) continue;
      session.connection = undefined;
      session.graceTimer = setTimeout(() => this.expire(session.id), this.opts.graceMs);
      session.graceTimer.unref();
    }
  }

  /** Releases everything (engine shutdown). */
  close(): void {
    for (const s of this.sessions.values()) clearTimeout(s.graceTimer);
    this.sessions.clear();
    this.registry.releaseAll();
  }

  private expire(sessionId: string): void {
    const session = this.sessions.get(sessionId);
    if (!session || session.connection) return;
    this.sessions.delete(sessionId);
    this.opts.log(`session ${sessionId} expired`);
    this.registry.releaseCreatedBy(sessionId);
  }

  private async execute(conn: Connection, method: string, params: Json): Promise<Json> {
    if (method === 'ping') return { value: 'pong' };
    // A message handled after its socket closed (later in a frame, or a transaction's next
    // operation after an await) would bind the session to a dead socket and cancel its grace
    // timer — or, once expired, start it anew — and whatever it created would never be released.
    if (conn.closed) throw new Error('the client closed the connection');
    if (method === 'connect') return this.connect(conn, params);

    const session = this.sessionFor(conn, params.sessionId);
    const sessionId = session.id;
    const registry = this.registry;
    switch (method) {
      case 'describe': {
        const obj = registry.require(params.object);
        return { hierarchy: kmd().hierarchy(obj.typeName), qualifiedType: `kurento.${obj.typeName}`, sessionId, type: obj.typeName };
      }
      case 'create': {
        if (registry.countCreatedBy(sessionId) >= this.opts.maxObjectsPerSession) {
          throw new KurentoError('NOT_ENOUGH_RESOURCES', `Too many objects in this session (limit ${this.opts.maxObjectsPerSession})`);
        }
        const maxPeers = this.opts.maxWebRtcEndpoints ?? Infinity;
        if (params.type === 'WebRtcEndpoint' && registry.countOfType('WebRtcEndpoint') >= maxPeers) {
          throw new KurentoError('NOT_ENOUGH_RESOURCES', `Too many WebRtcEndpoints in this media server (limit ${maxPeers})`);
        }
        const obj = registry.create(params.type, params.constructorParams, params.properties, sessionId);
        return { sessionId, value: obj.id };
      }
      case 'invoke': {
        const obj = registry.require(params.object);
        const op = kmd().operations(obj.typeName).get(params.operation as string);
        if (!op) throw new KurentoError('MEDIA_OBJECT_METHOD_NOT_FOUND', `Method '${String(params.operation)}' not found in '${obj.typeName}'`);
        const defs = op.kind === 'method' ? op.method.params : op.kind === 'set' ? [{ name: op.property.name, type: op.property.type }] : [];
        const args = kmd().marshalParams(defs, params.operationParams, (id) => registry.get(id));
        const value = await obj.invoke(params.operation as string, args);
        return { sessionId, value: value ?? null };
      }
      case 'subscribe':
        return { sessionId, value: registry.subscribe(params.object, params.type, sessionId) };
      case 'unsubscribe':
        registry.unsubscribe(params.subscription);
        return { sessionId };
      case 'release':
        if (typeof params.object === 'string') registry.release(params.object);
        return { sessionId };
      case 'transaction':
        return { sessionId, value: await this.transaction(conn, params, sessionId) };
      default:
        throw new RpcError(JsonRpcError.METHOD_NOT_FOUND);
    }
  }

  /** `connect` resumes a session after a reconnect; an unknown one answers 40007 (the server restarted). */
  private connect(conn: Connection, params: Json): Json {
    if (params.sessionId === undefined) return { sessionId: this.sessionFor(conn, undefined).id };
    const session = typeof params.sessionId === 'string' ? this.sessions.get(params.sessionId) : undefined;
    if (!session) throw new KurentoError('INVALID_SESSION', 'Invalid session');
    this.bind(session, conn);
    return { sessionId: session.id };
  }

  private sessionFor(conn: Connection, requested: unknown): Session {
    const id = typeof requested === 'string' && requested ? requested : conn.sessionId;
    let session = id ? this.sessions.get(id) : undefined;
    if (!session) {
      const max = this.opts.maxSessionsPerConnection ?? Infinity;
      if ((conn.sessionsStarted ?? 0) >= max) {
        throw new KurentoError('NOT_ENOUGH_RESOURCES', `Too many sessions on this connection (limit ${max})`);
      }
      conn.sessionsStarted = (conn.sessionsStarted ?? 0) + 1;
      // A client that names a session we do not know (e.g. after our restart) gets it anew.
      session = { id: id ?? randomUUID() };
      this.sessions.set(session.id, session);
      this.opts.log(`session ${session.id} started`);
    }
    this.bind(session, conn);
    return session;
  }

  private bind(session: Session, conn: Connection): void {
    clearTimeout(session.graceTimer);
    session.graceTimer = undefined;
    session.connection = conn;
    conn.sessionId = session.id;
  }

  /**
   * Runs operations in order; `newref:N` in an operation's params names the object that
   * operation N created. Each operation gets its own response, success or error.
   */
  private async transaction(conn: Connection, params: Json, sessionId: string): Promise<object[]> {
    if (!Array.isArray(params.operations)) throw new KurentoError('MALFORMED_TRANSACTION', "'operations' should be an array");
    const created: (string | undefined)[] = [];
    const responses: object[] = [];
    const resolve = (v: unknown): unknown => {
      if (typeof v === 'string' && v.startsWith('newref:')) return created[Number(v.slice(7))] ?? v;
      if (Array.isArray(v)) return v.map(resolve);
      if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x)]));
      return v;
    };
    for (const op of params.operations as unknown[]) {
      if (!isObject(op) || op.method === 'transaction') {
        responses.push(this.errorReply(isObject(op) ? op.id : null, new KurentoError('MALFORMED_TRANSACTION', 'Invalid operation in transaction').toJSON()));
        created.push(undefined);
        continue;
      }
      const resolved = { ...op, jsonrpc: '2.0', params: { ...(resolve(op.params ?? {}) as Json), sessionId } };
      const reply = (await this.onMessage(conn, { ...resolved, id: op.id ?? responses.length })) as Json;
      const result = reply?.result as Json | undefined;
      created.push(op.method === 'create' && result ? (result.value as string) : undefined);
      responses.push(reply);
    }
    return responses;
  }

  private errorReply(id: unknown, error: { code: number; message: string; data?: unknown }): object {
    return { error, id: id ?? null, jsonrpc: '2.0' };
  }
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function toRpcError(err: unknown): { code: number; message: string; data?: unknown } {
  if (err instanceof KurentoError) return err.toJSON();
  if (err instanceof RpcError) return err.error;
  const message = err instanceof Error ? err.message : String(err);
  return new KurentoError('UNEXPECTED_ERROR', message).toJSON();
}

/** Best-effort request id of a message too large to parse, so the client can match the error. */
function idOf(frame: string): number | string | null {
  const m = /"id"\s*:\s*(\d+|"[^"]{0,100}")/.exec(frame.slice(0, 4096));
  if (!m) return null;
  return m[1]!.startsWith('"') ? m[1]!.slice(1, -1) : Number(m[1]);
}
