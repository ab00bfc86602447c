/**
 * How late the clock's ticks reached an output: a window of the last `window` ticks for the
 * percentiles, and counts since creation. Recording is allocation-free (it runs on every tick).
 */

/** A tick later than this is counted as a late frame (the `frames late` metric). */
export const LATE_TICK_MS = 10;

export interface LatenessSummary {
  p50: number;
  p99: number;
  max: number;
  /** Ticks in the window. */
  count: number;
}

export class Lateness {
  readonly #window: Float64Array;
  #count = 0;
  #late = 0;

  constructor(window: number) {
    this.#window = new Float64Array(Math.max(1, window));
  }

  /** One tick that fired `lateMs` after its due time (negative counts as 0). */
  record(lateMs: number): void {
    this.#window[this.#count++ % this.#window.length] = lateMs > 0 ? lateMs : 0;
    if (lateMs > LATE_TICK_MS) this.#late++;
  }

  /** Ticks recorded since creation: lateTicks' denominator. */
  get ticksRun(): number {
    return this.#count;
  }

  /** Ticks later than LATE_TICK_MS since creation. */
  get lateTicks(): number {
    return this.#late;
  }

  summary(): LatenessSummary {
    const n = Math.min(this.#count, this.#window.length);
    const sorted = this.#window.slice(0, n).sort();
    const at = (q: number): number => (n === 0 ? 0 : sorted[Math.min(n - 1, Math.floor(q * n))]!);
    return { p50: at(0.5), p99: at(0.99), max: n === 0 ? 0 : sorted[n - 1]!, count: n };
  }
}
