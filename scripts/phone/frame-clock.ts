/**
 * A drift-free real-time clock for 20 ms media: tick k is due at t0 + k * period, and each timer
 * is armed with (due - now), so a late timer does not push every later tick back (no drift).
 * If the event loop stalls past several dues, the missed ticks run back to back, as a real
 * sender catching up would. Lateness (fire time - due) is kept to show the pacing held.
 */
export class FrameClock {
  readonly periodMs: number;
  #t0 = 0;
  #k = 0;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #lateness: number[] = [];
  #onTick: (k: number, dueMs: number) => void;

  /** `onTick(k, dueMs)` runs for k = 1, 2, ... with dueMs = k * period (stream time of the tick). */
  constructor(periodMs: number, onTick: (k: number, dueMs: number) => void) {
    this.periodMs = periodMs;
    this.#onTick = onTick;
  }

  get running(): boolean {
    return this.#running;
  }

  /** Starts ticking; `t0` is the performance.now() of stream time 0. */
  start(t0: number): void {
    this.#t0 = t0;
    this.#k = 0;
    this.#running = true;
    this.#arm();
  }

  stop(): void {
    this.#running = false;
    clearTimeout(this.#timer);
  }

  #arm(): void {
    if (!this.#running) return;
    const due = this.#t0 + (this.#k + 1) * this.periodMs;
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, due - performance.now()));
  }

  #fire(): void {
    // Run every tick whose due time has passed (normally exactly one).
    while (this.#running) {
      const k = this.#k + 1;
      const due = this.#t0 + k * this.periodMs;
      const now = performance.now();
      if (now < due) break;
      this.#k = k;
      this.#lateness.push(now - due);
      this.#onTick(k, k * this.periodMs);
    }
    this.#arm();
  }

  /** p50 / p99 / max of (fire time - due) over all ticks so far, ms. */
  lateness(): { p50: number; p99: number; max: number } {
    return percentiles(this.#lateness);
  }
}

/** Nearest-rank percentiles; all zero for no samples. */
export function percentiles(values: readonly number[]): { p50: number; p99: number; max: number } {
  if (values.length === 0) return { p50: 0, p99: 0, max: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
  const round = (x: number) => Math.round(x * 100) / 100;
  return { p50: round(at(0.5)), p99: round(at(0.99)), max: round(sorted[sorted.length - 1]!) };
}
