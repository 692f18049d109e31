/**
 * The server under test: the embedded engine (started here as a child process, so its pid's
 * /proc entries can be read) or any Kurento server given by URI (`--kms ws://…`; give
 * `--kms-pid` too to get its CPU/RSS/fds), plus an HTTP server with the test hat.
 */
import os from 'node:os';
import { startEngine, type EngineProcess } from '../engine/start.js';
import { serveStatic } from '../test/helpers/chromium.js';
import { engineCounts, type EngineCounts } from '../test/helpers/engine-counts.js';
import { testHatPng } from '../test/helpers/hat-pixels.js';
import { connectRaw } from '../test/helpers/rpc-client.js';

export interface ServerOptions {
  /** ws:// URI of another Kurento server; the embedded engine is started when absent. */
  kms?: string;
  /** pid of that server's process, for /proc readings. */
  kmsPid?: number;
  /** Where the server fetches the hat; by default a local HTTP server with the test hat. */
  hatUrl?: string;
  /** Embedded engine only: session grace period (abandoned clients). */
  graceMs?: number;
  /** Embedded engine only: extra node flags (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** Embedded engine only: where its log lines go. */
  log?: (line: string) => void;
}

export interface ServerUnderTest {
  kind: 'embedded' | 'external';
  uri: string;
  /** The server process, when known (always for the embedded engine). */
  pid: number | undefined;
  hatUrl: string;
  /** The engine's live counts; null when the server does not report them (a real KMS). */
  counts(): Promise<EngineCounts | null>;
  /** Pipeline ids, through ServerManager.getPipelines (any Kurento server). */
  pipelines(): Promise<string[]>;
  close(): Promise<void>;
}

export async function openServer(o: ServerOptions): Promise<ServerUnderTest> {
  const hats = o.hatUrl ? undefined : await serveStatic({ '/hat.png': testHatPng() });
  let engine: EngineProcess | undefined;
  try {
    if (!o.kms) {
      engine = await startEngine({ log: o.log ?? (() => undefined), graceMs: o.graceMs, nodeArgs: o.nodeArgs });
    }
  } catch (err) {
    await hats?.close();
    throw err;
  }
  const uri = engine?.uri ?? o.kms!;
  return {
    kind: engine ? 'embedded' : 'external',
    uri,
    pid: engine?.pid ?? o.kmsPid,
    hatUrl: o.hatUrl ?? `${hats!.url}/hat.png`,
    counts: async () => {
      try {
        const c = await engineCounts(uri);
        return typeof c === 'object' && c !== null && typeof c.objects === 'number' ? c : null;
      } catch {
        return null; // KMS answers getMetadata with its own free-form text
      }
    },
    pipelines: () => listPipelines(uri),
    close: async () => {
      await engine?.close();
      await hats?.close();
    },
  };
}

export async function listPipelines(uri: string): Promise<string[]> {
  const c = await connectRaw(uri);
  try {
    const r = await c.request('invoke', { object: 'manager_ServerManager', operation: 'getPipelines' });
    return (r.result?.value as string[] | undefined) ?? [];
  } finally {
    await c.close();
  }
}

/** What the JSON says about the machine. */
export function machineInfo() {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverage: os.loadavg().map((v) => Math.round(v * 100) / 100),
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    hostname: os.hostname(),
  };
}
