/**
 * startEngine(): runs the embedded media server in a child process and resolves once it
 * answers `ping`. Media code never runs in the caller's process: @roamhq/wrtc segfaults
 * at natural exit, and a crash of the media stack must not take the app down with it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { ENGINE_DEFAULTS } from './server.js';
import { ENGINE_MALLOC_ENV } from './process-env.js';

export interface StartEngineOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  graceMs?: number;
  /** Where the engine's log lines go: inherited stderr, or a callback per line. */
  log?: 'inherit' | ((line: string) => void);
  /** How long to wait for the engine to answer, in ms. */
  timeoutMs?: number;
  /**
   * Extra Node flags for the engine process, e.g. ['--cpu-prof', '--cpu-prof-dir=/tmp/prof']
   * to profile it (bench/cli.ts --cpu-prof). Placed before the entry file.
   */
  nodeArgs?: string[];
  /** Warm the face detector at start (--warm-up): the app's engine does, test engines need not. */
  warmUp?: boolean;
  /**
   * Serve only a path with a fresh per-launch secret (--secret), which only the returned uri
   * carries. Default true: whoever starts the engine talks to it; other programs and pages cannot.
   */
  secret?: boolean;
}

export interface EngineProcess {
  uri: string;
  pid: number;
  child: ChildProcess;
  /** Resolves when the process has ended (SIGTERM, then SIGKILL after 3 s). */
  close(): Promise<void>;
}

/** The engine entry point next to this file: cli.js when built, cli.ts under tsx. */
function cliEntry(): { file: string; execArgv: string[] } {
  const js = fileURLToPath(new URL('./cli.js', import.meta.url));
  if (existsSync(js)) return { file: js, execArgv: [] };
  const ts = fileURLToPath(new URL('./cli.ts', import.meta.url));
  return { file: ts, execArgv: ['--import', import.meta.resolve('tsx')] };
}

export async function startEngine(options: StartEngineOptions = {}): Promise<EngineProcess> {
  const { file, execArgv } = cliEntry();
  const args = [
    ...(options.nodeArgs ?? []),
    ...execArgv,
    file,
    '--host', options.host ?? ENGINE_DEFAULTS.host,
    '--port', String(options.port ?? 0),
    '--grace-ms', String(options.graceMs ?? ENGINE_DEFAULTS.graceMs),
    ...(options.warmUp ? ['--warm-up'] : []),
    ...(options.secret === false ? [] : ['--secret']),
  ];
  const log = options.log ?? 'inherit';
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', log === 'inherit' ? 'inherit' : 'pipe', 'ipc'],
    env: { ...ENGINE_MALLOC_ENV, ...process.env, ELECTRON_RUN_AS_NODE: '1' },
  });
  if (typeof log === 'function') {
    let buffered = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      lines.forEach(log);
    });
  }

  const exited = once(child, 'exit');
  const close = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  };

  try {
    const ready = await withTimeout(readReadyLine(child), options.timeoutMs ?? 20_000, 'The media engine did not start in time');
    await withTimeout(ping(ready.uri), 5000, 'The media engine does not answer');
    child.stdout!.resume();
    return { uri: ready.uri, pid: child.pid!, child, close };
  } catch (err) {
    await close();
    throw err;
  }
}

async function readReadyLine(child: ChildProcess): Promise<{ uri: string }> {
  let text = '';
  return new Promise((resolve, reject) => {
    child.stdout!.setEncoding('utf8');
    const onData = (chunk: string) => {
      text += chunk;
      const nl = text.indexOf('\n');
      if (nl < 0) return;
      child.stdout!.off('data', onData);
      try {
        resolve(JSON.parse(text.slice(0, nl)) as { uri: string });
      } catch {
        reject(new Error(`The media engine printed something unexpected: ${text.slice(0, nl)}`));
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code, signal) => reject(new Error(`The media engine exited before it was ready (${signal ?? `code ${code}`})`)));
  });
}

/** One JSON-RPC ping over a fresh socket: the engine is up when it answers. */
async function ping(uri: string): Promise<void> {
  const ws = new WebSocket(uri);
  try {
    await once(ws, 'open');
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'ping', params: { interval: 0 } }));
    const [data] = await once(ws, 'message');
    const reply = JSON.parse(String(data)) as { result?: { value?: string } };
    if (reply.result?.value !== 'pong') throw new Error('The media engine answered ping wrongly');
  } finally {
    ws.terminate();
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
