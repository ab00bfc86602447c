/**
 * Converts caller audio as it arrives (any rate, any channel count: 48 kHz stereo from Opus,
 * 8 kHz from Twilio) to mono at the rate the handler asked for. Conversion is explicit and
 * streaming (one stateful resampler, so frame boundaries leave no clicks); if the caller's rate
 * changes mid-call a new resampler is started for the new rate.
 */
import { audioFrame, type AudioFrame } from '../audio/frame.ts';
import { toMono } from '../audio/pcm.ts';
import { StreamResampler } from '../audio/resampler.ts';

export class InputConverter {
  readonly toRate: number;
  private resampler: StreamResampler | undefined;
  private closed = false;

  constructor(toRate: number) {
    this.toRate = toRate;
  }

  /** The frame as mono at `toRate` (the samples may be a few fewer than the exact ratio: the rest follows with the next frame). */
  async convert(frame: AudioFrame): Promise<AudioFrame> {
    if (this.closed) throw new Error('InputConverter is closed');
    const mono = toMono(frame);
    if (mono.sampleRate === this.toRate && !this.resampler) return mono;
    if (this.resampler?.fromRate !== mono.sampleRate) {
      this.resampler?.destroy();
      this.resampler = undefined;
      const r = await StreamResampler.create(mono.sampleRate, this.toRate, 1);
      if (this.closed) {
        r.destroy();
        return audioFrame(new Int16Array(0), this.toRate, 1);
      }
      this.resampler = r;
    }
    return this.resampler.process(mono);
  }

  /** Frees the resampler's wasm memory. */
  close(): void {
    this.closed = true;
    this.resampler?.destroy();
    this.resampler = undefined;
  }
}
