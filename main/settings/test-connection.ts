/**
 * The Settings page's "Test connection": opens a connection the way sessions do
 * (main/kms/kms-connection.ts: socket, then a Kurento ServerInfo with FaceOverlayFilter),
 * closes it, and reports which server answered (its version) or the session core's own
 * classified problem when it fails (refused, host not found, TLS, timeout, not Kurento, no
 * FaceOverlayFilter — the last one names the version too).
 */
import type { ConnectionTestResult } from '../../common/ipc-contract.js';
import { withoutEngineSecret } from '../../common/kms-uri.js';
import { KmsConnection, type KmsServerInfo } from '../kms/kms-connection.js';
import { asMirrorError } from '../problems.js';

/** The module our built-in engine adds to its ServerInfo (engine/elements/factories.ts). */
const ENGINE_MODULE = 'magicmirror-engine';

export async function probeKms(uri: string, timeoutMs: number): Promise<ConnectionTestResult> {
  let connection: KmsConnection;
  try {
    connection = await KmsConnection.open(uri, { timeouts: { connectMs: timeoutMs } });
  } catch (err) {
    const e = asMirrorError(err);
    return { ok: false, problem: e.problem, message: e.message };
  }
  const info = connection.serverInfo;
  connection.close();
  return { ok: true, version: info.version, message: `Connected to ${withoutEngineSecret(uri)}: ${describeServer(info)}, with FaceOverlayFilter.` };
}

export function describeServer(info: KmsServerInfo): string {
  const engine = info.modules.find((m) => m.name === ENGINE_MODULE);
  if (engine) return `Magic Mirror's built-in media server ${engine.version} (Kurento ${info.version})`;
  return `Kurento Media Server ${info.version}`;
}
