/**
 * Converts caller audio as it arrives (any rate, any channel count: 48 kHz stereo from Opus,
 * 8 kHz from Twilio) to mono at the rate the handler asked for. Conversion is explicit and
 * streaming (one stateful resampler, so frame boundaries leave no clicks); if the caller's rate
 * changes mid-call a new resampler is started for the new rate.
 *
 * Conversion is synchronous (`convertNow`) whenever no resampler wasm has to load first: that is
 * every frame of a call at the handler's rate, and every frame once the wasm is in the process.
 * Only a frame that needs the wasm before it has loaded waits (`convert`).
 */
import { audioFrame, type AudioFrame } from '../audio/frame.ts';
import { toMono } from '../audio/pcm.ts';
import { isResamplerReady, StreamResampler } from '../audio/resampler.ts';
import { enterStage, exitStage, Stage } from '../telemetry/stage-cpu.ts';

export class InputConverter {
  readonly toRate: number;
  private resampler: StreamResampler | undefined;
  private closed = false;

  constructor(toRate: number) {
    this.toRate = toRate;
  }

  /**
   * The frame as mono at `toRate` (the samples may be a few fewer than the exact ratio: the rest
   * follows with the next frame), or undefined when it needs the resampler wasm, which has not
   * loaded yet: then use convert().
   */
  convertNow(frame: AudioFrame): AudioFrame | undefined {
    if (this.closed) throw new Error('InputConverter is closed');
    // Downmix and resampling both count as the 'resample' stage (telemetry/stage-cpu.ts).
    enterStage(Stage.resample);
    try {
      return this.#convertNow(frame);
    } finally {
      exitStage();
    }
  }

  #convertNow(frame: AudioFrame): AudioFrame | undefined {
    const mono = toMono(frame);
    if (mono.sampleRate === this.toRate && !this.resampler) return mono;
    if (this.resampler?.fromRate !== mono.sampleRate) {
      if (!isResamplerReady()) return undefined;
      this.resampler?.destroy();
      this.resampler = new StreamResampler(mono.sampleRate, this.toRate, 1);
    }
    return this.resampler.process(mono);
  }

  /** As convertNow(), waiting for the resampler wasm to load if it must. */
  async convert(frame: AudioFrame): Promise<AudioFrame> {
    const now = this.convertNow(frame);
    if (now) return now;
    const mono = toMono(frame);
    const r = await StreamResampler.create(mono.sampleRate, this.toRate, 1);
    if (this.closed) {
      r.destroy();
      return audioFrame(new Int16Array(0), this.toRate, 1);
    }
    // Another frame may have started a resampler for this rate while the wasm loaded.
    if (this.resampler?.fromRate === mono.sampleRate) r.destroy();
    else {
      this.resampler?.destroy();
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
