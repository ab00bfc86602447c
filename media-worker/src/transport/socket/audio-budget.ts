/**
 * A stream client's audio rate limit, as a token bucket of bytes: refilled at twice real time for
 * the stream's format, holding at most one second of that, and allowed one more second of debt (a
 * client that buffers before sending). Beyond that the client is abusing the relay and the worker.
 */
export class AudioBudget {
  #credit = 0;
  #at: number | null = null;

  /** Whether `bytes` more of audio fit, at `bytesPerSecond` of real time, at time `now` (ms). */
  admit(bytes: number, bytesPerSecond: number, now: number): boolean {
    const rate = 2 * bytesPerSecond;
    this.#credit = this.#at === null ? rate : Math.min(rate, this.#credit + ((now - this.#at) / 1000) * rate);
    this.#at = now;
    this.#credit -= bytes;
    return this.#credit >= -rate;
  }
}
