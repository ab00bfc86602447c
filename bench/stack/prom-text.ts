/**
 * The sum of a metric's samples in Prometheus text exposition: those of `name` whose label set
 * matches `label` (every sample when omitted; an unlabelled sample matches only then).
 */
export function sampleSum(text: string, name: string, label?: RegExp): number {
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm'))) {
    if (!label || label.test(m[1] ?? '')) sum += Number(m[2]);
  }
  return sum;
}

/** A worker's /metrics text. */
export async function scrapeMetrics(workerUrl: string): Promise<string> {
  const res = await fetch(`${workerUrl}/metrics`);
  if (!res.ok) throw new Error(`${workerUrl}/metrics: ${res.status}`);
  return res.text();
}

/** A Prometheus histogram's cumulative bucket counts by upper bound (`le`, +Inf included), summed over label sets. */
export function histogramBuckets(text: string, name: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const m of text.matchAll(new RegExp(`^${name}_bucket\\{([^}]*)\\} (\\S+)$`, 'gm'))) {
    const le = /(?:^|,)le="([^"]+)"/.exec(m[1]!)?.[1];
    if (le === undefined) continue;
    const bound = le === '+Inf' ? Infinity : Number(le);
    out.set(bound, (out.get(bound) ?? 0) + Number(m[2]));
  }
  return out;
}

/**
 * Quantile q (0..1) of the observations made between two scrapes of one histogram (`after` minus
 * `before`), as the upper bound of the bucket that holds it: "at most this". NaN with no
 * observations; Infinity when it falls past the last finite bound.
 */
export function histogramQuantile(before: Map<number, number>, after: Map<number, number>, q: number): number {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const counts = bounds.map((b) => (after.get(b) ?? 0) - (before.get(b) ?? 0));
  const total = counts[counts.length - 1] ?? 0;
  if (total <= 0) return Number.NaN;
  const rank = q * total;
  const i = counts.findIndex((c) => c >= rank);
  return bounds[i === -1 ? bounds.length - 1 : i]!;
}
