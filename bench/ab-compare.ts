/**
 * The arithmetic of `npm run bench:ab` (ab.ts): each run's result file flattened to its numeric
 * figures, and each figure's median per variant with the ratio of the medians. Pure: ab.ts does
 * the runs and the printing.
 */

/** Every finite number in a result file, by its path (`setup.concurrent.whip.p50`, `media[2].cpuPct`). */
export function flattenNumbers(value: unknown, prefix = '', out = new Map<string, number>()): Map<string, number> {
  if (typeof value === 'number') {
    if (Number.isFinite(value)) out.set(prefix, value);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => flattenNumbers(v, `${prefix}[${i}]`, out));
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) flattenNumbers(v, prefix ? `${prefix}.${k}` : k, out);
  }
  return out;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export interface AbRow {
  metric: string;
  base: number[];
  head: number[];
  baseMedian: number;
  headMedian: number;
  /** headMedian / baseMedian; NaN when the base's median is 0 or a side has no value. */
  ratio: number;
}

/**
 * One row per figure whose path matches `metric` and that at least one run of each side has, in
 * the order the base's first run lists them. A figure a run lacks is left out of that run's values.
 */
export function compareRuns(base: readonly Map<string, number>[], head: readonly Map<string, number>[], metric: RegExp): AbRow[] {
  const paths: string[] = [];
  const seen = new Set<string>();
  for (const run of [...base, ...head]) {
    for (const path of run.keys()) {
      if (!seen.has(path) && metric.test(path)) {
        seen.add(path);
        paths.push(path);
      }
    }
  }
  const rows: AbRow[] = [];
  for (const path of paths) {
    const b = base.flatMap((r) => (r.has(path) ? [r.get(path)!] : []));
    const h = head.flatMap((r) => (r.has(path) ? [r.get(path)!] : []));
    if (b.length === 0 || h.length === 0) continue;
    const baseMedian = median(b);
    const headMedian = median(h);
    rows.push({ metric: path, base: b, head: h, baseMedian, headMedian, ratio: baseMedian === 0 ? NaN : headMedian / baseMedian });
  }
  return rows;
}

/**
 * Which variant runs first in each round: the order alternates (base, head; head, base; ...), so a
 * machine that drifts during the comparison weighs on both sides alike.
 */
export function roundOrder(round: number): ['base', 'head'] | ['head', 'base'] {
  return round % 2 === 0 ? ['base', 'head'] : ['head', 'base'];
}
