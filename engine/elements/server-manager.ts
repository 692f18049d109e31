/** ServerManager: the singleton `manager_ServerManager` that describes the server and its load. */
import os from 'node:os';
import { KurentoError } from '../protocol/errors.js';
import { kmd } from '../objects/kmd.js';
import { MediaObjectImpl, type ObjectHost } from '../objects/media-object.js';
import { ENGINE_MODULE, FACTORIES_BY_MODULE } from './factories.js';

export const SERVER_MANAGER_ID = 'manager_ServerManager';

export interface ServerState {
  pipelineIds(): string[];
  sessionIds(): string[];
  /** Live counts, for leak checks (objects, sessions, subscriptions, peer connections), and the detector's state. */
  counts(): Record<string, number | string>;
}

export class ServerManagerImpl extends MediaObjectImpl {
  constructor(host: ObjectHost, state: ServerState) {
    super('ServerManager', host, undefined, SERVER_MANAGER_ID);
    this.handle('getInfo', () => this.info());
    this.handle('getPipelines', () => state.pipelineIds());
    this.handle('getSessions', () => state.sessionIds());
    // KMS leaves `metadata` free-form; the engine reports its live counts there (JSON).
    this.handle('getMetadata', () => JSON.stringify(state.counts()));
    this.handle('getKmd', ({ moduleName }) => {
      const text = kmd().kmdText(moduleName as string);
      if (text === undefined) throw new KurentoError('SERVER_MANAGER_ERROR_KMD_NOT_FOUND', `Module '${moduleName as string}' not found`);
      return text;
    });
    this.handle('getCpuCount', () => os.availableParallelism());
    this.handle('getUsedCpu', ({ interval }) => usedCpu(interval as number));
    this.handle('getUsedMemory', () => Math.round(process.memoryUsage.rss() / 1024));
  }

  private info() {
    const registry = kmd();
    const modules = registry.modules.map((m) =>
      registry.tagComplex('ModuleInfo', {
        factories: FACTORIES_BY_MODULE[m.name] ?? [],
        generationTime: '',
        name: m.name,
        version: m.version,
      }),
    );
    // Our own module entry tells apps (and our settings dialog) which server answers.
    modules.push(registry.tagComplex('ModuleInfo', { factories: [], generationTime: '', name: ENGINE_MODULE.name, version: ENGINE_MODULE.version }));
    return registry.tagComplex('ServerInfo', {
      capabilities: ['transactions'],
      modules,
      type: 'KMS',
      version: registry.modules[0]!.version,
    });
  }
}

/** Percentage of all cores this process used over `interval` ms (KMS measures the whole server). */
async function usedCpu(interval: number): Promise<number> {
  const ms = Math.min(Math.max(interval, 10), 10_000);
  const start = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const used = process.cpuUsage(start);
  const elapsedUs = (performance.now() - t0) * 1000;
  return ((used.user + used.system) / elapsedUs / os.availableParallelism()) * 100;
}
