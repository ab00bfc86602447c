/**
 * Cuts a stream of arbitrarily sized frames into frames of exactly `frameMs` (what codecs and
 * packet pacing need: Opus takes 10/20/40/60 ms, RTP sends one frame per tick). The remainder
 * shorter than a frame is kept for the next push. Works at any rate, as long as `frameMs` is a
 * whole number of samples at that rate (e.g. 2.5 ms at 48 kHz is fine, 2.5 ms at 22.05 kHz is not).
 */
import { audioFrame, type AudioFrame } from './frame.ts';

export class Reframer {
  readonly sampleRate: number;
  readonly channels: number;
  readonly frameMs: number;
  /** Samples per channel in one output frame. */
  readonly frameSamples: number;
  /** Holds the incomplete frame between pushes (interleaved; `fill` values used). */
  readonly #pending: Int16Array;
  #fill = 0;

  // No parameter properties: the worker runs under Node's type stripping, which rejects them.
  constructor(sampleRate: number, channels: number, frameMs: number) {
    this.sampleRate = sampleRate;
    this.channels = channels;
    this.frameMs = frameMs;
    const n = (frameMs * sampleRate) / 1000;
    if (!Number.isInteger(sampleRate) || sampleRate <= 0) throw new RangeError(`bad sample rate ${sampleRate}`);
    if (!Number.isInteger(channels) || channels <= 0) throw new RangeError(`bad channel count ${channels}`);
    // Floating-point slack: 2.5 ms * 48000 / 1000 must count as 120.
    const rounded = Math.round(n);
    if (rounded <= 0 || Math.abs(n - rounded) > 1e-9) {
      throw new RangeError(`frame of ${frameMs} ms is not a whole number of samples at ${sampleRate} Hz`);
    }
    this.frameSamples = rounded;
    this.#pending = new Int16Array(rounded * channels);
  }

  /** Returns every complete frame the new audio makes (possibly none); keeps the rest. */
  push(frame: AudioFrame): AudioFrame[] {
    if (frame.sampleRate !== this.sampleRate || frame.channels !== this.channels) {
      throw new RangeError(
        `Reframer expects ${this.sampleRate} Hz/${this.channels} ch, got ${frame.sampleRate} Hz/${frame.channels} ch`,
      );
    }
    const out: AudioFrame[] = [];
    const src = frame.samples;
    const size = this.#pending.length;
    let off = 0;
    // Complete the pending partial frame first.
    if (this.#fill > 0) {
      const take = Math.min(size - this.#fill, src.length);
      this.#pending.set(src.subarray(0, take), this.#fill);
      this.#fill += take;
      off = take;
      if (this.#fill < size) return out;
      out.push(audioFrame(this.#pending.slice(), this.sampleRate, this.channels));
      this.#fill = 0;
    }
    // Whole frames straight from the input (copied, so callers may reuse their buffers).
    while (src.length - off >= size) {
      out.push(audioFrame(src.slice(off, off + size), this.sampleRate, this.channels));
      off += size;
    }
    if (off < src.length) {
      this.#pending.set(src.subarray(off), 0);
      this.#fill = src.length - off;
    }
    return out;
  }

  /**
   * Emits the remainder: padded with silence to a full frame (default), or as a short frame.
   * Returns null when nothing is pending.
   */
  flush(padWithSilence = true): AudioFrame | null {
    if (this.#fill === 0) return null;
    const samples = padWithSilence ? this.#pending.slice() : this.#pending.slice(0, this.#fill);
    if (padWithSilence) samples.fill(0, this.#fill);
    this.#fill = 0;
    return audioFrame(samples, this.sampleRate, this.channels);
  }

  /** Drops the pending remainder. */
  clear(): void {
    this.#fill = 0;
  }

  /** Samples per channel waiting for a full frame. */
  pendingSamples(): number {
    return this.#fill / this.channels;
  }

  pendingMs(): number {
    return (this.#fill / this.channels / this.sampleRate) * 1000;
  }
}
