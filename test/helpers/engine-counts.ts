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
  /** The share of the time the detector may be busy now (engine/vision/detector-budget.ts). */
  detectorDuty: number;
  /** Decoded frames skipped because a newer one arrived before the engine got to them. */
  staleFramesDropped: number;
  /** The face detector: 'ready' once its model has run (the engine warms it at start). */
  detector: 'cold' | 'warming' | 'ready' | 'failed';
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

export interface ProcessResources {
  fds: number;
  udpSockets: number;
  threads: number;
  /** What each open fd is: "tcp", "udp", "unix", "netlink", "raw" or "socket" for sockets, else the link target. */
  fdKinds: string[];
}

export function processResources(pid: number): ProcessResources {
  const fdDir = `/proc/${pid}/fd`;
  const targets: string[] = [];
  for (const fd of readdirSync(fdDir)) {
    try {
      targets.push(readlinkSync(`${fdDir}/${fd}`));
    } catch {
      // fd closed while we looked
    }
  }
  const socketTables = new Map<string, string>();
  for (const table of ['tcp', 'tcp6', 'udp', 'udp6', 'unix', 'netlink', 'raw', 'raw6']) {
    let lines: string[];
    try {
      lines = readFileSync(`/proc/${pid}/net/${table}`, 'utf8').trim().split('\n').slice(1);
    } catch {
      continue;
    }
    const inodeColumn = table === 'unix' ? 6 : 9;
    for (const line of lines) {
      const inode = line.trim().split(/\s+/)[inodeColumn];
      if (inode) socketTables.set(inode, table.replace('6', ''));
    }
  }
  const fdKinds = targets.map((t) => {
    const m = /^socket:\[(\d+)\]$/.exec(t);
    return m ? socketTables.get(m[1]!) ?? 'socket' : t;
  });
  const udpSockets = fdKinds.filter((k) => k === 'udp').length;
  const threads = Number(/Threads:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return { fds: fdKinds.length, udpSockets, threads, fdKinds };
}

/**
 * The process's resources, read several times over `ms`, keeping the reading with the fewest
 * fds: a socket the reader itself just closed (a count query over WebSocket) closes on the
 * server side a moment later, so a single reading can count it; a leaked fd is in every reading.
 */
export async function steadyResources(pid: number, ms = 500, samples = 6): Promise<ProcessResources> {
  let best = processResources(pid);
  for (let i = 1; i < samples; i++) {
    await new Promise((r) => setTimeout(r, ms / (samples - 1)));
    const r = processResources(pid);
    if (r.fds < best.fds) best = r;
  }
  return best;
}

/** The fds open in `after` but not in `before`, by kind: e.g. ["tcp", "anon_inode:[eventfd]"]. */
export function newFdKinds(before: readonly string[], after: readonly string[]): string[] {
  const left = new Map<string, number>();
  for (const k of before) left.set(k, (left.get(k) ?? 0) + 1);
  const added: string[] = [];
  for (const k of after) {
    const n = left.get(k) ?? 0;
    if (n > 0) left.set(k, n - 1);
    else added.push(k);
  }
  return added;
}
