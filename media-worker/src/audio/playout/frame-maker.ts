/**
 * Turns reply audio of any rate, channel count and chunk size into frames of exactly frameMs at
 * the sink's format: channels converted, resampled, then reframed.
 *
 * Constraints it encodes:
 * - Following the reply's rate: audio at one of `followRates` arriving while nothing is queued
 *   switches the frames' rate to it (the sink sees the rate on each frame), so a sink whose codec
 *   takes that rate natively (Opus: 8 to 48 kHz) needs no resampler; resampling a 20 ms frame
 *   costs as much as encoding it. Audio arriving while frames are queued is resampled to the
 *   current rate, so nothing is reordered.
 * - A change of input rate mid-reply drains the old resampler first: nothing is lost or reordered.
 */
import type { AudioFrame } from '../frame.ts';
import { toChannels } from '../pcm.ts';
import { Reframer } from '../reframer.ts';
import { StreamResampler } from '../resampler.ts';

export class FrameMaker {
  readonly channels: number;
  readonly frameMs: number;
  readonly #baseRate: number;
  readonly #followRates: ReadonlySet<number>;
  readonly #quality: number;
  #reframer: Reframer;
  #resampler: StreamResampler | null = null;

  constructor(sampleRate: number, channels: number, frameMs: number, followRates: readonly number[], quality: number) {
    this.channels = channels;
    this.frameMs = frameMs;
    this.#baseRate = sampleRate;
    this.#quality = quality;
    this.#reframer = new Reframer(sampleRate, channels, frameMs); // validates rate/channels/frameMs
    this.#followRates = new Set(followRates);
    for (const r of this.#followRates) new Reframer(r, channels, frameMs); // validates each rate up front
  }

  /** Rate of the frames made now (it changes only through followRates). */
  get sampleRate(): number {
    return this.#reframer.sampleRate;
  }

  /**
   * Converts `frame`, handing each whole frame it completes to `out`. `idle`: no frame is queued
   * downstream (the rate may follow the audio's).
   */
  push(frame: AudioFrame, idle: boolean, out: (f: AudioFrame) => void): void {
    let f = toChannels(frame, this.channels);
    if (f.sampleRate !== this.sampleRate && idle && this.#followRates.has(f.sampleRate)) this.#follow(f.sampleRate, out);
    const old = this.#resampler;
    if (old && old.fromRate !== f.sampleRate) {
      this.#reframe(old.flush(), out);
      old.destroy();
      this.#resampler = null;
    }
    if (f.sampleRate !== this.sampleRate) {
      this.#resampler ??= new StreamResampler(f.sampleRate, this.sampleRate, this.channels, this.#quality);
      f = this.#resampler.process(f);
    }
    this.#reframe(f, out);
  }

  /** End of a segment: drains the resampler and pads the partial last frame with silence. */
  flush(out: (f: AudioFrame) => void): void {
    if (this.#resampler) this.#reframe(this.#resampler.flush(), out);
    const last = this.#reframer.flush(true);
    if (last) out(last);
  }

  /** Drops the partial frame and the resampler's history (barge-in). */
  reset(): void {
    this.#reframer.clear();
    this.#resampler?.reset();
  }

  /** Ms held short of a whole frame. */
  pendingMs(): number {
    return this.#reframer.pendingMs();
  }

  destroy(): void {
    this.reset();
    this.#resampler?.destroy();
    this.#resampler = null;
  }

  /** Switches frames to `rate` unless a partial frame or a resampler tail still needs the old one. */
  #follow(rate: number, out: (f: AudioFrame) => void): void {
    if (this.#reframer.pendingMs() > 0) return;
    const r = this.#resampler;
    if (r) {
      // A resampler left from an unfinished segment: its tail is audio still to play at the old rate.
      const tail = r.flush();
      r.destroy();
      this.#resampler = null;
      if (tail.samples.length > 0) {
        this.#reframe(tail, out);
        return;
      }
    }
    this.#reframer = new Reframer(rate, this.channels, this.frameMs);
  }

  #reframe(f: AudioFrame, out: (f: AudioFrame) => void): void {
    if (f.samples.length === 0) return;
    for (const frame of this.#reframer.push(f)) out(frame);
  }
}

