/**
 * Pure statistics for the media load generator: fixed-bucket latency histograms (0.1 ms buckets
 * up to 1 s, mergeable across peers and processes, serialisable as sparse JSON), percentiles,
 * RFC 3550 interarrival jitter, 16-bit RTP sequence extension, and min-normalised lateness.
 * Nothing here allocates per packet.
 */

export const BUCKET_MS = 0.1;
/** Buckets 0..BUCKETS-1 cover [0, 1000) ms; the last slot (index BUCKETS) counts everything above. */
export const BUCKETS = 10_000;

export interface Histogram {
  /** BUCKETS + 1 slots; slot i counts values in [i * BUCKET_MS, (i + 1) * BUCKET_MS), the last one overflow. */
  readonly counts: Uint32Array;
  count: number;
  /** Largest value recorded (exact), or 0 when empty. */
  maxMs: number;
}

/** A histogram as JSON: only the non-empty slots, as [slot, count] pairs. */
export interface SparseHistogram {
  slots: [slot: number, count: number][];
  count: number;
  maxMs: number;
}

export function createHistogram(): Histogram {
  return { counts: new Uint32Array(BUCKETS + 1), count: 0, maxMs: 0 };
}

/** Records one value in ms; negative values count as 0, non-finite ones are ignored. */
export function recordMs(h: Histogram, ms: number): void {
  if (!Number.isFinite(ms)) return;
  const v = ms > 0 ? ms : 0;
  const slot = Math.floor(v / BUCKET_MS);
  h.counts[slot < BUCKETS ? slot : BUCKETS]!++;
  h.count++;
  if (v > h.maxMs) h.maxMs = v;
}

/**
 * The p-th percentile (0..100) in ms, nearest-rank: the upper edge of the bucket holding the
 * ceil(p/100 * count)-th smallest value, capped at the exact maximum (so p100 is the maximum).
 * NaN when empty.
 */
export function percentileMs(h: Histogram, p: number): number {
  if (h.count === 0) return NaN;
  const rank = Math.min(h.count, Math.max(1, Math.ceil((p / 100) * h.count)));
  let seen = 0;
  for (let i = 0; i < BUCKETS; i++) {
    seen += h.counts[i]!;
    if (seen >= rank) return Math.min((i + 1) * BUCKET_MS, h.maxMs);
  }
  return h.maxMs;
}

/** Adds `from` into `into` (returns `into`). */
export function mergeInto(into: Histogram, from: Histogram): Histogram {
  for (let i = 0; i <= BUCKETS; i++) into.counts[i]! += from.counts[i]!;
  into.count += from.count;
  if (from.maxMs > into.maxMs) into.maxMs = from.maxMs;
  return into;
}

export function mergeHistograms(hs: readonly Histogram[]): Histogram {
  const out = createHistogram();
  for (const h of hs) mergeInto(out, h);
  return out;
}

export function toSparse(h: Histogram): SparseHistogram {
  const slots: [number, number][] = [];
  for (let i = 0; i <= BUCKETS; i++) if (h.counts[i]! > 0) slots.push([i, h.counts[i]!]);
  return { slots, count: h.count, maxMs: h.maxMs };
}

export function fromSparse(s: SparseHistogram): Histogram {
  const h = createHistogram();
  for (const [slot, n] of s.slots) {
    if (!Number.isInteger(slot) || slot < 0 || slot > BUCKETS) throw new RangeError(`bad histogram slot ${slot}`);
    h.counts[slot]! += n;
  }
  h.count = s.count;
  h.maxMs = s.maxMs;
  return h;
}

export interface Quantiles {
  p50: number;
  p99: number;
  max: number;
}

/** p50/p99/max rounded to 0.1 ms (null-free: NaN becomes null in JSON, which callers accept). */
export function quantiles(h: Histogram): Quantiles {
  return { p50: round1(percentileMs(h, 50)), p99: round1(percentileMs(h, 99)), max: round1(h.maxMs) };
}

export function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/** Nearest-rank percentile of a small list of exact values (e.g. one jitter figure per peer). NaN when empty. */
export function percentileOf(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

// --- RFC 3550 ------------------------------------------------------------------------------

/**
 * One step of the RFC 3550 (section 6.4.1, A.8) interarrival jitter estimate, all in the same
 * unit (ms here): `d` is the difference of relative transit times of two consecutive packets,
 * (Rj - Ri) - (Sj - Si). J += (|D| - J) / 16.
 */
export function updateJitter(jitter: number, d: number): number {
  return jitter + (Math.abs(d) - jitter) / 16;
}

/**
 * Extends a 16-bit RTP sequence number against the last extended one (RFC 3550 A.1 in spirit):
 * the result is the extended number closest to `lastExtended`, so wraps count forward and
 * reordered packets land just behind.
 */
export function extendSeq(lastExtended: number, seq16: number): number {
  const delta = (((seq16 - lastExtended) & 0xffff) << 16) >> 16; // signed 16-bit distance
  return lastExtended + delta;
}

/** Signed distance in RTP ticks from `from` to `to` on the 32-bit timestamp circle. */
export function tsDelta(from: number, to: number): number {
  return (to - from) | 0;
}

/**
 * Lateness of each packet (see load-peer.ts): raw offsets, arrival − (firstArrival + media time
 * since the first packet), min-normalised so the earliest packet of the window is 0, recorded
 * into `into`. Reads offsets[0..n).
 */
export function recordLateness(offsets: Float64Array, n: number, into: Histogram): Histogram {
  let min = Infinity;
  for (let i = 0; i < n; i++) if (offsets[i]! < min) min = offsets[i]!;
  for (let i = 0; i < n; i++) recordMs(into, offsets[i]! - min);
  return into;
}
