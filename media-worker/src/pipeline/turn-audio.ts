/**
 * Keeps the caller's recent audio (mono, at the handler's input rate) on the same timeline as the
 * VAD (ms of caller audio since the session began), so a turn reported by the turn detector as
 * [startMs, startMs + speechMs] can be cut out with some pre-roll: Silero fires a window or two
 * after a word's onset, and a turn that starts exactly there clips the first consonant.
 *
 * Memory is bounded: while nobody speaks only the last `idleKeepMs` are kept; during speech,
 * everything from the speech start minus the pre-roll, capped at `maxHoldMs` (the turn detector
 * cuts turns at maxSpeechMs anyway).
 */
export class TurnAudioBuffer {
  readonly sampleRate: number;
  private readonly idleKeepMs: number;
  private readonly maxHoldMs: number;
  /** Held chunks; `base` is the absolute sample index of the first sample of chunks[0]. */
  private chunks: Int16Array[] = [];
  private base = 0;
  private total = 0;
  /** Absolute sample index to keep from while speech is in progress; undefined when idle. */
  private holdFrom: number | undefined;

  constructor(sampleRate: number, opts: { idleKeepMs: number; maxHoldMs: number }) {
    this.sampleRate = sampleRate;
    this.idleKeepMs = opts.idleKeepMs;
    this.maxHoldMs = opts.maxHoldMs;
  }

  /** End of the buffered audio, in ms since the session began. */
  get endMs(): number {
    return this.toMs(this.total);
  }

  append(samples: Int16Array): void {
    if (samples.length === 0) return;
    this.chunks.push(samples);
    this.total += samples.length;
    const keepMs = this.holdFrom === undefined ? this.idleKeepMs : this.maxHoldMs;
    let keepFrom = this.total - this.toSamples(keepMs);
    if (this.holdFrom !== undefined) keepFrom = Math.max(keepFrom, Math.min(this.holdFrom, this.total));
    this.trimBefore(keepFrom);
  }

  /** Speech began at `fromMs`: keep everything from there on until `release()`. */
  hold(fromMs: number): void {
    this.holdFrom = Math.max(0, this.toSamples(fromMs));
  }

  /** Back to idle (the turn was taken or discarded). */
  release(): void {
    this.holdFrom = undefined;
  }

  /** A copy of the audio in [fromMs, toMs), as far as it is still held (missing parts are left out). */
  slice(fromMs: number, toMs: number): Int16Array {
    const from = Math.max(this.base, this.toSamples(fromMs));
    const to = Math.min(this.total, this.toSamples(toMs));
    if (to <= from) return new Int16Array(0);
    const out = new Int16Array(to - from);
    let at = this.base;
    for (const c of this.chunks) {
      const s = Math.max(from, at);
      const e = Math.min(to, at + c.length);
      if (e > s) out.set(c.subarray(s - at, e - at), s - from);
      at += c.length;
      if (at >= to) break;
    }
    return out;
  }

  /** Drops whole chunks that end before `sample` (keeps a little more, never less). */
  private trimBefore(sample: number): void {
    let drop = 0;
    let at = this.base;
    for (const c of this.chunks) {
      if (at + c.length > sample) break;
      at += c.length;
      drop++;
    }
    if (drop > 0) {
      this.chunks = this.chunks.slice(drop);
      this.base = at;
    }
  }

  private toSamples(ms: number): number {
    return Math.round((ms * this.sampleRate) / 1000);
  }

  private toMs(samples: number): number {
    return (samples * 1000) / this.sampleRate;
  }
}
