import { cpuWindow } from './media/proc-cpu.ts';
import { summary } from './stack/percentiles.ts';
import type { TurnSample } from './turn-samples.ts';

export interface ConcurrentRun {
  sessions: number;
  /** Session i starts i * staggerMs after the first (arrivals spread, not one burst). */
  staggerMs: number;
  /** First session's start -> last session's end. */
  wallMs: number;
  /** Each session's own start -> end (set-up, audio, tail, hang-up). */
  sessionMs: ReturnType<typeof summary>;
  /** CPU (user + system) of each process over the window, divided by the sessions, ms. */
  cpuMsPerSession: Record<string, number>;
  /** Each process's CPU over the window, % of one core. */
  pct: Record<string, number>;
  /** The machine's busy CPU over the window (% of one core) and the part not in the sampled processes (other load). */
  machineBusyPct: number;
  otherPct: number;
  samples: TurnSample[];
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * Runs `sessions` sessions at once (staggered by `staggerMs`) while sampling the CPU of `pids`
 * from /proc, and charges each process's CPU over the window to the sessions equally. The window
 * holds everything a session costs (webhooks, set-up, media, hang-up), and also whatever the
 * processes spend idle meanwhile (queue polling), which is small beside it.
 */
export async function concurrentSessions(sessions: number, staggerMs: number, pids: Record<string, number>, run: (i: number) => Promise<TurnSample>): Promise<ConcurrentRun> {
  const window = cpuWindow(pids);
  const durations: number[] = [];
  const samples = await Promise.all(
    Array.from({ length: sessions }, async (_, i) => {
      await new Promise((r) => setTimeout(r, i * staggerMs));
      const t0 = performance.now();
      const sample = await run(i);
      durations.push(performance.now() - t0);
      return sample;
    }),
  );
  const cpu = window.stop();
  const cpuMsPerSession = Object.fromEntries(Object.entries(cpu.cpuMs).map(([k, ms]) => [k, round2(ms / sessions)]));
  return { sessions, staggerMs, wallMs: cpu.wallMs, sessionMs: summary(durations), cpuMsPerSession, pct: cpu.pct, machineBusyPct: cpu.machineBusyPct, otherPct: cpu.otherPct, samples };
}
