import { procSample } from '../media/proc-cpu.ts';

/**
 * CPU time of named processes over a stretch of work (/proc/PID/stat), per unit of work:
 * `const done = cpuMeter({ worker: pid }); ...; done(200)` is each process's CPU ms per item.
 * A process that is gone by the end reports null.
 */
export function cpuMeter(pids: Record<string, number | undefined>): (items: number) => Record<string, number | null> {
  const before = new Map<string, number>();
  for (const [name, pid] of Object.entries(pids)) if (pid !== undefined) before.set(name, procSample(pid).cpuMs);
  return (items) => {
    const out: Record<string, number | null> = {};
    for (const [name, pid] of Object.entries(pids)) {
      const start = before.get(name);
      if (pid === undefined || start === undefined) continue;
      try {
        out[name] = Math.round(((procSample(pid).cpuMs - start) / Math.max(1, items)) * 100) / 100;
      } catch {
        out[name] = null;
      }
    }
    return out;
  };
}
