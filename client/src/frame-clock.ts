/**
 * A drift-free periodic clock: tick k is due at t0 + k * period and each timer is armed for
 * (due - now), so a late timer does not delay the ticks after it. When the event loop stalls past
 * several dues, the missed ticks run back to back, as a device catching up would.
 */
export class FrameClock {
  readonly periodMs: number;
  #onTick: (dueMs: number) => void;
  #t0 = 0;
  #k = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running = false;

  /** `onTick(dueMs)` runs with the tick's due time on the performance.now() scale. */
  constructor(periodMs: number, onTick: (dueMs: number) => void) {
    this.periodMs = periodMs;
    this.#onTick = onTick;
  }

  get running(): boolean {
    return this.#running;
  }

  /** Ticks at t0, t0 + period, ... (`t0` on the performance.now() scale; the first tick runs at once when due). */
  start(t0: number = performance.now()): void {
    this.stop();
    this.#t0 = t0;
    this.#k = 0;
    this.#running = true;
    this.#arm();
  }

  stop(): void {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #due(k: number): number {
    return this.#t0 + k * this.periodMs;
  }

  #arm(): void {
    if (!this.#running) return;
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, this.#due(this.#k) - performance.now()));
  }

  #fire(): void {
    // Every tick whose due time has passed (normally exactly one); never one early.
    while (this.#running && performance.now() >= this.#due(this.#k)) {
      const due = this.#due(this.#k);
      this.#k++;
      this.#onTick(due);
    }
    this.#arm();
  }
}
