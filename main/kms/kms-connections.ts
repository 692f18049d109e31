/**
 * One KmsConnection per media server URI, shared by every session that uses it; `builtin`
 * means the embedded engine, reached through the URI `builtinUri()` gives (which starts it if
 * needed). A connection that closes (gave up reconnecting, its engine died, drop()) is
 * forgotten, so the next get() opens a fresh one; a failed open is not cached either.
 *
 * Who runs the engine is the caller's business: web mode's KmsRegistry (kms-registry.ts)
 * starts it with startEngine(); the desktop app's EngineHost starts it with a plain Node.
 * This module imports no engine code, so the Electron main bundle can use it without
 * loading the engine's native WebRTC stack.
 */
import { BUILTIN_KMS, type KmsTimeouts } from '../defaults.js';
import { MirrorError, PROBLEM_TEXT } from '../problems.js';
import { KmsConnection } from './kms-connection.js';

export interface KmsConnectionsOptions {
  timeouts?: Partial<KmsTimeouts>;
  log?: (line: string) => void;
  /** The built-in engine's ws:// URI, starting it if needed. Rejects with an 'engine-failed' MirrorError. */
  builtinUri: () => Promise<string>;
}

export class KmsConnections {
  readonly #connections = new Map<string, Promise<KmsConnection>>();
  readonly #options: KmsConnectionsOptions;
  #closed = false;

  constructor(options: KmsConnectionsOptions) {
    this.#options = options;
  }

  /** The connection for `uri` (`builtin` or ws[s]://…), opened if needed. Rejects with a MirrorError. */
  get(uri: string): Promise<KmsConnection> {
    if (this.#closed) return Promise.reject(new MirrorError('internal', PROBLEM_TEXT.unexpected('the app is shutting down')));
    let connection = this.#connections.get(uri);
    if (!connection) {
      const opening = this.#open(uri);
      connection = opening;
      this.#connections.set(uri, opening);
      const forget = () => this.#connections.get(uri) === opening && this.#connections.delete(uri);
      opening.then((c) => c.once('closed', forget), forget);
    }
    return connection;
  }

  /** Closes the connection for `uri`, if open: its sessions get `reason` ('lost'); the next get() opens anew. */
  drop(uri: string, reason: MirrorError): void {
    void this.#connections.get(uri)?.then(
      (c) => c.close(reason),
      () => {},
    );
  }

  /** Closes every connection; later get() calls reject. */
  async close(): Promise<void> {
    this.#closed = true;
    const connections = await Promise.allSettled(this.#connections.values());
    for (const c of connections) if (c.status === 'fulfilled') c.value.close();
    this.#connections.clear();
  }

  async #open(uri: string): Promise<KmsConnection> {
    const options = { timeouts: this.#options.timeouts, log: this.#options.log };
    return KmsConnection.open(uri === BUILTIN_KMS ? await this.#options.builtinUri() : uri, options);
  }
}
