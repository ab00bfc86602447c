/**
 * When each stretch of the caller's audio was sent to the STT: turns the provider's position in
 * that audio (where it says the speech ended) into a wall time, for the STT's own latency
 * (`metrics.stages` sttFinalMs: end of speech as the STT placed it → its final transcript).
 * Bounded: the last MAX_ENTRIES sends (one per frame: 60 s of 20 ms frames).
 */
export const MAX_ENTRIES = 3000;

export class SentAudioClock {
  /** Audio ms sent so far (the STT's timeline), and per send: the timeline at its end and the wall time. */
  #sentMs = 0;
  readonly #ends: number[] = [];
  readonly #ats: number[] = [];

  /** `ms` more audio went out at wall time `at`. */
  sent(ms: number, at: number): void {
    this.#sentMs += ms;
    this.#ends.push(this.#sentMs);
    this.#ats.push(at);
    if (this.#ends.length > MAX_ENTRIES) {
      this.#ends.splice(0, this.#ends.length - MAX_ENTRIES);
      this.#ats.splice(0, this.#ats.length - MAX_ENTRIES);
    }
  }

  /** The wall time the audio at `audioMs` was sent (the send that carried it); undefined outside what is kept. */
  wallTimeOf(audioMs: number): number | undefined {
    const ends = this.#ends;
    if (ends.length === 0 || audioMs > this.#sentMs) return undefined;
    let lo = 0;
    let hi = ends.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ends[mid]! >= audioMs) hi = mid;
      else lo = mid + 1;
    }
    const startOfFirst = ends[0]! - (ends.length > 1 ? ends[1]! - ends[0]! : ends[0]!);
    if (lo === 0 && audioMs < startOfFirst) return undefined;
    return this.#ats[lo];
  }
}
