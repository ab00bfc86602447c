import { readFileSync } from 'node:fs';

/** USER_HZ on Linux: /proc reports CPU times in 1/100 s. */
const HZ = 100;

export interface ProcSample {
  /** user + system CPU time of the process (all its threads), ms. */
  cpuMs: number;
  /** The kernel's part of cpuMs (system calls: on loopback a UDP send also runs the receive path). */
  systemMs: number;
  rssMiB: number;
}

/** CPU time and RSS of one process, from /proc/PID/stat and /proc/PID/status. */
export function procSample(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces and parentheses) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return { cpuMs: (ticks * 1000) / HZ, systemMs: (Number(fields[12]) * 1000) / HZ, rssMiB: rssKb / 1024 };
}

export interface MachineSample {
  /** Busy CPU time summed over all cores (everything but idle and iowait), ms. */
  busyMs: number;
  totalMs: number;
}

/** The machine's aggregate CPU counters from /proc/stat. */
export function machineSample(): MachineSample {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number); // user nice system idle iowait irq softirq steal
  const total = v.reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busyMs: ((total - idle) * 1000) / HZ, totalMs: (total * 1000) / HZ };
}

/** The machine's busy CPU over the next `ms`, in % of one core (to note other load before a run). */
export async function machineBusyPct(ms = 2000): Promise<number> {
  const a = machineSample();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const b = machineSample();
  return round1(((b.busyMs - a.busyMs) / (performance.now() - t0)) * 100);
}

/**
 * Samples processes and the machine at window start and end. `stop()` returns each pid's CPU in
 * % of one core over the window, and the whole machine's busy CPU in % of one core (so on 2
 * cores it goes up to 200): the part not explained by the sampled pids is other load (noise).
 */
export function cpuWindow(pids: Record<string, number>): { stop(): { wallMs: number; cpuMs: Record<string, number>; pct: Record<string, number>; systemPct: Record<string, number>; rssMiB: Record<string, number>; machineBusyPct: number; otherPct: number } } {
  const t0 = performance.now();
  const m0 = machineSample();
  const p0 = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, procSample(pid)]));
  return {
    stop() {
      const p1 = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, procSample(pid)]));
      const m1 = machineSample();
      const wallMs = performance.now() - t0;
      const cpuMs: Record<string, number> = {};
      const pct: Record<string, number> = {};
      const systemPct: Record<string, number> = {};
      const rssMiB: Record<string, number> = {};
      for (const k of Object.keys(pids)) {
        cpuMs[k] = p1[k]!.cpuMs - p0[k]!.cpuMs;
        pct[k] = round1((cpuMs[k] / wallMs) * 100);
        systemPct[k] = round1(((p1[k]!.systemMs - p0[k]!.systemMs) / wallMs) * 100);
        rssMiB[k] = Math.round(p1[k]!.rssMiB);
      }
      const machineBusyPct = round1(((m1.busyMs - m0.busyMs) / wallMs) * 100);
      const sampled = Object.values(pct).reduce((a, b) => a + b, 0);
      return { wallMs: Math.round(wallMs), cpuMs, pct, systemPct, rssMiB, machineBusyPct, otherPct: round1(machineBusyPct - sampled) };
    },
  };
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
