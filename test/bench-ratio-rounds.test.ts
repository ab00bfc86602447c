import { describe, expect, it } from 'vitest';
import { baselineSaturated, ratiosByRound } from '../bench/media/ratio-rounds.ts';

describe('bench ratio over rounds', () => {
  it('takes the median of each round’s own ratio, per size', () => {
    const r = ratiosByRound([
      { sessions: 10, ours: 1.5, baseline: 4.5 },
      { sessions: 20, ours: 1.2, baseline: 4.8 },
      { sessions: 10, ours: 1.0, baseline: 4.0 },
      { sessions: 20, ours: 1.4, baseline: 4.0 },
      { sessions: 10, ours: 2.0, baseline: 4.0 },
      { sessions: 20, ours: 1.3, baseline: 4.4 },
    ]);
    expect(r).toEqual([
      { sessions: 10, perRound: [0.33, 0.25, 0.5], median: 0.33 },
      { sessions: 20, perRound: [0.25, 0.35, 0.3], median: 0.3 },
    ]);
  });

  it('pairs runs within a round, not the medians of each server', () => {
    // A noisy minute raised both servers' figures in round 2: its ratio is the same as round 1's.
    const r = ratiosByRound([
      { sessions: 10, ours: 1, baseline: 4 },
      { sessions: 10, ours: 2, baseline: 8 },
    ]);
    expect(r[0]!.perRound).toEqual([0.25, 0.25]);
    expect(r[0]!.median).toBe(0.25);
  });

  it('takes the lower middle round for an even count', () => {
    expect(ratiosByRound([
      { sessions: 10, ours: 1, baseline: 4 },
      { sessions: 10, ours: 2, baseline: 4 },
    ])[0]!.median).toBe(0.25);
  });

  it('gives the floor ratio per round when every round of a size has a floor, and none otherwise', () => {
    const r = ratiosByRound([
      { sessions: 10, ours: 1.2, baseline: 4, oursFloor: 0.6 },
      { sessions: 20, ours: 1.0, baseline: 4, oursFloor: 0.5 },
      { sessions: 10, ours: 1.0, baseline: 5, oursFloor: 0.55, baselineSaturated: true },
      { sessions: 20, ours: 1.1, baseline: 4.4 },
      { sessions: 10, ours: 1.3, baseline: 4, oursFloor: 0.64 },
    ]);
    expect(r[0]).toEqual({ sessions: 10, perRound: [0.3, null, 0.33], median: 0.3, floor: { perRound: [0.15, null, 0.16], median: 0.15 } });
    expect(r[1]).toEqual({ sessions: 20, perRound: [0.25, 0.25], median: 0.25 });
  });

  it('refuses a baseline run that measured no CPU', () => {
    expect(() => ratiosByRound([{ sessions: 10, ours: 1, baseline: 0 }])).toThrow(/10 sessions.*baseline 0/);
  });

  it('gives no ratio for a round where the baseline was saturated, and the median of the rest', () => {
    const r = ratiosByRound([
      { sessions: 40, ours: 1, baseline: 4 },
      { sessions: 40, ours: 1, baseline: 2, baselineSaturated: true },
      { sessions: 40, ours: 1, baseline: 5 },
      { sessions: 80, ours: 1, baseline: 1.2, baselineSaturated: true },
    ]);
    expect(r).toEqual([
      { sessions: 40, perRound: [0.25, null, 0.2], median: 0.2 },
      { sessions: 80, perRound: [null], median: null },
    ]);
  });
});

describe('baseline saturation', () => {
  const run = (p99: number, gap: number) => ({ latenessMs: { p99 }, mediaGapPct: gap });
  it('is a run that queued audio behind its CPU or skipped it, as its clients saw', () => {
    expect(baselineSaturated(run(19.6, 0))).toBe(false);
    expect(baselineSaturated(run(3854.8, 0))).toBe(true);
    expect(baselineSaturated(run(2.4, 3))).toBe(true);
  });
});
