// Where the machine's CPU went during a run: the API server, kubelet, containerd, the runtime
// shims (which carry exec streams), tcpdump, and the machine as a whole. Processes are sampled
// while the run lasts, so one that exits before the end (a shim of a deleted debug pod, tcpdump)
// still counts up to its last sample.
import { readdirSync, readFileSync } from 'node:fs';
import { componentPids } from './cluster.ts';

const HZ = 100; // USER_HZ: /proc reports clock ticks of 1/100 s on Linux

function ticksOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]); // utime + stime
  } catch {
    return undefined;
  }
}

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

function machineBusyTicks(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return total - (f[3] ?? 0) - (f[4] ?? 0);
}

export type CpuReport = Record<string, number>;

/** Starts sampling; stop() returns CPU seconds per group for the time in between. */
export function cpuSampler(everyMs = 250): { stop(): CpuReport } {
  const fixed = componentPids();
  const groups = new Map<number, string>();
  for (const [name, pid] of Object.entries(fixed)) groups.set(pid, name);
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  const scan = (initial: boolean) => {
    for (const d of readdirSync('/proc')) {
      const pid = Number(d);
      if (!Number.isInteger(pid)) continue;
      let g = groups.get(pid);
      if (g === undefined) {
        const comm = commOf(pid);
        g = comm.startsWith('containerd-shim') ? 'containerd-shim' : comm === 'tcpdump' ? 'tcpdump' : '';
        groups.set(pid, g);
      }
      if (!g) continue;
      const t = ticksOf(pid);
      if (t === undefined) continue;
      if (!first.has(pid)) first.set(pid, initial ? t : 0);
      last.set(pid, t);
    }
  };
  const busy0 = machineBusyTicks();
  scan(true);
  const timer = setInterval(() => scan(false), everyMs);
  return {
    stop() {
      clearInterval(timer);
      scan(false);
      const out: CpuReport = {};
      for (const [pid, t] of last) {
        const g = groups.get(pid)!;
        out[g] = (out[g] ?? 0) + (t - (first.get(pid) ?? 0)) / HZ;
      }
      out.machine = (machineBusyTicks() - busy0) / HZ;
      return out;
    },
  };
}
