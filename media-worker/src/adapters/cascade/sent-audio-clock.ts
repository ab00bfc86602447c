/**
 * When each stretch of the caller's audio was sent to the STT: turns the provider's position in
 * that audio (where it says the speech ended) into a wall time, for the STT's own latency
 * (`metrics.stages` sttFinalMs: end of speech as the STT placed it → its final transcript).
 * Bounded: the last MAX_ENTRIES sends (one per frame: 60 s of 20 ms frames), in a ring, so a
 * send (once per frame, on the media path) costs two array writes.
 */
export const MAX_ENTRIES = 3000;

export class SentAudioClock {
  /** Audio ms sent so far (the STT's timeline). */
  #sentMs = 0;
  /** Per send, in a ring: the timeline at its end, and its wall time. */
  readonly #ends = new Float64Array(MAX_ENTRIES);
  readonly #ats = new Float64Array(MAX_ENTRIES);
  /** Sends held (up to MAX_ENTRIES) and the ring index of the oldest. */
  #count = 0;
  #first = 0;

  /** `ms` more audio went out at wall time `at`. */
  sent(ms: number, at: number): void {
    this.#sentMs += ms;
    const i = (this.#first + this.#count) % MAX_ENTRIES;
    this.#ends[i] = this.#sentMs;
    this.#ats[i] = at;
    if (this.#count < MAX_ENTRIES) this.#count++;
    else this.#first = (this.#first + 1) % MAX_ENTRIES;
  }

  /** The wall time the audio at `audioMs` was sent (the send that carried it); undefined outside what is kept. */
  wallTimeOf(audioMs: number): number | undefined {
    const n = this.#count;
    if (n === 0 || audioMs > this.#sentMs) return undefined;
    const end = (k: number): number => this.#ends[(this.#first + k) % MAX_ENTRIES]!;
    // The oldest send kept starts where the one before it ended: unknown, so take its own length as the next one's.
    const startOfFirst = end(0) - (n > 1 ? end(1) - end(0) : end(0));
    if (audioMs < startOfFirst) return undefined;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (end(mid) >= audioMs) hi = mid;
      else lo = mid + 1;
    }
    return this.#ats[(this.#first + lo) % MAX_ENTRIES];
  }
}
