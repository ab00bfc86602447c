/**
 * Streaming voice-activity detection: frames of any rate and channel count in, one speech
 * probability per 32 ms window out. Input is downmixed to mono, resampled to 16 kHz by a stateful
 * streaming resampler (explicitly for every rate: at 16 kHz the resampler is the identity), and cut
 * into 512-sample windows for Silero. Window positions are input time since the stream began
 * (the resampler skips its leading filter delay, so output sample n is input time n / 16 kHz).
 */
import type { AudioFrame } from '../audio/frame.ts';
import { int16ToFloat32, toMono } from '../audio/pcm.ts';
import { StreamResampler } from '../audio/resampler.ts';
import { enterStage, exitStage, Stage } from '../telemetry/stage-cpu.ts';
import { SILERO_SAMPLE_RATE, SILERO_WINDOW_SAMPLES, type SileroStream } from './silero-model.ts';

export interface VadFrame {
  /** Speech probability of the window, 0..1. */
  readonly prob: number;
  /** Window start, ms of input since the stream began. */
  readonly startMs: number;
  /** Window end (start + 32 ms). */
  readonly endMs: number;
}

/** What the VAD needs of a stateful mono resampler between two fixed rates (audio/resampler.ts's StreamResampler fits). */
export interface VadResampler {
  process(frame: AudioFrame): AudioFrame;
  destroy(): void;
}

export type CreateVadResampler = (fromRate: number, toRate: number) => VadResampler | Promise<VadResampler>;

export interface StreamingVadOptions {
  /** Mono streaming resampler factory; default `StreamResampler.create(from, to, 1)` (Speex, identity at equal rates). */
  createResampler?: CreateVadResampler;
}

const defaultCreateResampler: CreateVadResampler = (fromRate, toRate) => StreamResampler.create(fromRate, toRate, 1);

const WINDOW_MS = (SILERO_WINDOW_SAMPLES / SILERO_SAMPLE_RATE) * 1000;

export class StreamingVad {
  private readonly stream: SileroStream;
  private readonly createResampler: CreateVadResampler;
  private resampler: VadResampler | undefined;
  private resamplerRate = 0;
  private readonly window = new Float32Array(SILERO_WINDOW_SAMPLES);
  private filled = 0;
  private windows = 0;
  /** Input so far, in samples at 16 kHz (fractional). */
  private input16k = 0;
  /** Samples to feed before the next resampler output (silence standing in for a replaced resampler's tail). */
  private readonly pending: Float32Array[] = [];
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(stream: SileroStream, opts: StreamingVadOptions = {}) {
    this.stream = stream;
    this.createResampler = opts.createResampler ?? defaultCreateResampler;
  }

  /** Feeds one frame; resolves with a VadFrame per window it completed. Calls are run in call order. */
  push(frame: AudioFrame): Promise<VadFrame[]> {
    const result = this.tail.then(() => this.process(frame));
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Frees the resampler; later pushes reject. */
  close(): void {
    this.closed = true;
    this.resampler?.destroy();
    this.resampler = undefined;
  }

  private async process(frame: AudioFrame): Promise<VadFrame[]> {
    if (this.closed) throw new Error('StreamingVad is closed');
    const mono = toMono(frame);
    if (mono.sampleRate !== this.resamplerRate) await this.switchRate(mono.sampleRate);
    const resampler = this.resampler;
    if (!resampler || this.closed) throw new Error('StreamingVad is closed');
    this.input16k += (mono.samples.length * SILERO_SAMPLE_RATE) / mono.sampleRate;
    const out: VadFrame[] = [];
    // The model's input prep counts as 'vad'; the resampling inside it as 'resample' (stage-cpu.ts).
    enterStage(Stage.vad);
    let samples16k: Float32Array;
    try {
      samples16k = int16ToFloat32(resampler.process(mono).samples);
    } finally {
      exitStage();
    }
    await this.feed(samples16k, out);
    return out;
  }

  /** A new resampler for a new input rate; the old one's unflushed tail is replaced by silence so positions stay in input time. */
  private async switchRate(rate: number): Promise<void> {
    this.resampler?.destroy();
    this.resampler = undefined;
    const produced = this.windows * SILERO_WINDOW_SAMPLES + this.filled;
    const gap = Math.round(this.input16k) - produced;
    const resampler = await this.createResampler(rate, SILERO_SAMPLE_RATE);
    if (this.closed) {
      resampler.destroy();
      return;
    }
    this.resampler = resampler;
    this.resamplerRate = rate;
    if (gap > 0) this.pending.push(new Float32Array(gap));
  }

  private async feed(samples16k: Float32Array, out: VadFrame[]): Promise<void> {
    const chunks = this.pending.splice(0);
    chunks.push(samples16k);
    for (const chunk of chunks) {
      let i = 0;
      while (i < chunk.length) {
        const n = Math.min(chunk.length - i, SILERO_WINDOW_SAMPLES - this.filled);
        this.window.set(chunk.subarray(i, i + n), this.filled);
        this.filled += n;
        i += n;
        if (this.filled === SILERO_WINDOW_SAMPLES) {
          const prob = await this.stream.infer(this.window);
          const startMs = this.windows * WINDOW_MS;
          this.windows++;
          this.filled = 0;
          out.push({ prob, startMs, endMs: startMs + WINDOW_MS });
        }
      }
    }
  }
}
