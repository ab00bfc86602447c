/**
 * Where a worker's CPU went over a bench window, from its STAGE_TIMING=on counters
 * (switchboard_stage_seconds_total, media-worker/src/telemetry/stage-cpu.ts) scraped at the
 * window's edges: each stage's % of a core, and `transport` as the rest of the process's CPU
 * (SRTP, sockets, werift, timers, event loop, pipeline glue). Pure.
 */
import { STAGE_NAMES, type StageName } from '../../media-worker/src/telemetry/stage-cpu.ts';
import { sampleSum } from '../stack/prom-text.ts';

const STAGE_SECONDS = 'switchboard_stage_seconds_total';

export type Stage = 'transport' | StageName;
export const STAGES: readonly Stage[] = ['transport', ...STAGE_NAMES];

export interface StageSplit {
  /** Per stage, % of one core per connected session over the window. */
  pctPerSession: Record<Stage, number>;
  /** Each stage's share of the worker's CPU over the window, %. */
  sharePct: Record<Stage, number>;
  /** Per stage, % of one core over the window (unrounded). */
  pctOfCore: Record<Stage, number>;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** `cpuPct`: the worker's CPU over the window (% of a core); `m`: its /metrics at the window's edges. */
export function stageSplit(cpuPct: number, connected: number, m: { before: string; after: string }, windowMs: number): StageSplit {
  if (!new RegExp(`^${STAGE_SECONDS}\\{`, 'm').test(m.after)) throw new Error(`the worker exports no ${STAGE_SECONDS} (STAGE_TIMING=on?)`);
  const pctOfCore = {} as Record<Stage, number>;
  let measured = 0;
  for (const stage of STAGE_NAMES) {
    const label = new RegExp(`stage="${stage}"`);
    const seconds = sampleSum(m.after, STAGE_SECONDS, label) - sampleSum(m.before, STAGE_SECONDS, label);
    pctOfCore[stage] = ((seconds * 1000) / windowMs) * 100;
    measured += pctOfCore[stage];
  }
  pctOfCore.transport = cpuPct - measured;
  const sessions = Math.max(1, connected);
  const pctPerSession = {} as Record<Stage, number>;
  const sharePct = {} as Record<Stage, number>;
  for (const s of STAGES) {
    pctPerSession[s] = round2(pctOfCore[s] / sessions);
    sharePct[s] = Math.round((pctOfCore[s] / cpuPct) * 1000) / 10;
  }
  return { pctPerSession, sharePct, pctOfCore };
}

/**
 * What an echo row would cost per session if everything but its Opus decoding and encoding and the
 * kernel's socket work cost nothing (SRTP, werift, timers, playout, glue all free): about the least
 * any transport and pipeline could bring the row to with the same codec settings (the stages are
 * wall-clock, so it is an estimate).
 * `sharePct` from stageSplit; `kernelPctPerSession`: the process's system time per session (% of
 * a core), which the stages do not include.
 */
export function codecFloorPctPerSession(cpuPctPerSession: number, sharePct: Record<Stage, number>, kernelPctPerSession: number): number {
  return (cpuPctPerSession * (sharePct.decode + sharePct.encode)) / 100 + kernelPctPerSession;
}
