/** What playback has played: one entry per stretch of reply audio, with when it started playing. */
export interface HeardSlot {
  /** When the first sample played, in ms since the client's time origin. */
  atMs: number;
  samples: Int16Array;
}

export class HeardLog {
  readonly sampleRate: number;
  #slots: HeardSlot[] = [];
  #samples = 0;

  constructor(sampleRate: number) {
    this.sampleRate = sampleRate;
  }

  get slots(): readonly HeardSlot[] {
    return this.#slots;
  }

  /** Samples heard in all. */
  get samples(): number {
    return this.#samples;
  }

  get ms(): number {
    return (this.#samples / this.sampleRate) * 1000;
  }

  add(atMs: number, samples: Int16Array): void {
    if (samples.length === 0) return;
    this.#slots.push({ atMs, samples });
    this.#samples += samples.length;
  }

  /** Takes back the last `n` samples of the latest entry (cut off by a clear while playing). */
  cutLast(n: number): void {
    const last = this.#slots[this.#slots.length - 1];
    if (!last || n <= 0) return;
    const keep = Math.max(0, last.samples.length - n);
    this.#samples -= last.samples.length - keep;
    if (keep === 0) this.#slots.pop();
    else last.samples = last.samples.subarray(0, keep);
  }

  /** Everything heard, back to back (gaps of silence left out). */
  audio(): Int16Array {
    const out = new Int16Array(this.#samples);
    let at = 0;
    for (const s of this.#slots) {
      out.set(s.samples, at);
      at += s.samples.length;
    }
    return out;
  }
}
