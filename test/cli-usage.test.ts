/**
 * The command lines of `npm run serve` (main/web/cli.ts) and `npm run engine` (engine/cli.ts):
 * a mistake in the options (unknown option, missing value, positional argument) is a one-line
 * reason plus the usage on stderr and exit code 2, before anything listens — not a Node stack
 * trace. `--help` is the usage on stdout and exit code 0.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Generous for a loaded machine (tsx start-up alone takes 1–3 s); a server that started would never exit by itself. */
const EXIT_WITHIN_MS = 30_000;

interface Run { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

function runCli(script: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, script), ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} ${args.join(' ')} still running after ${EXIT_WITHIN_MS} ms (did it start a server?)\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, EXIT_WITHIN_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function assertUsageError(r: Run, mentions: string[]): void {
  assert.equal(r.code, 2, `exit code 2, got ${r.code} (signal ${r.signal}); stderr:\n${r.stderr}`);
  assert.equal(r.stdout, '', 'nothing on stdout (no server started, no "listening" line)');
  const lines = r.stderr.trimEnd().split('\n');
  const usageAt = lines.findIndex((l) => l.startsWith('Usage: '));
  assert.equal(usageAt, 1, `one line of reason, then the usage:\n${r.stderr}`);
  for (const m of mentions) assert.ok(lines[0]!.includes(m), `the reason names ${m}: ${lines[0]}`);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
  assert.doesNotMatch(r.stderr, /TypeError|ERR_PARSE_ARGS|Node\.js v\d/, 'no raw error object');
}

const CLIS = [
  { script: 'main/web/cli.ts', usage: 'Usage: npm run serve -- [options]', stringOption: '--as_uri', otherOption: '--ws_uri' },
  { script: 'engine/cli.ts', usage: 'Usage: npm run engine -- [options]', stringOption: '--port', otherOption: '--host' },
];

for (const cli of CLIS) {
  describe(`${cli.script} command line`, () => {
    test('an unknown option: exit 2, the option named, usage on stderr', async () => {
      const r = await runCli(cli.script, ['--bogus']);
      assertUsageError(r, ['--bogus']);
      assert.ok(r.stderr.includes(cli.usage), r.stderr);
    });

    test('an unknown option after valid ones still fails before anything starts', async () => {
      const r = await runCli(cli.script, [cli.otherOption, '127.0.0.1', '-x']);
      assertUsageError(r, ['-x']);
    });

    test('an option without its value (at the end, or followed by another option)', async () => {
      assertUsageError(await runCli(cli.script, [cli.stringOption]), [cli.stringOption, 'argument missing']);
      // parseArgs would otherwise take the next option as the value; strict mode calls it ambiguous (a multi-line message, shown on one line).
      assertUsageError(await runCli(cli.script, [cli.stringOption, cli.otherOption, 'x']), [cli.stringOption, 'ambiguous']);
    });

    test('a positional argument', async () => {
      assertUsageError(await runCli(cli.script, ['stray']), ["'stray'"]);
    });

    test('--help: usage on stdout, exit 0', async () => {
      for (const flag of ['--help', '-h']) {
        const r = await runCli(cli.script, [flag]);
        assert.equal(r.code, 0, r.stderr);
        assert.ok(r.stdout.startsWith(cli.usage), r.stdout);
        assert.ok(r.stdout.includes(cli.stringOption), 'the usage lists the options');
        assert.equal(r.stderr, '');
      }
    });
  });
}
