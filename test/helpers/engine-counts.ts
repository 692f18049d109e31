/**
 * The engine's live counts (objects, pipelines, sessions, subscriptions, peer connections),
 * read the way any Kurento client could: ServerManager.getMetadata. And the engine process's
 * open file descriptors and UDP sockets, from /proc, for leak checks.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { connectRaw } from './rpc-client.js';

export interface EngineCounts {
  objects: number;
  pipelines: number;
  sessions: number;
  subscriptions: number;
  peerConnections: number;
  /** Face detections finished since the engine started, and the time they took in total. */
  detections: number;
  detectionMsTotal: number;
}

export async function engineCounts(uri: string): Promise<EngineCounts> {
  const c = await connectRaw(uri);
  try {
    const r = await c.request('invoke', { object: 'manager_ServerManager', operation: 'getMetadata' });
    return JSON.parse(r.result!.value as string) as EngineCounts;
  } finally {
    await c.close();
  }
}

export function processResources(pid: number): { fds: number; udpSockets: number; threads: number } {
  const fdDir = `/proc/${pid}/fd`;
  const socketInodes = new Set<string>();
  let fds = 0;
  for (const fd of readdirSync(fdDir)) {
    fds++;
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`${fdDir}/${fd}`));
      if (m) socketInodes.add(m[1]!);
    } catch {
      // fd closed while we looked
    }
  }
  let udpSockets = 0;
  for (const table of ['udp', 'udp6']) {
    const lines = readFileSync(`/proc/${pid}/net/${table}`, 'utf8').trim().split('\n').slice(1);
    for (const line of lines) if (socketInodes.has(line.trim().split(/\s+/)[9]!)) udpSockets++;
  }
  const threads = Number(/Threads:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return { fds, udpSockets, threads };
}
