/**
 * The encode step of a track: mono AudioFrames at any rate in, 20 ms Opus packets out.
 *
 * The encode rate is fixed by the first frame: its own rate when libopus takes it natively
 * (8/12/16/24/48 kHz: no resampling on the common paths, Twilio 8 kHz, pipeline 16 kHz, WebRTC
 * 48 kHz), otherwise 48 kHz; `encodeRate` overrides it. Frames at another rate (a different first
 * rate, or a rate change later) go through an explicit StreamResampler. Stereo input is
 * down-mixed: recordings are mono.
 *
 * Timing: sample counts, never wall-clock time. `finish()` pads the last partial frame with
 * silence and encodes enough extra silence to push the encoder's lookahead out, and reports the
 * 48 kHz end position (`endGranule` = pre-skip + input) so the Ogg end can be trimmed to it.
 */
import { audioFrame, durationMs, type AudioFrame } from '../audio/frame.ts';
import { isOpusRate, OPUS_SAMPLE_RATE, OpusEncoderStream } from '../audio/opus.ts';
import { toMono } from '../audio/pcm.ts';
import { Reframer } from '../audio/reframer.ts';
import { StreamResampler } from '../audio/resampler.ts';

export const FRAME_MS = 20;
/** 48 kHz samples in one 20 ms packet (granules are always 48 kHz). */
export const PACKET_SAMPLES_48K = (OPUS_SAMPLE_RATE * FRAME_MS) / 1000;

export interface TrackEncoderOptions {
  /** Opus rate to encode at (8000/12000/16000/24000/48000); default: see the file comment. */
  readonly encodeRate?: number;
  /** Bits per second; default 24 kbps up to 16 kHz (wideband speech), 32 kbps above. */
  readonly bitrate?: number;
  /** libopus complexity 0..10; default DEFAULT_COMPLEXITY. */
  readonly complexity?: number;
}

/**
 * libopus' own default. Lower is not cheaper on this build: CPU per second of 20 ms frames at
 * 16 kHz / 48 kHz was 3.2 / 3.4 ms at complexity 9, 3.1 / 3.5 at 7, 5.1 / 6.1 at 5, 1.8 / 3.1 at
 * 1 (OpusEncoderStream alone, 20 s chirp, dev container); 9 keeps the best quality for its cost.
 */
export const DEFAULT_COMPLEXITY = 9;

export interface EncodedPacket {
  readonly data: Uint8Array;
  /** Duration in 48 kHz samples. */
  readonly samples48: number;
}

export interface EncoderSetup {
  readonly encodeRate: number;
  /** Rate of the first frame (OpusHead's informational input rate); 0 if no frame came. */
  readonly inputSampleRate: number;
  /** Encoder lookahead in 48 kHz samples. */
  readonly preSkip: number;
}

export class TrackEncoder {
  readonly #options: TrackEncoderOptions;
  #setup: EncoderSetup | null = null;
  #encoder: OpusEncoderStream | null = null;
  #reframer: Reframer | null = null;
  #resampler: StreamResampler | null = null;
  /** Samples at the encode rate handed to the reframer (the input, after any resampling). */
  #inputSamples = 0;
  /** 48 kHz samples of the packets produced. */
  #encoded48 = 0;
  #durationMs = 0;

  constructor(options: TrackEncoderOptions = {}) {
    if (options.encodeRate !== undefined && !isOpusRate(options.encodeRate)) {
      throw new RangeError(`Opus cannot encode at ${options.encodeRate} Hz`);
    }
    this.#options = options;
  }

  /** Known once the first frame arrived (or finish() ran). */
  get setup(): EncoderSetup | null {
    return this.#setup;
  }

  /** Input duration so far, from the frames' own rates. */
  get durationMs(): number {
    return this.#durationMs;
  }

  /** Fixes the encode rate and creates the encoder; `inputRate` 0 means no frame ever came. */
  configure(inputRate: number): EncoderSetup {
    if (this.#setup) return this.#setup;
    const rate = this.#options.encodeRate ?? (isOpusRate(inputRate) ? inputRate : OPUS_SAMPLE_RATE);
    const encoder = new OpusEncoderStream({
      sampleRate: rate,
      channels: 1,
      bitrate: this.#options.bitrate ?? (rate <= 16000 ? 24000 : 32000),
      complexity: this.#options.complexity ?? DEFAULT_COMPLEXITY,
      application: 'voip',
      fec: false, // nothing is lost on the way to a file
      dtx: false, // one packet per 20 ms keeps the packet count equal to the tick count
    });
    this.#encoder = encoder;
    this.#reframer = new Reframer(rate, 1, FRAME_MS);
    this.#setup = { encodeRate: rate, inputSampleRate: inputRate, preSkip: (encoder.lookahead * OPUS_SAMPLE_RATE) / rate };
    return this.#setup;
  }

  /** Encodes what `frame` completes; returns the packets (usually 0 or 1 per 20 ms of input). */
  push(frame: AudioFrame): EncodedPacket[] {
    const mono = toMono(frame);
    this.#durationMs += durationMs(mono);
    const { encodeRate } = this.configure(mono.sampleRate);
    const out: EncodedPacket[] = [];
    if (mono.sampleRate === encodeRate) {
      this.#endResampling(out);
      this.#feed(mono, out);
      return out;
    }
    if (this.#resampler?.fromRate !== mono.sampleRate) {
      this.#endResampling(out);
      this.#resampler = new StreamResampler(mono.sampleRate, encodeRate, 1);
    }
    this.#feed(this.#resampler.process(mono), out);
    return out;
  }

  /** Flushes everything: resampler tail, padded last frame, lookahead. Then `endGranule` is final. */
  finish(): { packets: EncodedPacket[]; endGranule: number } {
    const { encodeRate, preSkip } = this.configure(0);
    const out: EncodedPacket[] = [];
    this.#endResampling(out);
    const last = this.#reframer!.flush(true);
    if (last) this.#encode(last, out);
    const endGranule = preSkip + (this.#inputSamples * OPUS_SAMPLE_RATE) / encodeRate;
    const silence = audioFrame(new Int16Array(this.#reframer!.frameSamples), encodeRate, 1);
    while (this.#encoded48 < endGranule) this.#encode(silence, out);
    return { packets: out, endGranule };
  }

  /** Frees the resampler's wasm memory. */
  destroy(): void {
    this.#resampler?.destroy();
    this.#resampler = null;
  }

  #endResampling(out: EncodedPacket[]): void {
    const r = this.#resampler;
    if (!r) return;
    this.#feed(r.flush(), out);
    r.destroy();
    this.#resampler = null;
  }

  #feed(frame: AudioFrame, out: EncodedPacket[]): void {
    if (frame.samples.length === 0) return;
    this.#inputSamples += frame.samples.length;
    for (const f of this.#reframer!.push(frame)) this.#encode(f, out);
  }

  #encode(frame: AudioFrame, out: EncodedPacket[]): void {
    out.push({ data: this.#encoder!.encode(frame), samples48: PACKET_SAMPLES_48K });
    this.#encoded48 += PACKET_SAMPLES_48K;
  }
}
