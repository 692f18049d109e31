/**
 * `npm run engine -- [--host 127.0.0.1] [--port 8888] [--grace-ms 30000]`
 * Runs the embedded media server. Prints one JSON line `{"uri": …}` on stdout once it
 * listens (startEngine waits for it); logs go to stderr. Ends on SIGTERM/SIGINT or when
 * its parent's IPC channel closes.
 */
import { ENGINE_DEFAULTS, serveEngine } from './server.js';
import { parseCommandLine } from '../common/command-line.js';
import { withoutEngineSecret } from '../common/kms-uri.js';

const USAGE = `Usage: npm run engine -- [options]
  --host ADDRESS     where to listen (default ${ENGINE_DEFAULTS.host})
  --port PORT        the port, 0 for any free one (default ${ENGINE_DEFAULTS.port})
  --grace-ms MS      how long a closed socket's objects are kept for \`connect\` resumption (default ${ENGINE_DEFAULTS.graceMs})
  --max-objects N    the most media objects one session may create (default ${ENGINE_DEFAULTS.maxObjectsPerSession})
  --warm-up          load the face detector and run it once right away, so the first session does not wait for it
  --secret           serve only ws://<host>:<port>/kurento/<a fresh random secret> (the uri printed on stdout);
                     the app and web mode start their engine so, and no other program or page learns it`;

const values = parseCommandLine(
  {
    host: { type: 'string', default: ENGINE_DEFAULTS.host },
    port: { type: 'string', default: String(ENGINE_DEFAULTS.port) },
    'grace-ms': { type: 'string', default: String(ENGINE_DEFAULTS.graceMs) },
    'max-objects': { type: 'string', default: String(ENGINE_DEFAULTS.maxObjectsPerSession) },
    'warm-up': { type: 'boolean', default: false },
    secret: { type: 'boolean', default: false },
  },
  USAGE,
);

const engine = await serveEngine({
  host: values.host,
  port: Number(values.port),
  graceMs: Number(values['grace-ms']),
  maxObjectsPerSession: Number(values['max-objects']),
  warmUp: values['warm-up'],
  secret: values.secret,
}).catch((err: Error) => {
  console.error(`[engine] cannot listen on ${values.host}:${values.port}: ${err.message}`);
  process.exit(1);
});

process.stdout.write(`${JSON.stringify({ uri: engine.uri, pid: process.pid })}\n`);
// The secret goes to the parent on stdout only, never into a log.
console.error(`[engine] Kurento Protocol server at ${withoutEngineSecret(engine.uri)}${values.secret ? '/<secret>' : ''}`);

let stopping = false;
async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    await engine.close().catch(() => undefined);
  }
  // Explicit exit: a process that created a wrtc RTCVideoSource segfaults if left to exit by itself.
  process.exit(code);
}
process.on('SIGTERM', () => void stop(0));
process.on('SIGINT', () => void stop(0));
process.on('disconnect', () => void stop(0));
