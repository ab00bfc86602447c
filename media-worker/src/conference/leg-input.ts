/**
 * One leg's incoming audio on the mixer's clock. Frames arrive on the leg's own schedule, rate
 * and frame size (20 ms Opus decoded at 48 kHz from a browser, 20 ms mu-law at 8 kHz from
 * Twilio, L16 at 16 kHz from a stream client, any channel count); each is converted to mono at the
 * session rate as it arrives (one stateful resampler per leg: pipeline/input-converter.ts) and
 * queued in the leg's jitter buffer, which the mixer reads one frame per tick.
 *
 * Conversion is synchronous, so push() can run in a packet callback: audio at another rate than
 * the session's needs the resampler wasm loaded first (`await initResampler()`, which
 * ConferenceMixer.create does); without it push() throws rather than buffer or drop silently.
 */
import type { AudioFrame } from '../audio/frame.ts';
import { InputConverter } from '../pipeline/input-converter.ts';
import { JitterBuffer, type JitterBufferOptions, type JitterStats } from './jitter-buffer.ts';

export type LegInputOptions = JitterBufferOptions;

export class LegInput {
  readonly id: string;
  readonly sampleRate: number;
  readonly #converter: InputConverter;
  readonly #jitter: JitterBuffer;
  #closed = false;

  constructor(id: string, sampleRate: number, frameMs: number, options: LegInputOptions = {}) {
    this.id = id;
    this.sampleRate = sampleRate;
    this.#jitter = new JitterBuffer(sampleRate, frameMs, options); // validates rate and frame
    this.#converter = new InputConverter(sampleRate);
  }

  /** Samples per channel of one tick's frame. */
  get frameSamples(): number {
    return this.#jitter.frameSamples;
  }

  /** The leg has sent audio (before it has, it contributes nothing to any mix). */
  get started(): boolean {
    return this.#jitter.started;
  }

  /** Audio from the leg, as it arrives: any rate, channel count and length. */
  push(frame: AudioFrame): void {
    if (this.#closed) throw new Error(`leg ${this.id} is closed`);
    const converted = this.#converter.convertNow(frame);
    if (!converted) {
      throw new Error(
        `leg ${this.id}: ${frame.sampleRate} Hz audio needs the resampler to reach ${this.sampleRate} Hz: await initResampler() first`,
      );
    }
    this.#jitter.write(converted.samples);
  }

  /** The next tick's frame into `out` (frameSamples long, silence-padded); true when it holds any of the leg's audio. */
  read(out: Int16Array): boolean {
    return this.#jitter.read(out);
  }

  /** Drops the buffered audio (the leg's stream was replaced, or its audio is stale). */
  clear(): void {
    this.#jitter.clear();
  }

  stats(): JitterStats {
    return this.#jitter.stats();
  }

  /** Frees the resampler. push() throws afterwards; safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#converter.close();
    this.#jitter.clear();
  }
}
