/**
 * The playout engine's sink for a WebRTC call: reply frames are Opus-encoded (ahead of their
 * tick when the engine prepares them) and sent as RTP, on the call's fast path when it carries
 * them, else through werift. RTP has no playout buffer to fill and no playback reports: one
 * frame per tick (leadMs 0), and a frame sent counts as heard.
 */
import { RtpHeader, RtpPacket, type RTCRtpTransceiver } from 'werift';
import type { AudioFrame } from '../../audio/frame.ts';
import { OPUS_RATES, OPUS_SAMPLE_RATE, OpusEncoderStream, type OpusEncoderOptions } from '../../audio/opus.ts';
import type { PlayoutSink, SendMeta } from '../../audio/playout/types.ts';
import type { RtpFastPath } from './rtp-fast-path.ts';

/** Where the sink's packets go: set as the call connects; until then nothing is sent. */
export interface RtpRoute {
  payloadType: number;
  transceiver(): RTCRtpTransceiver | null;
  fastPath(): RtpFastPath | null;
  /** The call closed: frames are dropped. */
  closed(): boolean;
}

export class RtpSink implements PlayoutSink {
  readonly sampleRate = OPUS_SAMPLE_RATE;
  // Replies at a rate Opus encodes natively (TTS at 16 or 24 kHz) are encoded at that rate:
  // no resampler per frame, and fewer bands to code. The RTP clock stays 48 kHz (RFC 7587).
  readonly followRates = OPUS_RATES;
  readonly rtpClockRate = OPUS_SAMPLE_RATE;
  readonly leadMs = 0;
  readonly acknowledges = false;
  readonly #route: RtpRoute;
  readonly #encoderOptions: OpusEncoderOptions;
  /** Reply encoders by input rate, each made when the first reply frame at its rate is encoded. */
  readonly #encoders = new Map<number, OpusEncoderStream>();
  /** Frames encoded ahead of their tick, until sent; cleared frames just go. */
  readonly #encoded = new WeakMap<AudioFrame, Buffer>();
  #seq = Math.floor(Math.random() * 0xffff);

  constructor(route: RtpRoute, encoderOptions: OpusEncoderOptions) {
    this.#route = route;
    this.#encoderOptions = encoderOptions;
  }

  prepare(frame: AudioFrame): void {
    if (!this.#route.closed()) this.#encoded.set(frame, this.#encode(frame));
  }

  send(frame: AudioFrame, meta: SendMeta): void {
    if (this.#route.closed()) return;
    let payload = this.#encoded.get(frame);
    if (payload) this.#encoded.delete(frame);
    else payload = this.#encode(frame);
    this.#seq = (this.#seq + 1) & 0xffff;
    const timestamp = meta.rtpTimestamp >>> 0;
    if (this.#route.fastPath()?.send(payload, this.#seq, timestamp, meta.marker)) return;
    const header = new RtpHeader({ payloadType: this.#route.payloadType, sequenceNumber: this.#seq, timestamp, marker: meta.marker });
    this.#route.transceiver()?.sender.sendRtp(new RtpPacket(header, payload)).catch(() => {});
  }

  /** RTP has no far-end buffer to drop: what was sent plays. */
  clear(): void {}

  #encode(frame: AudioFrame): Buffer {
    let e = this.#encoders.get(frame.sampleRate);
    if (!e) {
      e = new OpusEncoderStream({ ...this.#encoderOptions, sampleRate: frame.sampleRate });
      this.#encoders.set(frame.sampleRate, e);
    }
    const encoded = e.encode(frame);
    return Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  }
}
