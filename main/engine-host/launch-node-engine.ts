/**
 * Launches the engine script (engine/cli.ts, bundled) with a given Node executable and waits
 * for the one JSON line it prints once it listens. Like engine/start.ts's startEngine(), which
 * always uses process.execPath — inside Electron that is Electron itself, which must not run
 * the engine (see engine-command.ts). Listens on loopback only, on a free port.
 */
import { spawn } from 'node:child_process';
import type { EngineCommand } from './engine-command.js';
import type { RunningEngine } from './engine-host.js';
import { ENGINE_MALLOC_ENV } from '../../engine/process-env.js';

export interface LaunchOptions {
  /** How long the engine may take to print its ready line. */
  timeoutMs?: number;
  /** Each line the engine writes to stderr (its log). */
  log?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

/** The environment for the engine: the app's, without what would change how Node starts. */
export function engineEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { ELECTRON_RUN_AS_NODE: _a, NODE_OPTIONS: _b, ...rest } = env;
  return { ...ENGINE_MALLOC_ENV, ...rest };
}

export function launchNodeEngine(command: EngineCommand, opts: LaunchOptions = {}): Promise<RunningEngine> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const child = spawn(command.nodePath, [...command.args, '--host', '127.0.0.1', '--port', '0', '--warm-up', '--secret'], {
    // The IPC channel is only a lifeline: the engine exits when it closes (the app died).
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: engineEnv(opts.env ?? process.env),
    windowsHide: true,
  });

  // For the failure reason: the last "…Error: message" line (Node ends an uncaught error's
  // report with a stack and its version), else the last line.
  let errorLine = '';
  let lastLine = '';
  let buffered = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      const text = line.trim();
      if (/^\w*Error\b/.test(text)) errorLine = text;
      if (text) lastLine = text;
      opts.log?.(line);
    }
  });

  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `exit code ${code}`));
    // A spawn failure emits 'error' and no 'exit'.
    child.once('error', (err) => resolve(err.message));
  });

  const close = async () => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  };

  return new Promise<RunningEngine>((resolve, reject) => {
    let settled = false;
    const settle = () => {
      const first = !settled;
      settled = true;
      clearTimeout(timer);
      return first;
    };
    const fail = (reason: string) => {
      if (settle()) void close().then(() => reject(new Error(reason)));
    };
    const timer = setTimeout(() => fail(`it did not start within ${timeoutMs / 1000} s`), timeoutMs);
    child.once('error', (err: NodeJS.ErrnoException) => {
      fail(err.code === 'ENOENT' ? `the Node.js runtime "${command.nodePath}" was not found` : `the Node.js runtime "${command.nodePath}" could not be run (${err.message})`);
    });
    // 'close' comes after 'exit' once stderr is drained, so its last line (the error) is in.
    child.once('close', (code, signal) => {
      const how = signal ? `signal ${signal}` : `exit code ${code}`;
      const why = errorLine || lastLine;
      fail(`the engine exited (${how}) before it was ready${why ? `: ${why}` : ''}`);
    });
    let text = '';
    child.stdout!.setEncoding('utf8').on('data', function onData(chunk: string) {
      text += chunk;
      const nl = text.indexOf('\n');
      if (nl < 0) return;
      child.stdout!.off('data', onData).resume();
      let uri: unknown;
      try {
        uri = (JSON.parse(text.slice(0, nl)) as { uri?: unknown }).uri;
      } catch {
        // Not JSON: refused just below.
      }
      if (typeof uri !== 'string') return fail(`it printed something unexpected: ${text.slice(0, Math.min(nl, 200))}`);
      if (settle()) resolve({ uri, exited, close });
    });
  });
}
