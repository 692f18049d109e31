/**
 * A self-signed certificate for web mode on a non-loopback host (browsers only allow the
 * camera on https:// pages or on localhost). Made once per host name with the `openssl`
 * command and kept in the config directory; later starts reuse it, so a browser exception
 * accepted once stays valid.
 *
 * openssl rather than an npm package because none that makes certificates is installed
 * (`selfsigned` is not); without openssl, the error says what to do.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile, rename, rm } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** Certificates are valid this long (825 days: the most Apple platforms accept). */
const VALID_DAYS = 825;

export interface TlsCertificate {
  key: Buffer;
  cert: Buffer;
  certFile: string;
  /** Made by this call (false: read from an earlier start). */
  created: boolean;
}

export async function selfSignedCertificate(host: string, configDir: string): Promise<TlsCertificate> {
  const dir = path.join(configDir, 'tls');
  const base = path.join(dir, host.replace(/[^A-Za-z0-9.-]/g, '_'));
  const keyFile = `${base}.key.pem`;
  const certFile = `${base}.cert.pem`;
  const existing = await Promise.all([readFile(keyFile), readFile(certFile)]).catch(() => undefined);
  if (existing) return { key: existing[0], cert: existing[1], certFile, created: false };

  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmpKey = `${keyFile}.${process.pid}.tmp`;
  const tmpCert = `${certFile}.${process.pid}.tmp`;
  const altName = net.isIP(host) ? `IP:${host}` : `DNS:${host}`;
  try {
    await execFileP('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256',
      '-days', String(VALID_DAYS),
      '-subj', `/CN=${host}/O=Magic Mirror (self-signed)`,
      '-addext', `subjectAltName=${altName}`,
      '-keyout', tmpKey, '-out', tmpCert,
    ], { timeout: 30_000 });
    await chmod(tmpKey, 0o600);
    // Renamed into place only once both exist, so a crash never leaves half a pair.
    await rename(tmpKey, keyFile);
    await rename(tmpCert, certFile);
  } catch (err) {
    await Promise.all([rm(tmpKey, { force: true }), rm(tmpCert, { force: true })]);
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(
        `Serving https://${host} needs a certificate, and making one needs the "openssl" command, which was not found. ` +
          'Install OpenSSL, or serve on http://localhost instead (--as_uri http://localhost:8443/).',
      );
    }
    throw new Error(`Could not make a certificate for ${host} with openssl: ${(err as Error).message}`);
  }
  return { key: await readFile(keyFile), cert: await readFile(certFile), certFile, created: true };
}
