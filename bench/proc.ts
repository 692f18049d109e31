/**
 * /proc readers for the bench and the soak: CPU time and RSS of a process (all its threads),
 * CPU time per thread name (libwebrtc and Node name their threads, so the engine's cost can be
 * split into codec, network and JavaScript work), and the whole machine's busy time (to see
 * what other processes took during a run). Linux only. Open fds and UDP sockets come from
 * test/helpers/engine-counts.ts (processResources).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's CPU times (USER_HZ; 100 on every common Linux). */
export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Fields of /proc/<pid>/stat (or .../task/<tid>/stat) after the "(comm)" field; index 0 is field 3 (state). */
function statFields(path: string): { comm: string; rest: string[] } {
  const text = readFileSync(path, 'utf8');
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  return { comm: text.slice(open + 1, close), rest: text.slice(close + 2).split(' ') };
}

/** User + system CPU seconds a process (every thread, reaped children excluded) has used. */
export function cpuSeconds(pid: number | 'self'): number {
  const { rest } = statFields(`/proc/${pid}/stat`);
  return (Number(rest[11]) + Number(rest[12])) / CLK_TCK;
}

/** Resident set size in MB (VmRSS). */
export function rssMb(pid: number | 'self'): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/**
 * CPU seconds per thread name ("main (JS)" for the main thread, "node" for Node worker threads,
 * libwebrtc's names such as "EncoderQueue", …); threads sharing a name are summed. Threads
 * that ended are not counted (compare two readings only over stable periods).
 */
export function threadCpuSeconds(pid: number | 'self'): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const { comm, rest } = statFields(`/proc/${pid}/task/${tid}/stat`);
      // "WebRTC-Worker12" and "WebRTC-Worker3" are one kind; Node's main thread and its worker
      // threads are all called "node": the main one (tid = pid) is told apart.
      const name = tid === String(pid) || (pid === 'self' && tid === String(process.pid)) ? 'main (JS)' : comm.replace(/\d+$/, '#');
      out.set(name, (out.get(name) ?? 0) + (Number(rest[11]) + Number(rest[12])) / CLK_TCK);
    } catch {
      // the thread ended while we looked
    }
  }
  return out;
}

/** Difference of two threadCpuSeconds readings, as cores over `seconds`, largest first. */
export function threadCores(before: Map<string, number>, after: Map<string, number>, seconds: number): Array<{ thread: string; cores: number }> {
  return [...after]
    .map(([thread, s]) => ({ thread, cores: (s - (before.get(thread) ?? 0)) / seconds }))
    .filter((t) => t.cores > 0.005)
    .sort((a, b) => b.cores - a.cores);
}

/** The machine's busy and total CPU seconds summed over all cores (from /proc/stat). */
export function machineCpuSeconds(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user)
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = v;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy: busy / CLK_TCK, total: (busy + idle + iowait) / CLK_TCK };
}

/** True if /proc/<pid> exists (the process is alive or a zombie). */
export function processExists(pid: number): boolean {
  try {
    readFileSync(`/proc/${pid}/stat`);
    return true;
  } catch {
    return false;
  }
}
