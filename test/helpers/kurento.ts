/**
 * The real kurento-client, as tests create it.
 *
 * kurento-jsonrpc remembers each answered request for `duplicates_timeout` (20 s by default)
 * on a timer that client.close() does not clear, which kept test processes alive 20 s after
 * their last test; a short one changes nothing else (it only filters duplicated answers).
 */
import kurento from 'kurento-client';

/** The un-awaited client object, which alone exposes the reconnecting socket (`_re`). */
const rawClients = new WeakMap<object, { _re?: { disconnect(): void; _connection?: { socket?: { terminate(): void } } } }>();

export async function kurentoClient(uri: string, options: kurento.ClientOptions = { socket: { objectMode: true } }): Promise<kurento.KurentoClient> {
  const raw = kurento(uri, { duplicates_timeout: 500, ...options });
  const client = await raw;
  rawClients.set(client, raw as never);
  return client;
}

/**
 * Drops a client the way a crashed app or a lost network does: the socket just goes, with no
 * release and no closing handshake (which kurento-client's old ws would wait 30 s for).
 */
export function dropClient(client: kurento.KurentoClient): void {
  const re = rawClients.get(client)?._re;
  re?.disconnect(); // synchronously: no reconnection attempt when the socket closes below
  client.close();
  re?._connection?.socket?.terminate();
}
