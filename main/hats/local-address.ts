/**
 * Host-name facts the hat server needs to build a URL a media server can fetch.
 */
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import net from 'node:net';

/** Whether `host` (a name or an address) means this machine's loopback interface. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost') || h === '::1') return true;
  return net.isIPv4(h) && h.startsWith('127.');
}

/** Whether `host` is a wildcard listen address (all interfaces). */
export function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

/**
 * This machine's address on the route toward `host`: what a server there sees us as. A
 * connected UDP socket picks the route without sending anything.
 */
export async function localAddressToward(host: string): Promise<string> {
  const { address, family } = await lookup(host.replace(/^\[|\]$/g, ''));
  const socket = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(9, address, () => resolve());
    });
    return socket.address().address;
  } finally {
    socket.close();
  }
}

/** `host` as it goes into a URL (IPv6 addresses in brackets). */
export function urlHost(host: string): string {
  return net.isIPv6(host) ? `[${host}]` : host;
}
