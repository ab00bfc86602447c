/**
 * Ends a phone stream that went silent: providers send a media frame every 20 ms while a stream
 * lives, so no frame for `limitMs` (10 s) means it is gone though its socket is not. One timer,
 * re-armed for the time left when it fires early; nothing runs per frame but `heard()`.
 */
export class NoMediaWatchdog {
  readonly #limitMs: number;
  readonly #onSilent: () => void;
  #lastAt = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(limitMs: number, onSilent: () => void) {
    this.#limitMs = limitMs;
    this.#onSilent = onSilent;
  }

  /** A frame arrived. */
  heard(): void {
    this.#lastAt = performance.now();
  }

  /** Starts watching (a frame counts as just heard); a limit of 0 never fires. */
  start(): void {
    this.heard();
    this.#arm();
  }

  stop(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #arm(): void {
    if (this.#limitMs <= 0) return;
    const due = this.#lastAt + this.#limitMs - performance.now();
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (performance.now() - this.#lastAt >= this.#limitMs) this.#onSilent();
      else this.#arm();
    }, Math.max(0, due));
    this.#timer.unref?.();
  }
}
