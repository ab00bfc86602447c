/** Nearest-rank percentile (p in 0..100) of a sample; NaN when empty. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[rank]!;
}

/** p50/p99/max of a sample, rounded to 0.1. */
export function summary(xs: readonly number[]): { n: number; p50: number; p99: number; max: number } {
  const r = (v: number) => Math.round(v * 10) / 10;
  return { n: xs.length, p50: r(percentile(xs, 50)), p99: r(percentile(xs, 99)), max: r(xs.length ? Math.max(...xs) : Number.NaN) };
}
