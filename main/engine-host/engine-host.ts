/**
 * Hosts the built-in media engine for the app: started when first needed (or at launch when
 * the settings say 'builtin'), one start at a time, restarted on the next need after it
 * failed or stopped. How it is launched is injected (launch-node-engine.ts in the app, a
 * fake in tests).
 */

export interface RunningEngine {
  /** ws://127.0.0.1:<port>/kurento */
  uri: string;
  /** Resolves, with how it ended ("exit code 1", "signal SIGSEGV"), when the process is gone. */
  exited: Promise<string>;
  close(): Promise<void>;
}

/** Starts an engine; rejects with an Error whose message says why it could not. */
export type LaunchEngine = () => Promise<RunningEngine>;

export interface EngineHostEvents {
  /** A start failed: the reason, fit to show after "could not start: ". */
  startFailed(reason: string): void;
  /** The engine stopped by itself while running (crash, killed). */
  exitedUnexpectedly(how: string): void;
}

type State =
  | { kind: 'idle' }
  | { kind: 'starting'; ready: Promise<RunningEngine> }
  | { kind: 'running'; engine: RunningEngine }
  | { kind: 'stopped' };

export class EngineHost {
  private state: State = { kind: 'idle' };

  constructor(
    private readonly launch: LaunchEngine,
    private readonly events: EngineHostEvents,
  ) {}

  /** The running engine's URI, starting it if needed. Rejects with the reason it could not start. */
  async uri(): Promise<string> {
    const s = this.state;
    if (s.kind === 'running') return s.engine.uri;
    if (s.kind === 'starting') return (await s.ready).uri;
    if (s.kind === 'stopped') throw new Error('the app is shutting down');
    const ready = this.start();
    this.state = { kind: 'starting', ready };
    const settled = (next: State) => {
      // Unless stop() came meanwhile (it closes the engine itself).
      if (this.state.kind === 'starting' && this.state.ready === ready) this.state = next;
    };
    ready.then(
      (engine) => settled({ kind: 'running', engine }),
      () => settled({ kind: 'idle' }), // the next call tries again
    );
    return (await ready).uri;
  }

  /** Stops the engine for good (app quit); later uri() calls reject. */
  async stop(): Promise<void> {
    const s = this.state;
    this.state = { kind: 'stopped' };
    if (s.kind === 'running') await s.engine.close();
    if (s.kind === 'starting') await s.ready.then((e) => e.close(), () => undefined);
  }

  /** Launches one engine; reports a failure, and a later exit that nobody asked for. */
  private async start(): Promise<RunningEngine> {
    let engine: RunningEngine;
    try {
      engine = await this.launch();
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.events.startFailed(reason);
      throw new Error(reason, { cause: err });
    }
    void engine.exited.then((how) => {
      if (this.state.kind === 'running' && this.state.engine === engine) {
        this.state = { kind: 'idle' };
        this.events.exitedUnexpectedly(how);
      }
    });
    return engine;
  }
}
