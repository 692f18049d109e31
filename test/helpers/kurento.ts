/**
 * The real kurento-client, as tests create it.
 *
 * kurento-jsonrpc remembers each answered request for `duplicates_timeout` (20 s by default)
 * on a timer that client.close() does not clear, which kept test processes alive 20 s after
 * their last test; a short one changes nothing else (it only filters duplicated answers).
 */
import kurento from 'kurento-client';
import type { FakeCameraPeer } from './fake-camera-peer.js';

/** The un-awaited client object, which alone exposes the reconnecting socket (`_re`). */
const rawClients = new WeakMap<object, { _re?: { disconnect(): void; _connection?: { socket?: { terminate(): void } } } }>();

export async function kurentoClient(uri: string, options: kurento.ClientOptions = { socket: { objectMode: true } }): Promise<kurento.KurentoClient> {
  const raw = kurento(uri, { duplicates_timeout: 500, ...options });
  const client = await raw;
  rawClients.set(client, raw as never);
  return client;
}

/** The client's current WebSocket (ws 3), e.g. to watch or delay what it sends; undefined if not connected. */
export function clientSocket(client: kurento.KurentoClient): { send(...args: unknown[]): unknown } | undefined {
  return (rawClients.get(client)?._re?._connection?.socket as { send(...args: unknown[]): unknown } | undefined);
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

/** Wires a wrtc fake camera to a WebRtcEndpoint (offer → answer, trickle ICE both ways) and starts it sending. */
export async function connectFakeCamera(endpoint: kurento.WebRtcEndpoint, peer: FakeCameraPeer): Promise<void> {
  endpoint.on('IceCandidateFound', (e: { candidate: kurento.IceCandidate }) => void peer.addIceCandidate(e.candidate));
  peer.on('iceCandidate', (c) => void endpoint.addIceCandidate(kurento.getComplexType('IceCandidate')(c)));
  await peer.processAnswer(await endpoint.processOffer(await peer.createOffer()));
  await endpoint.gatherCandidates();
  await peer.connected();
  await peer.start();
}
