import { describe, expect, it } from 'vitest';
import { mergeFailures, summarise, type LoadPart } from '../bench/media/load-summary.ts';
import {
  BUCKETS,
  createHistogram,
  extendSeq,
  fromSparse,
  mergeHistograms,
  percentileMs,
  percentileOf,
  recordLateness,
  recordMs,
  toSparse,
  tsDelta,
  updateJitter,
} from '../bench/media/stats.ts';

describe('latency histogram', () => {
  it('gives nearest-rank percentiles at 0.1 ms resolution, capped at the exact maximum', () => {
    const h = createHistogram();
    for (let i = 1; i <= 100; i++) recordMs(h, i); // 1..100 ms
    expect(h.count).toBe(100);
    expect(percentileMs(h, 50)).toBeCloseTo(50.1, 6); // the 50th value (50 ms) lies in [50.0, 50.1)
    expect(percentileMs(h, 99)).toBeCloseTo(99.1, 6);
    expect(percentileMs(h, 100)).toBe(100);
    expect(percentileMs(h, 0)).toBeCloseTo(1.1, 6);
  });

  it('is NaN when empty; negatives count as 0; values past 1 s land in the overflow slot', () => {
    const h = createHistogram();
    expect(percentileMs(h, 50)).toBeNaN();
    recordMs(h, -3);
    recordMs(h, 2500);
    recordMs(h, Number.NaN); // ignored
    expect(h.count).toBe(2);
    expect(h.counts[0]).toBe(1);
    expect(h.counts[BUCKETS]).toBe(1);
    expect(percentileMs(h, 50)).toBeCloseTo(0.1, 6); // upper edge of the first bucket
    expect(percentileMs(h, 100)).toBe(2500);
  });

  it('merges, and survives the sparse JSON round trip', () => {
    const a = createHistogram();
    const b = createHistogram();
    recordMs(a, 0.05);
    recordMs(a, 3.33);
    recordMs(b, 3.31);
    recordMs(b, 700);
    const m = mergeHistograms([a, b]);
    expect(m.count).toBe(4);
    expect(m.maxMs).toBe(700);
    expect(m.counts[33]).toBe(2);
    const back = fromSparse(JSON.parse(JSON.stringify(toSparse(m))));
    expect([...back.counts]).toEqual([...m.counts]);
    expect(back.count).toBe(4);
    expect(back.maxMs).toBe(700);
    expect(toSparse(m).slots).toEqual([
      [0, 1],
      [33, 2],
      [7000, 1],
    ]);
  });
});

describe('RTP arithmetic', () => {
  it('RFC 3550 jitter converges to the mean absolute transit difference', () => {
    let j = 0;
    j = updateJitter(j, 16);
    expect(j).toBe(1);
    for (let i = 0; i < 500; i++) j = updateJitter(j, i % 2 ? 2 : -2);
    expect(j).toBeCloseTo(2, 6);
  });

  it('extends 16-bit sequence numbers across the wrap and places reordered packets behind', () => {
    expect(extendSeq(65534, 65535)).toBe(65535);
    expect(extendSeq(65535, 0)).toBe(65536);
    expect(extendSeq(65536, 3)).toBe(65539);
    expect(extendSeq(65539, 65535)).toBe(65535); // a late packet from before the wrap
    expect(extendSeq(10, 9)).toBe(9);
  });

  it('measures timestamp distance on the 32-bit circle', () => {
    expect(tsDelta(0xffff_fc40, 0x0000_0000)).toBe(960);
    expect(tsDelta(960, 0)).toBe(-960);
  });

  it('min-normalises lateness over the window', () => {
    // A first packet that was itself 3 ms late makes later on-time packets look early (-3): all shift up by 3.
    const offsets = Float64Array.of(0, -3, -2.5, 7, -3);
    const h = recordLateness(offsets, offsets.length, createHistogram());
    expect(h.count).toBe(5);
    expect(h.counts[0]).toBe(2);
    expect(h.maxMs).toBe(10);
    expect(percentileMs(h, 60)).toBeCloseTo(0.6, 6); // normalised: 0, 0, 0.5, 3, 10
    expect(percentileMs(h, 80)).toBeCloseTo(3.1, 6);
    expect(recordLateness(offsets, 0, createHistogram()).count).toBe(0);
  });

  it('percentileOf small lists', () => {
    expect(percentileOf([3, 1, 2], 50)).toBe(2);
    expect(percentileOf([], 50)).toBeNaN();
  });
});

describe('load summary', () => {
  function part(over: Partial<LoadPart>): LoadPart {
    return {
      pid: 1,
      peersRequested: 2,
      connected: 2,
      setupFailures: [],
      windowMs: 10_000,
      sent: 1000,
      received: 990,
      expected: 1000,
      lost: 10,
      outOfOrder: 0,
      mediaGapFrames: 0,
      dropped: 0,
      silentPeers: 0,
      lateness: toSparse(createHistogram()),
      jitterMs: [0.5, 1.5],
      jitterMaxMs: [1, 4],
      answerMs: [100, 200],
      connectMs: [900, 1000],
      clock: { lateness: toSparse(createHistogram()), ticks: 500, skipped: 0 },
      cpuMs: 500,
      hangupErrors: 0,
      ...over,
    };
  }

  it('adds counts, merges histograms and flags an overloaded generator', () => {
    const slowClock = createHistogram();
    for (let i = 0; i < 100; i++) recordMs(slowClock, i < 95 ? 0.2 : 5);
    const lat = createHistogram();
    recordMs(lat, 1);
    recordMs(lat, 9);
    const s = summarise([
      part({ setupFailures: [{ reason: 'POST answered 503', count: 1 }], peersRequested: 3 }),
      part({ pid: 2, mediaGapFrames: 10, received: 980, lateness: toSparse(lat), clock: { lateness: toSparse(slowClock), ticks: 500, skipped: 2 }, jitterMs: [3, 0.1], jitterMaxMs: [7, 2] }),
    ]);
    expect(s.sessions).toBe(5);
    expect(s.connected).toBe(4);
    expect(s.sent).toBe(2000);
    expect(s.lost).toBe(20);
    expect(s.lossPct).toBe(1);
    expect(s.receivedPct).toBe(98.5);
    expect(s.mediaGapFrames).toBe(10);
    expect(s.mediaGapPct).toBe(0.505); // 10 of 1970 + 10 frames
    expect(s.latenessMs.max).toBe(9);
    expect(s.jitterMs.max).toBe(7);
    expect(s.jitterMs.p50).toBe(0.5);
    expect(s.setupFailures).toEqual([{ reason: 'POST answered 503', count: 1 }]);
    expect(s.loadGen.cpuPct).toBe(10); // 1000 ms CPU over a 10 s window
    expect(s.loadGen.cpuPctPerPeer).toBe(2.5);
    expect(s.loadGen.skippedTicks).toBe(2);
    expect(s.loadGen.worstClockP99Ms).toBe(5);
    expect(s.loadGen.overloaded).toBe(true);
  });

  it('merges setup failures by reason', () => {
    expect(
      mergeFailures([
        [{ reason: 'a', count: 1 }],
        [
          { reason: 'b', count: 1 },
          { reason: 'a', count: 2 },
        ],
      ]),
    ).toEqual([
      { reason: 'a', count: 3 },
      { reason: 'b', count: 1 },
    ]);
  });
});
