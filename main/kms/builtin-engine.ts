/**
 * The embedded media server behind the URI `builtin`: one engine child process on loopback
 * and a free port, started on first use and reused; started again on the next use if it died.
 */
import { startEngine, type EngineProcess, type StartEngineOptions } from '../../engine/start.js';
import { MirrorError, PROBLEM_TEXT } from '../problems.js';

export class BuiltinEngine {
  #starting: Promise<EngineProcess> | undefined;
  #closed = false;

  constructor(
    private readonly options: {
      /** Where the engine's log lines go (startEngine's `log`). */
      log?: StartEngineOptions['log'];
      /** Called when a started engine exits without being asked to, with how it ended. */
      onUnexpectedExit?: (how: string) => void;
    } = {},
  ) {}

  /** The running engine, started if needed. Rejects with an 'engine-failed' MirrorError. */
  start(): Promise<EngineProcess> {
    if (this.#closed) return Promise.reject(new MirrorError('engine-failed', PROBLEM_TEXT.engineFailed('the app is shutting down')));
    this.#starting ??= this.#start();
    return this.#starting;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const engine = await this.#starting?.catch(() => undefined);
    await engine?.close();
  }

  async #start(): Promise<EngineProcess> {
    let engine: EngineProcess;
    try {
      engine = await startEngine({ host: '127.0.0.1', port: 0, warmUp: true, log: this.options.log });
    } catch (err) {
      this.#starting = undefined; // the next session tries again
      throw new MirrorError('engine-failed', PROBLEM_TEXT.engineFailed((err as Error).message), { cause: err });
    }
    engine.child.once('exit', (code, signal) => {
      this.#starting = undefined;
      if (!this.#closed) this.options.onUnexpectedExit?.(signal ? `signal ${signal}` : `exit code ${code}`);
    });
    return engine;
  }
}
