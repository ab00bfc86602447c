/**
 * What a stream client (`GET /v1/stream`) sends, before the socket transport acts on it: the
 * limits a stranger is held to and the Opus decoder its packets need. A phone stream has none of
 * this (the provider is trusted to its own format; the edge checked its webhook).
 *
 * Limits:
 * - every text message, before parsing, against the wire's rate (WIRE_LIMITS): mark echoes (one
 *   per 20 ms of reply audio, 50/s) come on top of the events the data channel allows (50/s);
 * - events, once parsed, against the data channel's own limits (client-events.ts);
 * - audio at most twice real time for the stream's format (audio-budget.ts), 16 KiB a message.
 * A violation is reported to the client once; abuse that goes on ends the call (`onAbuse`).
 */
import type { ChannelMessage } from '@switchboard/protocol';
import type { AudioFrame } from '../../audio/frame.ts';
import { OpusDecoderStream } from '../../audio/opus.ts';
import { ClientEvents } from '../client-events.ts';
import { ChannelGuard } from '../webrtc/channel-guard.ts';
import { AudioBudget } from './audio-budget.ts';
import type { StreamStart, WireMessage } from './serializer.ts';

/** A stream client's text messages before parsing: events (50/s) plus mark echoes (50/s) with room to spare. */
const WIRE_LIMITS = { ratePerSec: 150, burst: 400 };
/** Largest binary message (audio) a stream client may send. */
const MAX_AUDIO_MESSAGE_BYTES = 16_384;
/** Rate the audio budget assumes before `start` says the format: 48 kHz 16-bit mono. */
const DEFAULT_BYTES_PER_SECOND = 48_000 * 2;

export interface StreamClientIntakeOptions {
  /** An event to the client (a `pong`, an `error`). */
  send(event: ChannelMessage): void;
  /** A client event for the pipeline. */
  deliver(event: ChannelMessage): void;
  /** The abuse went on: the call ends with reason 'abuse'. */
  onAbuse(): void;
  /** Clock of the limits, ms. */
  now: () => number;
}

export class StreamClientIntake {
  readonly #events: ClientEvents;
  readonly #wireGuard: ChannelGuard;
  readonly #audioBudget = new AudioBudget();
  readonly #now: () => number;
  /** Opus packets carry state from one to the next, so the (pure) serializer cannot decode them. */
  #opus: OpusDecoderStream | null = null;

  constructor(o: StreamClientIntakeOptions) {
    this.#now = o.now;
    this.#wireGuard = new ChannelGuard(o.now(), WIRE_LIMITS);
    this.#events = new ClientEvents({ send: o.send, deliver: o.deliver, onAbuse: o.onAbuse, now: o.now });
  }

  /** Whether a message fits the client's limits (`start`: the stream's, once known). False: drop it. */
  admit(data: WireMessage, start: StreamStart | undefined): boolean {
    if (typeof data === 'string') {
      const v = this.#wireGuard.admitMessage(Buffer.byteLength(data), this.#now());
      if (!v.ok) this.#events.reject(v);
      return v.ok;
    }
    const bytesPerSecond = start ? start.format.sampleRate * 2 : DEFAULT_BYTES_PER_SECOND;
    if (data.byteLength <= MAX_AUDIO_MESSAGE_BYTES && this.#audioBudget.admit(data.byteLength, bytesPerSecond, this.#now())) return true;
    this.#events.violation(data.byteLength > MAX_AUDIO_MESSAGE_BYTES ? 'audio frame over 16 KiB' : 'audio faster than twice real time');
    return false;
  }

  /** The stream started: its binary messages are Opus packets from now on if its format says so. */
  started(start: StreamStart): void {
    if (start.format.encoding === 'opus') this.#opus = new OpusDecoderStream(1, start.format.sampleRate);
  }

  /** Whether binary messages are Opus packets, decoded here rather than by the serializer. */
  get decodesOpus(): boolean {
    return this.#opus !== null;
  }

  /** One Opus packet (decodesOpus) as audio. Throws on a corrupt packet; the stream stays usable. */
  decode(packet: Uint8Array): AudioFrame {
    if (!this.#opus) throw new Error('stream: no Opus stream started');
    return this.#opus.decode(packet);
  }

  /** A parsed event (`data`: the message it came in), held to the data channel's limits, then delivered. */
  event(event: ChannelMessage, data: WireMessage): void {
    if (this.#events.admit(typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength)) this.#events.receive(event);
  }
}
