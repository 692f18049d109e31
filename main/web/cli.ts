/**
 * `npm run serve -- [--as_uri http://localhost:8443/] [--ws_uri builtin] [--max_mirrors N] [--hat NAME|URL|FILE]
 *                   [--hats_host ADDRESS] [--hats_port PORT] [--hats_public_uri URL]`
 *
 * Web mode with the Kurento tutorial's options: --as_uri is where the page is served, --ws_uri
 * the media server (`builtin`: the embedded engine), or several, comma-separated: a pool
 * (main/kms/server-pool.ts). The hat options say where the media
 * server fetches hats from (only needed for a media server on another machine).
 */
import { MIRROR_ADMISSION, POOL_DEFAULTS, WEB_DEFAULTS } from '../defaults.js';
import { parseCommandLine } from '../../common/command-line.js';
import { BUILTIN_HATS, EACH_FACE } from '../../common/settings.js';

const USAGE = `Usage: npm run serve -- [options]
  --as_uri URL           where to serve the mirror (default ${WEB_DEFAULTS.asUri})
  --ws_uri URI[,URI…]    the Kurento media server, or "builtin" for the embedded one (default ${WEB_DEFAULTS.wsUri});
                         several: each mirror goes to the least-loaded one that is up
  --max_per_server N     with several: at most N mirrors per media server (default ${POOL_DEFAULTS.cap})
  --max_mirrors N        at most N mirrors at once, starting or running; the next visitor is told to try again in a moment
                         (default ${MIRROR_ADMISSION.mirrorsPerServer} per media server)
  --hat NAME|URL|FILE    a built-in (${[...BUILTIN_HATS, EACH_FACE].join(', ')}: each face its own hat), an http(s) URL or a local .png (default: ${BUILTIN_HATS[0]})
  --hats_host ADDRESS    where the hat server listens (default 127.0.0.1 for a local media server, else 0.0.0.0)
  --hats_port PORT       its port (default: any free port)
  --hats_public_uri URL  the hat server's address as the media server reaches it (e.g. behind NAT)`;

const values = parseCommandLine(
  {
    as_uri: { type: 'string', default: WEB_DEFAULTS.asUri },
    ws_uri: { type: 'string', default: WEB_DEFAULTS.wsUri },
    hat: { type: 'string' },
    hats_host: { type: 'string' },
    hats_port: { type: 'string' },
    hats_public_uri: { type: 'string' },
    max_per_server: { type: 'string' },
    max_mirrors: { type: 'string' },
  },
  USAGE,
);

const cap = values.max_per_server === undefined ? undefined : Number(values.max_per_server);
if (cap !== undefined && !(Number.isInteger(cap) && cap >= 1)) {
  process.stderr.write(`--max_per_server must be a whole number ≥ 1, not "${values.max_per_server}"\n${USAGE}\n`);
  process.exit(2);
}

const maxMirrors = values.max_mirrors === undefined ? undefined : Number(values.max_mirrors);
if (maxMirrors !== undefined && !(Number.isInteger(maxMirrors) && maxMirrors >= 1)) {
  process.stderr.write(`--max_mirrors must be a whole number ≥ 1, not "${values.max_mirrors}"\n${USAGE}\n`);
  process.exit(2);
}

// Only now load the server side (kurento-client, the engine launcher, …): a bad command line or
// --help answers at once and starts nothing.
const { startWebMode } = await import('./web-mode.js');

const log = (line: string) => console.error(`[mirror] ${line}`);
const web = await startWebMode({
  asUri: values.as_uri,
  wsUri: values.ws_uri.split(',').map((u) => u.trim()).filter(Boolean),
  hat: values.hat,
  ...(cap !== undefined && { pool: { cap } }),
  ...(maxMirrors !== undefined && { maxMirrors }),
  hats: {
    ...(values.hats_host && { host: values.hats_host }),
    ...(values.hats_port && { port: Number(values.hats_port) }),
    ...(values.hats_public_uri && { publicUrl: values.hats_public_uri }),
  },
  log,
}).catch((err: Error) => {
  console.error(`Magic Mirror could not start: ${err.message}`);
  process.exit(1);
});

for (const note of web.notes) console.log(note);
console.log(`Magic Mirror (media server: ${values.ws_uri}). Open ${web.url} in a WebRTC-capable browser.`);

let stopping = false;
async function stop(): Promise<never> {
  if (!stopping) {
    stopping = true;
    await web.close().catch((err: Error) => log(`while stopping: ${err.message}`));
  }
  // kurento-jsonrpc keeps a timer per unanswered request: do not wait for them.
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
