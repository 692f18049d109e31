/**
 * One KmsConnection per media server URI, shared by every session that uses it. `builtin`
 * means the embedded engine (started on demand). A connection that closes (gave up
 * reconnecting, or its engine died) is forgotten, so the next get() opens a fresh one; a
 * failed open is not cached either.
 */
import { BUILTIN_KMS, type KmsTimeouts } from '../defaults.js';
import { MirrorError, PROBLEM_TEXT } from '../problems.js';
import type { StartEngineOptions } from '../../engine/start.js';
import { BuiltinEngine } from './builtin-engine.js';
import { KmsConnection } from './kms-connection.js';

export interface KmsRegistryOptions {
  timeouts?: Partial<KmsTimeouts>;
  log?: (line: string) => void;
  /** Where the built-in engine's log lines go (startEngine's `log`; default: inherited stderr). */
  engineLog?: StartEngineOptions['log'];
}

export class KmsRegistry {
  readonly #connections = new Map<string, Promise<KmsConnection>>();
  /** The engine behind `builtin` (get('builtin') starts it). */
  readonly engine: BuiltinEngine;
  #closed = false;

  constructor(private readonly options: KmsRegistryOptions = {}) {
    this.engine = new BuiltinEngine({
      log: options.engineLog,
      onUnexpectedExit: (how) => {
        options.log?.(`the built-in media server stopped unexpectedly (${how})`);
        void this.#connections.get(BUILTIN_KMS)?.then(
          (c) => c.close(new MirrorError('kms-lost', PROBLEM_TEXT.engineExited(how))),
          () => {},
        );
      },
    });
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

  /** Closes every connection, then the built-in engine. */
  async close(): Promise<void> {
    this.#closed = true;
    const connections = await Promise.allSettled(this.#connections.values());
    for (const c of connections) if (c.status === 'fulfilled') c.value.close();
    this.#connections.clear();
    await this.engine.close();
  }

  async #open(uri: string): Promise<KmsConnection> {
    const options = { timeouts: this.options.timeouts, log: this.options.log };
    if (uri !== BUILTIN_KMS) return KmsConnection.open(uri, options);
    const engine = await this.engine.start();
    return KmsConnection.open(engine.uri, options);
  }
}
