import { describe, expect, it } from 'vitest';
import { sampleSum } from '../bench/stack/prom-text.ts';

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
});
