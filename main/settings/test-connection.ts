/**
 * The Settings page's "Test connection": opens a connection the way sessions do
 * (main/kms/kms-connection.ts: socket, then a Kurento ServerInfo with FaceOverlayFilter),
 * closes it, and reports the session core's own classified problem when it fails.
 */
import type { ConnectionTestResult } from '../../common/ipc-contract.js';
import { KmsConnection } from '../kms/kms-connection.js';
import { asMirrorError } from '../problems.js';

export async function probeKms(uri: string, timeoutMs: number): Promise<ConnectionTestResult> {
  let connection: KmsConnection;
  try {
    connection = await KmsConnection.open(uri, { timeouts: { connectMs: timeoutMs } });
  } catch (err) {
    const e = asMirrorError(err);
    return { ok: false, problem: e.problem, message: e.message };
  }
  connection.close();
  return { ok: true, message: `Connected to ${uri}: a Kurento media server with FaceOverlayFilter.` };
}
