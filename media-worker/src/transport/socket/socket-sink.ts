/**
 * The playout engine's sink for a media stream over a WebSocket (a provider's, a stream
 * client's): each frame goes out as the serializer's media message followed by a mark (Twilio and
 * Telnyx `mark`, Plivo `checkpoint`, a stream client's `mark`) whose acknowledgement is the truth
 * of what was heard. A text frame and its mark travel as one socket message, one per line (the
 * edge splits them): every message costs the edge's relay an event.
 */
import type { AudioFrame } from '../../audio/frame.ts';
import type { PlayoutSink, SendMeta } from '../../audio/playout/types.ts';
import type { MediaSerializer, StreamStart, WireMessage } from './serializer.ts';

/**
 * How far ahead of real time the far end's buffer is kept: enough to ride out the relay's jitter,
 * short enough that a clear leaves little to drop (Twilio plays what it holds until it reads ours).
 */
export const LEAD_MS = 200;

export class SocketSink implements PlayoutSink {
  readonly sampleRate: number;
  readonly leadMs = LEAD_MS;
  readonly acknowledges = true;
  /** Mark names are `${prefix}${seq}`: the prefix keeps them apart from another worker's (after a takeover). */
  readonly markPrefix = `sb${Math.random().toString(36).slice(2, 8)}-`;
  readonly #serializer: MediaSerializer;
  readonly #send: (data: WireMessage) => void;
  readonly #start: () => StreamStart | undefined;
  /** Encodes a frame when a codec with state does it instead of the serializer (a stream client's Opus). */
  readonly #encode: ((frame: AudioFrame) => WireMessage) | undefined;

  constructor(o: {
    sampleRate: number;
    serializer: MediaSerializer;
    send: (data: WireMessage) => void;
    start: () => StreamStart | undefined;
    encode?: (frame: AudioFrame) => WireMessage;
  }) {
    this.sampleRate = o.sampleRate;
    this.#serializer = o.serializer;
    this.#send = o.send;
    this.#start = o.start;
    this.#encode = o.encode;
  }

  send(frame: AudioFrame, meta: SendMeta): void {
    const start = this.#start();
    if (!start) return; // the engine is paused until start; a frame here would have no stream to address
    const media = this.#encode ? this.#encode(frame) : this.#serializer.encodeMedia(start, frame);
    const mark = this.#serializer.encodeMark(start, `${this.markPrefix}${meta.seq}`);
    if (typeof media === 'string' && typeof mark === 'string') this.#send(`${media}\n${mark}`);
    else {
      this.#send(media);
      this.#send(mark);
    }
  }

  clear(): void {
    const start = this.#start();
    if (start) this.#send(this.#serializer.encodeClear(start));
  }

  /** The engine sequence number a mark echo names, or null when it is not one of ours. */
  seqOf(name: string): number | null {
    if (!name.startsWith(this.markPrefix)) return null;
    const seq = Number(name.slice(this.markPrefix.length));
    return Number.isInteger(seq) && seq > 0 ? seq : null;
  }
}
