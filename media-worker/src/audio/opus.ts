/**
 * Opus encode/decode over `@evan/opus` (native prebuilt, wasm fallback; OPUS_FORCE_WASM=1 forces
 * wasm). Opus on the wire is always 48 kHz in WebRTC, so both streams work at 48 kHz unless told
 * otherwise; converting to other rates is the resampler's job.
 *
 * Limits of the library that shape this file:
 * - `decode()` always passes decode_fec=0, so in-band FEC (LBRR) cannot be recovered on our side;
 *   lost packets are concealed with PLC instead (decodeLost). Our encoder still emits FEC so the
 *   remote end (Chrome) can use it.
 * - PLC is reached by decoding a packet whose frames are empty (a TOC byte with no payload, which
 *   libopus conceals for the duration the TOC says). Decoding an empty buffer is rejected by the
 *   native build and conceals a fixed 120 ms in the wasm one, so we never do that.
 * - Every call returns a fresh copy of the output (the library slices its internal buffer); we
 *   add no further copies: input Int16Arrays are passed as is and output bytes are viewed, not
 *   copied, as Int16Array.
 */
import { Decoder, Encoder } from '@evan/opus';
import { enterStage, exitStage, Stage } from '../telemetry/stage-cpu.ts';
import { audioFrame, type AudioFrame } from './frame.ts';

export const OPUS_SAMPLE_RATE = 48000;
/** Opus frames are 2.5 ms multiples; one packet holds at most 120 ms. */
const MAX_PACKET_MS = 120;
/** libopus generic CTL: OPUS_GET_LOOKAHEAD (the typings misspell the getter). */
const OPUS_GET_LOOKAHEAD = 4027;

type OpusRate = 8000 | 12000 | 16000 | 24000 | 48000;
/** The rates libopus encodes and decodes at natively (Hz). */
export const OPUS_RATES: readonly number[] = [8000, 12000, 16000, 24000, 48000];

/** Whether libopus encodes and decodes at `rate` (Hz) natively. */
export function isOpusRate(rate: number): rate is OpusRate {
  return OPUS_RATES.includes(rate);
}

function checkChannels(channels: number): asserts channels is 1 | 2 {
  if (channels !== 1 && channels !== 2) throw new RangeError(`Opus streams have 1 or 2 channels, not ${channels}`);
}

/** Views the library's byte output as int16 samples without copying (copies only if misaligned). */
function bytesToInt16(bytes: Uint8Array): Int16Array {
  if (bytes.byteOffset % 2 === 0) return new Int16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 1);
  return new Int16Array(bytes.slice().buffer);
}

/**
 * Decodes one Opus stream (one RTP SSRC) into `channels` channels at `sampleRate`, whatever the
 * packet signals: libopus down-mixes stereo packets for a mono decoder and duplicates mono packets
 * for a stereo one (Chrome signals `opus/48000/2` but sends mono content). Any packet duration
 * Opus allows (2.5 to 120 ms) decodes in one call.
 *
 * `sampleRate` may be any rate libopus decodes at (8, 12, 16, 24 or 48 kHz): decoding straight at
 * the rate the audio is wanted at skips a separate resampling step, which costs more than the
 * decode itself (48 kHz decode plus Speex 48 -> 16 kHz: ~73 us per 20 ms frame; decode at 16 kHz:
 * ~21 us, `npm run bench` machine). The RTP clock stays 48 kHz whatever the decode rate.
 */
export class OpusDecoderStream {
  readonly sampleRate: OpusRate;
  readonly channels: 1 | 2;
  readonly #decoder: Decoder;
  /** TOC byte of the last good packet: its stereo flag is reused for concealment packets. */
  #lastToc = -1;

  constructor(channels: number = 1, sampleRate: number = OPUS_SAMPLE_RATE) {
    checkChannels(channels);
    if (!isOpusRate(sampleRate)) throw new RangeError(`Opus cannot decode at ${sampleRate} Hz (8000, 12000, 16000, 24000 or 48000)`);
    this.channels = channels;
    this.sampleRate = sampleRate;
    this.#decoder = new Decoder({ channels, sample_rate: sampleRate });
  }

  /** Decodes one packet. Throws on an empty or corrupt packet (the stream stays usable). */
  decode(packet: Uint8Array): AudioFrame {
    if (packet.length === 0) throw new RangeError('empty Opus packet (use decodeLost() for a missing one)');
    enterStage(Stage.decode); // telemetry/stage-cpu.ts (off unless STAGE_TIMING=on)
    try {
      const out = this.#decoder.decode(packet);
      this.#lastToc = packet[0]!;
      return audioFrame(bytesToInt16(out), this.sampleRate, this.channels);
    } finally {
      exitStage();
    }
  }

  /**
   * Packet-loss concealment for `durationMs` of missing audio (a multiple of 2.5 ms, e.g. the
   * duration of the lost packets: 20 ms per lost Chrome packet). Extrapolates from the decoder's
   * state; before any packet it yields silence. Long gaps are concealed 120 ms at a time.
   */
  decodeLost(durationMs: number): AudioFrame {
    const units = Math.round(durationMs / 2.5);
    if (!(durationMs > 0) || Math.abs(units * 2.5 - durationMs) > 1e-9) {
      throw new RangeError(`cannot conceal ${durationMs} ms: Opus durations are positive multiples of 2.5 ms`);
    }
    // Concealment packets are sized in 48 kHz samples (the TOC's durations); output is at our rate.
    const unit48 = 120; // 2.5 ms at 48 kHz
    const total48 = units * unit48;
    const outPerUnit = (2.5 * this.sampleRate) / 1000;
    const out = new Int16Array(units * outPerUnit * this.channels);
    let done48 = 0;
    enterStage(Stage.decode);
    try {
      while (done48 < total48) {
        const chunk48 = Math.min(total48 - done48, (MAX_PACKET_MS * OPUS_SAMPLE_RATE) / 1000);
        const pcm = bytesToInt16(this.#decoder.decode(concealmentPacket(chunk48, this.#lastToc)));
        const at = (done48 / unit48) * outPerUnit * this.channels;
        out.set(pcm.subarray(0, Math.min(pcm.length, out.length - at)), at);
        done48 += chunk48;
      }
    } finally {
      exitStage();
    }
    return audioFrame(out, this.sampleRate, this.channels);
  }

  /** Duration of the last decoded (or concealed) packet in ms. */
  get lastPacketDurationMs(): number {
    return (this.#decoder.last_packet_duration / this.sampleRate) * 1000;
  }

  /** Resets the decoder state (e.g. on an SSRC change). */
  reset(): void {
    this.#decoder.reset();
    this.#lastToc = -1;
  }
}

/**
 * A packet that makes libopus run PLC for `samples` samples at 48 kHz: a TOC byte with CELT
 * fullband frames of the largest size (20/10/5/2.5 ms) dividing the duration, frame-count code 3
 * (CBR) and zero payload bytes, so every frame is empty and gets concealed. PLC continues in the
 * mode of the last real packet (libopus ignores the TOC's mode when concealing); the stereo flag
 * is copied from the last real packet so the decoder's stream channel count does not flip.
 */
function concealmentPacket(samples: number, lastToc: number): Uint8Array {
  // CELT-only fullband configs: 28 = 2.5 ms, 29 = 5 ms, 30 = 10 ms, 31 = 20 ms.
  const sizes: ReadonlyArray<readonly [config: number, samples: number]> = [
    [31, 960],
    [30, 480],
    [29, 240],
    [28, 120],
  ];
  const [config, frame] = sizes.find(([, n]) => samples % n === 0) ?? [28, 120];
  const stereo = lastToc >= 0 ? lastToc & 0x04 : 0;
  return Uint8Array.of((config << 3) | stereo | 0x03, samples / frame);
}

export interface OpusEncoderOptions {
  /** Input rate; 48000 for WebRTC (default). Other Opus rates: 8000/12000/16000/24000. */
  sampleRate?: number;
  channels?: number;
  /** Bits per second (500..512000); default: libopus' choice for the rate and channels. */
  bitrate?: number;
  /** 0..10 (libopus default 9 at 48 kHz); lower trades quality for CPU. */
  complexity?: number;
  /** In-band forward error correction (LBRR) the receiver can use to rebuild a lost packet. Default true. */
  fec?: boolean;
  /** Expected loss in percent; libopus only spends bits on FEC when this is above 0. Default 10 with fec. */
  packetLossPercent?: number;
  /** Discontinuous transmission: tiny packets during silence. Default false. */
  dtx?: boolean;
  /** Default 'voip' (speech, with the loss-robust settings). */
  application?: 'voip' | 'audio' | 'restricted_lowdelay';
}

/** Encodes whole 10/20/40/60 ms frames into one Opus packet each. */
export class OpusEncoderStream {
  readonly sampleRate: number;
  readonly channels: 1 | 2;
  /** Frame sizes (samples per channel) this encoder accepts: 10, 20, 40 and 60 ms at its rate. */
  readonly #frameSizes: ReadonlySet<number>;
  readonly #encoder: Encoder;

  constructor(options: OpusEncoderOptions = {}) {
    const sampleRate = options.sampleRate ?? OPUS_SAMPLE_RATE;
    const channels = options.channels ?? 1;
    if (!isOpusRate(sampleRate)) throw new RangeError(`Opus cannot encode at ${sampleRate} Hz`);
    checkChannels(channels);
    this.sampleRate = sampleRate;
    this.channels = channels;
    this.#frameSizes = new Set([10, 20, 40, 60].map((ms) => (ms * sampleRate) / 1000));
    const enc = new Encoder({
      channels,
      sample_rate: sampleRate as OpusRate,
      application: options.application ?? 'voip',
    });
    if (options.bitrate !== undefined) enc.bitrate = options.bitrate;
    if (options.complexity !== undefined) {
      if (!Number.isInteger(options.complexity) || options.complexity < 0 || options.complexity > 10) {
        throw new RangeError(`Opus complexity is 0..10, not ${options.complexity}`);
      }
      enc.complexity = options.complexity as Encoder['complexity'];
    }
    const fec = options.fec ?? true;
    enc.inband_fec = fec;
    enc.packet_loss = options.packetLossPercent ?? (fec ? 10 : 0);
    enc.dtx = options.dtx ?? false;
    this.#encoder = enc;
  }

  /** Encodes exactly one 10, 20, 40 or 60 ms frame at the encoder's rate and channel count. */
  encode(frame: AudioFrame): Uint8Array {
    if (frame.sampleRate !== this.sampleRate || frame.channels !== this.channels) {
      throw new RangeError(
        `Opus encoder is ${this.sampleRate} Hz/${this.channels} ch, got ${frame.sampleRate} Hz/${frame.channels} ch (resample first)`,
      );
    }
    const n = frame.samples.length / frame.channels;
    if (!this.#frameSizes.has(n)) {
      const ms = (n / this.sampleRate) * 1000;
      throw new RangeError(
        `Opus encodes 10/20/40/60 ms frames; got ${n} samples (${ms} ms) at ${this.sampleRate} Hz (use a Reframer)`,
      );
    }
    enterStage(Stage.encode);
    try {
      return this.#encoder.encode(frame.samples);
    } finally {
      exitStage();
    }
  }

  /** Encoder delay in samples at the encoder's rate (decoded audio lags the input by this much). */
  get lookahead(): number {
    return this.#encoder.ctl(OPUS_GET_LOOKAHEAD);
  }

  reset(): void {
    this.#encoder.reset();
  }
}
