/**
 * Why a WebSocket to a media server could not open, as a MirrorError a person can act on.
 * The errors come from ws 3 (inside kurento-client's websocket-stream) and Node's net/tls.
 */
import { MirrorError, PROBLEM_TEXT } from '../problems.js';

type NodeError = Error & { code?: string };

/** TLS failures by Node error code, in words. */
const TLS_REASONS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: "the server's certificate is self-signed",
  SELF_SIGNED_CERT_IN_CHAIN: "the server's certificate chain ends in a self-signed certificate",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the server's certificate is not signed by a trusted authority",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "the server's certificate is not signed by a trusted authority",
  CERT_HAS_EXPIRED: "the server's certificate has expired",
  ERR_TLS_CERT_ALTNAME_INVALID: "the server's certificate is for another host name",
};

export function connectFailure(uri: string, err: NodeError): MirrorError {
  const code = err.code ?? '';
  const make = (text: string) => new MirrorError('kms-unreachable', text, { cause: err });

  if (code === 'ECONNREFUSED') return make(PROBLEM_TEXT.refused(uri));
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return make(PROBLEM_TEXT.hostNotFound(uri, hostOf(uri)));
  if (code in TLS_REASONS) return make(PROBLEM_TEXT.tlsFailed(uri, TLS_REASONS[code]!));
  if (code === 'EPROTO' && /wrong version number/.test(err.message)) {
    return make(PROBLEM_TEXT.tlsFailed(uri, 'the server does not speak TLS on this port: try ws:// instead of wss://'));
  }
  if (code === 'EPROTO' || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') || /CERT/.test(code)) {
    return make(PROBLEM_TEXT.tlsFailed(uri, err.message));
  }
  // ws 3: the HTTP server answered, but not with a WebSocket upgrade.
  const status = /unexpected server response \((\d+)\)/i.exec(err.message)?.[1];
  if (status) return make(PROBLEM_TEXT.notKurento(uri, `it answered HTTP ${status} instead of opening a WebSocket`));
  return make(PROBLEM_TEXT.networkError(uri, err.message));
}

function hostOf(uri: string): string {
  try {
    return new URL(uri).hostname;
  } catch {
    return uri;
  }
}
