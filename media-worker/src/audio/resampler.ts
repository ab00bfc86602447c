/**
 * Streaming sample-rate conversion with the Speex resampler (`@echogarden/speex-resampler-wasm`).
 *
 * The wasm module loads asynchronously once per process (`await initResampler()`, or the async
 * `StreamResampler.create()`); after that every resampler is synchronous, so it can run inside a
 * packet or timer callback. A resampler is stateful: feed one continuous stream through it in
 * any chunk sizes and the output is the same as resampling the whole buffer at once.
 *
 * Alignment: `skip_zeros` is applied at start, so output sample 0 corresponds to input sample 0
 * (no leading filter delay), and `flush()` drains the filter's tail so the total output length
 * is round(inputLength * toRate / fromRate).
 */
import { enterStage, exitStage, Stage } from '../telemetry/stage-cpu.ts';
import { audioFrame, type AudioFrame } from './frame.ts';
import { concatFrames } from './pcm.ts';

/** The parts of the Emscripten module we use (the package ships no typings). */
interface SpeexModule {
  HEAP16: Int16Array;
  HEAPU32: Uint32Array;
  HEAP32: Int32Array;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  _speex_resampler_init(channels: number, inRate: number, outRate: number, quality: number, errPtr: number): number;
  _speex_resampler_destroy(st: number): void;
  _speex_resampler_process_interleaved_int(st: number, inPtr: number, inLenPtr: number, outPtr: number, outLenPtr: number): number;
  _speex_resampler_get_input_latency(st: number): number;
  _speex_resampler_skip_zeros(st: number): number;
  _speex_resampler_reset_mem(st: number): number;
}

// A string-typed specifier: the package has no .d.ts, so a literal import would not typecheck.
const SPEEX_PACKAGE: string = '@echogarden/speex-resampler-wasm';
let speex: SpeexModule | undefined;
let loading: Promise<SpeexModule> | undefined;

/** Loads the wasm resampler once; later calls return at once. Call before creating resamplers. */
export async function initResampler(): Promise<void> {
  if (speex) return;
  loading ??= (async () => {
    const mod = (await import(SPEEX_PACKAGE)) as { default: () => Promise<SpeexModule> };
    speex = await mod.default();
    return speex;
  })();
  try {
    await loading;
  } catch (err) {
    loading = undefined; // let a later call retry
    throw err;
  }
}

export function isResamplerReady(): boolean {
  return speex !== undefined;
}

/** Speex quality: 0 (fast) .. 10 (best). 5 is the library's "desktop" setting, good for speech. */
export const DEFAULT_RESAMPLER_QUALITY = 5;
/** Input samples per channel handed to wasm per call; bounds the wasm buffers. */
const CHUNK = 4096;

interface NativeState {
  st: number;
  buf: number; // one malloc: [inLen u32][outLen u32][in i16 * CHUNK*ch][out i16 * outCap*ch]
}

// Frees the wasm memory of resamplers dropped without destroy().
const finalizer = new FinalizationRegistry<NativeState>((n) => {
  if (!speex) return;
  speex._speex_resampler_destroy(n.st);
  speex._free(n.buf);
});

export class StreamResampler {
  readonly fromRate: number;
  readonly toRate: number;
  readonly channels: number;
  readonly quality: number;
  #native: NativeState | null = null;
  #outCap = 0;
  /** Samples per channel fed in and given out since the start or the last flush (for the flush length). */
  #inTotal = 0;
  #outTotal = 0;
  #destroyed = false;

  /** Loads the wasm module if needed, then builds a resampler. */
  static async create(fromRate: number, toRate: number, channels = 1, quality = DEFAULT_RESAMPLER_QUALITY): Promise<StreamResampler> {
    if (fromRate !== toRate) await initResampler();
    return new StreamResampler(fromRate, toRate, channels, quality);
  }

  /** Synchronous; throws unless `initResampler()` has completed (not needed when the rates are equal). */
  constructor(fromRate: number, toRate: number, channels = 1, quality = DEFAULT_RESAMPLER_QUALITY) {
    for (const [name, r] of [['fromRate', fromRate], ['toRate', toRate]] as const) {
      if (!Number.isInteger(r) || r <= 0) throw new RangeError(`bad ${name} ${r}`);
    }
    if (!Number.isInteger(channels) || channels <= 0) throw new RangeError(`bad channel count ${channels}`);
    if (!Number.isInteger(quality) || quality < 0 || quality > 10) throw new RangeError(`resampler quality is 0..10, not ${quality}`);
    this.fromRate = fromRate;
    this.toRate = toRate;
    this.channels = channels;
    this.quality = quality;
    if (fromRate === toRate) return; // identity: no native state at all
    const m = speex;
    if (!m) throw new Error('resampler not initialised: await initResampler() (or use StreamResampler.create) first');
    const errPtr = m._malloc(4);
    const st = m._speex_resampler_init(channels, fromRate, toRate, quality, errPtr);
    const err = m.HEAP32[errPtr >> 2]!;
    m._free(errPtr);
    if (st === 0 || err !== 0) throw new Error(`speex_resampler_init failed (error ${err})`);
    m._speex_resampler_skip_zeros(st);
    // Output per call: at most ceil(CHUNK * ratio) plus a little for the fractional phase.
    this.#outCap = Math.ceil((CHUNK * toRate) / fromRate) + 16;
    const buf = m._malloc(8 + 2 * channels * (CHUNK + this.#outCap));
    this.#native = { st, buf };
    finalizer.register(this, this.#native, this);
  }

  get isIdentity(): boolean {
    return this.fromRate === this.toRate;
  }

  /** Resamples the next piece of the stream. Output may be a few samples shorter than the exact ratio until flush(). */
  process(frame: AudioFrame): AudioFrame {
    if (this.#destroyed) throw new Error('resampler destroyed');
    if (frame.sampleRate !== this.fromRate) {
      throw new RangeError(`resampler expects ${this.fromRate} Hz input, got ${frame.sampleRate} Hz`);
    }
    if (frame.channels !== this.channels) {
      throw new RangeError(`resampler expects ${this.channels} channel(s), got ${frame.channels}`);
    }
    if (this.isIdentity) return frame;
    enterStage(Stage.resample); // telemetry/stage-cpu.ts (off unless STAGE_TIMING=on)
    try {
      return audioFrame(this.#run(frame.samples), this.toRate, this.channels);
    } finally {
      exitStage();
    }
  }

  /**
   * Ends the stream: pushes the filter's tail out (feeding silence) and returns the last samples,
   * so the stream's total output is round(totalInput * toRate / fromRate). Resets the state so
   * the resampler can take a new, unrelated stream.
   */
  flush(): AudioFrame {
    if (this.#destroyed) throw new Error('resampler destroyed');
    const empty = audioFrame(new Int16Array(0), this.toRate, this.channels);
    const n = this.#native;
    if (!n || !speex) return empty;
    const expected = Math.round((this.#inTotal * this.toRate) / this.fromRate);
    const parts: AudioFrame[] = [];
    let missing = expected - this.#outTotal;
    // The tail is about input-latency samples; a few rounds of zeros always drain it.
    const zeros = new Int16Array(Math.max(1, speex._speex_resampler_get_input_latency(n.st)) * this.channels);
    enterStage(Stage.resample);
    try {
      for (let round = 0; missing > 0 && round < 8; round++) {
        const got = this.#run(zeros);
        const keep = Math.min(got.length / this.channels, missing);
        parts.push(audioFrame(got.subarray(0, keep * this.channels), this.toRate, this.channels));
        missing -= keep;
      }
    } finally {
      exitStage();
    }
    this.reset();
    return parts.length > 0 ? concatFrames(parts) : empty;
  }

  /** Forgets the stream so far (drops buffered samples without emitting them). */
  reset(): void {
    const n = this.#native;
    if (n && speex) {
      speex._speex_resampler_reset_mem(n.st);
      speex._speex_resampler_skip_zeros(n.st);
    }
    this.#inTotal = 0;
    this.#outTotal = 0;
  }

  /** Frees the wasm memory. The resampler is unusable afterwards. Safe to call twice. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    const n = this.#native;
    this.#native = null;
    if (n && speex) {
      finalizer.unregister(this);
      speex._speex_resampler_destroy(n.st);
      speex._free(n.buf);
    }
  }

  /** Runs interleaved samples through speex in CHUNK-sized pieces; returns a fresh array. */
  #run(input: Int16Array): Int16Array {
    const m = speex!;
    const { st, buf } = this.#native!;
    const ch = this.channels;
    const inPtr = buf + 8;
    const outPtr = inPtr + 2 * ch * CHUNK;
    const inFrames = input.length / ch;
    // Upper bound of the output; trimmed at the end.
    const out = new Int16Array((Math.ceil((inFrames * this.toRate) / this.fromRate) + 16) * ch);
    let written = 0;
    let consumed = 0;
    while (consumed < inFrames) {
      const len = Math.min(CHUNK, inFrames - consumed);
      // Heap views are re-read on every call: they are replaced when wasm memory grows.
      m.HEAP16.set(input.subarray(consumed * ch, (consumed + len) * ch), inPtr >> 1);
      const lens = m.HEAPU32;
      lens[buf >> 2] = len;
      lens[(buf >> 2) + 1] = this.#outCap;
      const rc = m._speex_resampler_process_interleaved_int(st, inPtr, buf, outPtr, buf + 4);
      if (rc !== 0) throw new Error(`speex resampler error ${rc}`);
      const used = m.HEAPU32[buf >> 2]!;
      const made = m.HEAPU32[(buf >> 2) + 1]!;
      if (made * ch > out.length - written) throw new Error('resampler produced more output than expected');
      out.set(m.HEAP16.subarray(outPtr >> 1, (outPtr >> 1) + made * ch), written);
      written += made * ch;
      consumed += used;
      if (used === 0 && made === 0) throw new Error('resampler made no progress');
    }
    this.#inTotal += inFrames;
    this.#outTotal += written / ch;
    return written === out.length ? out : out.slice(0, written);
  }
}

/** Resamples a whole buffer in one go (own resampler, flushed and freed). */
export async function resampleOnce(frame: AudioFrame, toRate: number, quality = DEFAULT_RESAMPLER_QUALITY): Promise<AudioFrame> {
  if (frame.sampleRate === toRate) return frame;
  const r = await StreamResampler.create(frame.sampleRate, toRate, frame.channels, quality);
  try {
    const body = r.process(frame);
    const tail = r.flush();
    return tail.samples.length === 0 ? body : concatFrames([body, tail]);
  } finally {
    r.destroy();
  }
}
