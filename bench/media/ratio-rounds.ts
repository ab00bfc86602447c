import { percentile } from '../stack/percentiles.ts';

/** One round at one size: our CPU per session and the baseline's, measured back to back. */
export interface RoundPair {
  sessions: number;
  ours: number;
  baseline: number;
  /**
   * The baseline fell behind real time in this round (baselineSaturated()): its CPU per session
   * is then its ceiling divided by N, not its cost, and the round gives no ratio.
   */
  baselineSaturated?: boolean;
  /** With stage timing: our CPU per session with everything but Opus and the kernel taken out (codecFloorPctPerSession). */
  oursFloor?: number;
}

export interface SizeRatio {
  sessions: number;
  /** ours / baseline of each round, in round order, rounded to 0.01; null where the baseline was saturated. */
  perRound: (number | null)[];
  /**
   * The median of the rounds' ratios (the lower middle one for an even count), rounded to 0.01;
   * null when the baseline was saturated in every round.
   */
  median: number | null;
  /** The same over `oursFloor`, when every round of the size has one: the ratio no transport work could go below. */
  floor?: { perRound: (number | null)[]; median: number | null };
}

const r2 = (x: number) => Math.round(x * 100) / 100;

/**
 * The CPU-per-session ratio at each size from rounds that each ran our server and the baseline
 * back to back: each round's ratio compares two runs a minute apart, so load from other tenants
 * of a shared machine, which drifts over minutes, mostly cancels within a round; the median over
 * rounds then drops a round where it did not. Sizes come out in the order they first appear.
 */
export function ratiosByRound(pairs: readonly RoundPair[]): SizeRatio[] {
  const bySize = new Map<number, { ratios: (number | null)[]; floors: (number | null)[] | null }>();
  for (const p of pairs) {
    if (!(p.ours >= 0) || !(p.baseline > 0)) throw new Error(`round at ${p.sessions} sessions: CPU per session must be positive (ours ${p.ours}, baseline ${p.baseline})`);
    const size = bySize.get(p.sessions) ?? { ratios: [], floors: [] };
    size.ratios.push(p.baselineSaturated ? null : p.ours / p.baseline);
    if (p.oursFloor === undefined) size.floors = null;
    else size.floors?.push(p.baselineSaturated ? null : p.oursFloor / p.baseline);
    bySize.set(p.sessions, size);
  }
  return [...bySize].map(([sessions, { ratios, floors }]) => ({
    sessions,
    ...medianOfRounds(ratios),
    ...(floors && floors.length > 0 ? { floor: medianOfRounds(floors) } : {}),
  }));
}

function medianOfRounds(ratios: readonly (number | null)[]): { perRound: (number | null)[]; median: number | null } {
  const valid = ratios.filter((r): r is number => r !== null);
  return { perRound: ratios.map((r) => (r === null ? null : r2(r))), median: valid.length ? r2(percentile(valid, 50)) : null };
}

/**
 * Limits past which a baseline run did not keep up with its calls. Judged by what its clients
 * received, not by its CPU: aiortc's event loop holds one core, but its codecs run in threads
 * and it was seen at 114 % of a core while falling seconds behind.
 */
export const SATURATION = {
  /** Echoed packets this late at p99 mean the server is queueing audio behind its CPU. */
  lateP99Ms: 100,
  /** Audio the server never sent. */
  gapPct: 1,
};

/** Whether a server's run fell behind real time (see SATURATION). */
export function baselineSaturated(run: { latenessMs: { p99: number | null }; mediaGapPct: number | null }): boolean {
  return (run.latenessMs.p99 ?? 0) > SATURATION.lateP99Ms || (run.mediaGapPct ?? 0) > SATURATION.gapPct;
}
