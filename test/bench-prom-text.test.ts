import { describe, expect, it } from 'vitest';
import { histogramBuckets, histogramQuantile, sampleSum } from '../bench/stack/prom-text.ts';

const TEXT = `# HELP switchboard_claims_total Claim attempts by outcome
# TYPE switchboard_claims_total counter
switchboard_claims_total{outcome="claimed"} 7
switchboard_claims_total{outcome="refused_409"} 2
switchboard_claims_total_extra 100
switchboard_frames_late_total 3
switchboard_output_ticks_total 1500
`;

describe('bench Prometheus text reading', () => {
  it('sums the samples of one metric, by label when asked, never a longer name sharing its prefix', () => {
    expect(sampleSum(TEXT, 'switchboard_claims_total')).toBe(9);
    expect(sampleSum(TEXT, 'switchboard_claims_total', /outcome="claimed"/)).toBe(7);
    expect(sampleSum(TEXT, 'switchboard_frames_late_total')).toBe(3);
    expect(sampleSum(TEXT, 'switchboard_output_ticks_total')).toBe(1500);
    expect(sampleSum(TEXT, 'switchboard_absent_total')).toBe(0);
  });

  it('reads a histogram between two scrapes and gives the bucket bound that holds a quantile', () => {
    const scrape = (counts: number[]) =>
      ['0.001', '0.005', '0.01', '+Inf'].map((le, i) => `switchboard_send_lateness_seconds_bucket{le="${le}"} ${counts[i]}`).join('\n') +
      `\nswitchboard_send_lateness_seconds_sum 1\nswitchboard_send_lateness_seconds_count ${counts[3]}\n`;
    const before = histogramBuckets(scrape([10, 10, 10, 10]), 'switchboard_send_lateness_seconds');
    expect([...before]).toEqual([[0.001, 10], [0.005, 10], [0.01, 10], [Infinity, 10]]);
    // Between the scrapes: 90 within 1 ms, 8 more within 5 ms, 1 within 10 ms, 1 beyond.
    const after = histogramBuckets(scrape([100, 108, 109, 110]), 'switchboard_send_lateness_seconds');
    expect(histogramQuantile(before, after, 0.5)).toBe(0.001);
    expect(histogramQuantile(before, after, 0.95)).toBe(0.005);
    expect(histogramQuantile(before, after, 0.99)).toBe(0.01);
    expect(histogramQuantile(before, after, 1)).toBe(Infinity);
    expect(histogramQuantile(after, after, 0.5)).toBeNaN();
  });
});
