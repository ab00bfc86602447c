import { createHistogram, recordMs, type Histogram } from './stats.ts';

export interface SenderClockOptions {
  periodMs?: number;
  /** Most ticks run in one wake-up when late (default 2); older due ticks are skipped. */
  maxBurst?: number;
  /** Runs once per tick: `tick` counts from 0, `due` is when it was due (performance.now() ms). */
  onTick(tick: number, due: number): void;
  now?: () => number;
}

/**
 * The one 20 ms clock of a load process: tick k is due at start + k * period, and the timer is
 * re-armed from that absolute schedule, so timer lateness never accumulates into drift. When a
 * wake-up is late by more than a period, it runs the due ticks but at most `maxBurst` of them;
 * the rest are skipped (counted), so a stall never turns into a burst of packets.
 *
 * It records its own lateness (wake-up time − due time, per tick run) inside the measurement
 * window: when that grows, the load generator itself is overloaded and its figures are suspect.
 * Node timers may wake up to ~1 ms early (libuv's millisecond clock); an early wake-up of at most
 * 1 ms runs the tick (lateness 0), an earlier one re-arms.
 */
export class SenderClock {
  readonly periodMs: number;
  readonly maxBurst: number;
  readonly lateness: Histogram = createHistogram();
  /** Ticks run / skipped over the window. */
  ticksInWindow = 0;
  skippedInWindow = 0;
  /** Ticks skipped since start. */
  skipped = 0;

  private readonly onTick: (tick: number, due: number) => void;
  private readonly now: () => number;
  private origin = 0;
  private next = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private winStart = Infinity;
  private winEnd = Infinity;

  constructor(opts: SenderClockOptions) {
    this.periodMs = opts.periodMs ?? 20;
    this.maxBurst = opts.maxBurst ?? 2;
    this.onTick = opts.onTick;
    this.now = opts.now ?? (() => performance.now());
  }

  start(): void {
    this.startAt(this.now());
  }

  /** Starts with tick 0 due at `at` (performance.now() ms). */
  startAt(at: number): void {
    if (this.running) return;
    this.running = true;
    this.origin = at;
    this.next = 0;
    this.arm();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Lateness and tick counts are recorded for ticks due in `[start, end)`. */
  setWindow(start: number, end: number): void {
    this.winStart = start;
    this.winEnd = end;
  }

  private dueOf(tick: number): number {
    return this.origin + tick * this.periodMs;
  }

  private arm(): void {
    if (!this.running) return;
    this.timer = setTimeout(this.wake, Math.max(0, this.dueOf(this.next) - this.now()));
  }

  private readonly wake = (): void => {
    if (!this.running) return;
    const now = this.now();
    if (now < this.dueOf(this.next) - 1) {
      this.arm();
      return;
    }
    // Ticks due by now: next .. last (inclusive). Run the newest maxBurst of them, skip the rest.
    const last = Math.max(this.next, Math.floor((now - this.origin) / this.periodMs));
    const firstRun = Math.max(this.next, last - this.maxBurst + 1);
    for (let t = this.next; t < firstRun; t++) {
      this.skipped++;
      if (this.inWindow(this.dueOf(t))) this.skippedInWindow++;
    }
    for (let t = firstRun; t <= last; t++) {
      const due = this.dueOf(t);
      if (this.inWindow(due)) {
        this.ticksInWindow++;
        recordMs(this.lateness, now - due);
      }
      try {
        this.onTick(t, due);
      } catch (err) {
        console.error('sender clock tick failed:', err);
      }
    }
    this.next = last + 1;
    this.arm();
  };

  private inWindow(due: number): boolean {
    return due >= this.winStart && due < this.winEnd;
  }
}
