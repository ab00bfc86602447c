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
