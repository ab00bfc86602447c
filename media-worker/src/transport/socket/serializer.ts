/**
 * A media stream over one WebSocket (a telephony provider's media stream, or a Switchboard
 * stream client), as a pure serializer: provider messages <-> frames and control events. No
 * state, no I/O, no timers: the transport (socket-transport.ts) keeps what a stream needs (its
 * `start`) and passes it in. Adding a provider is a serializer, an edge webhook module and a
 * simulator.
 */
import type { ChannelMessage, MediaParts } from '@switchboard/protocol';
import type { AudioFrame } from '../../audio/frame.ts';

export type StreamEncoding = 'mulaw' | 'l16' | 'pcm16le' | 'opus';

/** What a stream's `start` says, in the provider's words made plain. */
export interface StreamStart {
  /** The stream's id (Twilio streamSid, Telnyx stream_id, Plivo streamId; a stream client's session id). */
  streamId: string;
  /** The call's id at the provider (Twilio CallSid, Telnyx call_control_id, Plivo callId); '' for stream clients. */
  callId: string;
  /** Inbound audio format. */
  format: { encoding: StreamEncoding; sampleRate: number; channels: 1 };
  /** The format reply audio must be sent in (often the inbound one). */
  output: { encoding: StreamEncoding; sampleRate: number };
  /** Custom parameters of the stream (`<Parameter>`s, Plivo extra headers). */
  params: Record<string, string>;
}

export type InboundEvent =
  | { kind: 'connected' }
  | { kind: 'start'; start: StreamStart }
  | { kind: 'audio'; frame: AudioFrame }
  | { kind: 'dtmf'; digit: string }
  /** The far end played everything sent before the mark (or checkpoint) `name`. */
  | { kind: 'ack'; name: string }
  /** The far end confirmed a clear (Plivo `clearedAudio`). */
  | { kind: 'cleared' }
  /** A stream client's JSON event for the handler (ctx.inputs). */
  | { kind: 'event'; event: ChannelMessage }
  | { kind: 'stop' }
  /** Understood and of no use (an unknown but well-formed event). */
  | { kind: 'ignored'; what: string };

/** One WebSocket message: text, or binary (stream clients' audio). */
export type WireMessage = string | Uint8Array;

export interface MediaSerializer {
  readonly name: 'twilio' | 'telnyx' | 'plivo' | 'stream';
  /**
   * Decodes one inbound message. `start`: the stream's current start (undefined before it), for
   * the media format. Throws an Error with a clear message on anything malformed or refused (an
   * unsupported encoding in `start`, bad base64, a binary frame where text is expected).
   */
  decode(data: WireMessage, start: StreamStart | undefined): InboundEvent;
  /** One frame of reply audio, already at start.output's rate, mono. */
  encodeMedia(start: StreamStart, frame: AudioFrame): WireMessage;
  /**
   * The same frame as its message with the payload left out and the payload's bytes, for the
   * session's Durable Object to write in as base64 (protocol relay-batch.ts): providers only, whose
   * messages carry audio as base64 in JSON. encodeMedia is this, expanded.
   */
  encodeMediaParts?(start: StreamStart, frame: AudioFrame): MediaParts;
  /** A mark the far end acknowledges once everything sent before it has played. */
  encodeMark(start: StreamStart, name: string): WireMessage;
  /** Drops everything the far end has buffered. */
  encodeClear(start: StreamStart): WireMessage;
  /** A pipeline event for the far end; null when it has no way to show one (phones). */
  encodeEvent(start: StreamStart, event: ChannelMessage): WireMessage | null;
}
