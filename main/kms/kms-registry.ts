/**
 * Web mode's media server connections (kms-connections.ts) with its own embedded engine:
 * `builtin` means an engine child process started on demand with startEngine() (this Node).
 * The desktop app does not use this class: it runs the engine with a plain Node through its
 * EngineHost (main/app/mirror-service.ts), since startEngine() would run it with Electron.
 */
import { BUILTIN_KMS, type KmsTimeouts } from '../defaults.js';
import { MirrorError, PROBLEM_TEXT } from '../problems.js';
import type { StartEngineOptions } from '../../engine/start.js';
import { BuiltinEngine } from './builtin-engine.js';
import { KmsConnections } from './kms-connections.js';

export interface KmsRegistryOptions {
  timeouts?: Partial<KmsTimeouts>;
  log?: (line: string) => void;
  /** Where the built-in engine's log lines go (startEngine's `log`; default: inherited stderr). */
  engineLog?: StartEngineOptions['log'];
}

export class KmsRegistry extends KmsConnections {
  /** The engine behind `builtin` (get('builtin') starts it). */
  readonly engine: BuiltinEngine;

  constructor(options: KmsRegistryOptions = {}) {
    const holder: { engine?: BuiltinEngine } = {};
    super({ timeouts: options.timeouts, log: options.log, builtinUri: async () => (await holder.engine!.start()).uri });
    this.engine = holder.engine = new BuiltinEngine({
      log: options.engineLog,
      onUnexpectedExit: (how) => {
        options.log?.(`the built-in media server stopped unexpectedly (${how})`);
        this.drop(BUILTIN_KMS, new MirrorError('kms-lost', PROBLEM_TEXT.engineExited(how)));
      },
    });
  }

  /** Closes every connection, then the built-in engine. */
  override async close(): Promise<void> {
    await super.close();
    await this.engine.close();
  }
}
