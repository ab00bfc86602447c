/**
 * The playout engine's sink for a media stream over a WebSocket (a provider's, a stream
 * client's): frames go out as the serializer's media messages followed by a mark (Twilio and
 * Telnyx `mark`, Plivo `checkpoint`, a stream client's `mark`) whose acknowledgement is the truth
 * of what was heard.
 *
 * A provider's frames travel in batches: up to BATCH_FRAMES media frames and one mark (for the
 * last of them) in one socket message, a relay batch (protocol relay-batch.ts): each media frame
 * as its provider message with the payload left out, plus the payload's bytes, which the edge
 * writes in as base64 as it sends each frame on to the provider (the hop carries a quarter fewer
 * bytes than the provider's text). Every message into the edge is billed and wakes the call's
 * Durable Object, and every mark comes back as a message from the provider: at one per frame that
 * was 1,200 of each a call-minute with the handler talking 40 % of the time (`npm run bench --
 * --only minute`).
 * A frame waits in the batch only while the far end still holds at least MIN_HELD_MS of audio
 * sent before it, so the first frames of a reply go out at once and the far end never runs dry
 * for the batching; a timer sends what waits when that margin is reached. An acknowledgement
 * names the batch's last frame, and the engine counts every frame up to it as heard
 * (playout/far-end.ts). A stream client's frames (binary: PCM, or Opus from the sink's codec) go
 * one per message, mark apart.
 */
import { encodeRelayBatch, type MediaParts } from '@switchboard/protocol';
import type { AudioFrame } from '../../audio/frame.ts';
import type { PlayoutSink, SendMeta } from '../../audio/playout/types.ts';
import type { MediaSerializer, StreamStart, WireMessage } from './serializer.ts';

/**
 * How far ahead of real time the far end's buffer is kept: enough to ride out the relay's jitter,
 * short enough that a clear leaves little to drop (Twilio plays what it holds until it reads ours).
 */
export const LEAD_MS = 200;
/** Most frames (of 20 ms) in one socket message. */
export const BATCH_FRAMES = 5;
/** A frame waits for its batch only while the far end holds at least this much audio sent before it. */
export const MIN_HELD_MS = 100;
const FRAME_MS = 20;

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
  readonly #now: () => number;
  /** A provider's frames as parts, when they are batched (no codec of the sink's own). */
  readonly #parts: ((start: StreamStart, frame: AudioFrame) => MediaParts) | undefined;
  /** Media frames waiting for their batch, and the engine sequence number of the last of them. */
  #pending: MediaParts[] = [];
  #pendingSeq = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** When the far end will have played everything sent so far (this sink's own play clock). */
  #heldUntil = 0;
  /** Socket messages sent (tests, and what the batching saves). */
  messages = 0;

  constructor(o: {
    sampleRate: number;
    serializer: MediaSerializer;
    send: (data: WireMessage) => void;
    start: () => StreamStart | undefined;
    encode?: (frame: AudioFrame) => WireMessage;
    /** Ms clock of the far end's play time (default performance.now). */
    now?: () => number;
  }) {
    this.sampleRate = o.sampleRate;
    this.#serializer = o.serializer;
    this.#send = o.send;
    this.#start = o.start;
    this.#encode = o.encode;
    this.#now = o.now ?? (() => performance.now());
    this.#parts = o.encode ? undefined : o.serializer.encodeMediaParts;
  }

  send(frame: AudioFrame, meta: SendMeta): void {
    const start = this.#start();
    if (!start) return; // the engine is paused until start; a frame here would have no stream to address
    if (!this.#parts) {
      this.#out(this.#encode ? this.#encode(frame) : this.#serializer.encodeMedia(start, frame));
      this.#out(this.#serializer.encodeMark(start, `${this.markPrefix}${meta.seq}`));
      this.#played(1);
      return;
    }
    this.#pending.push(this.#parts(start, frame));
    this.#pendingSeq = meta.seq;
    const heldMs = this.#heldUntil - this.#now();
    if (this.#pending.length >= BATCH_FRAMES || heldMs < MIN_HELD_MS) return this.flush();
    this.#timer ??= setTimeout(() => this.flush(), heldMs - MIN_HELD_MS);
  }

  /** Sends the frames waiting for their batch now, with one mark for the last of them. */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const start = this.#start();
    const n = this.#pending.length;
    if (n === 0 || !start) return this.drop();
    const mark = this.#serializer.encodeMark(start, `${this.markPrefix}${this.#pendingSeq}`);
    const frames = this.#pending;
    this.#pending = [];
    this.#out(encodeRelayBatch(typeof mark === 'string' ? [...frames, mark] : frames));
    if (typeof mark !== 'string') this.#out(mark);
    this.#played(n);
  }

  /** Forgets the frames waiting for their batch (the stream they were for is gone, or the call ended). */
  drop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#pending = [];
    this.#heldUntil = 0;
  }

  clear(): void {
    this.drop();
    const start = this.#start();
    if (start) this.#out(this.#serializer.encodeClear(start));
  }

  #out(data: WireMessage): void {
    this.messages++;
    this.#send(data);
  }

  #played(frames: number): void {
    this.#heldUntil = Math.max(this.#heldUntil, this.#now()) + frames * FRAME_MS;
  }

  /** The engine sequence number a mark echo names, or null when it is not one of ours. */
  seqOf(name: string): number | null {
    if (!name.startsWith(this.markPrefix)) return null;
    const seq = Number(name.slice(this.markPrefix.length));
    return Number.isInteger(seq) && seq > 0 ? seq : null;
  }
}
