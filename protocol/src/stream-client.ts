import { z } from 'zod';
import { ChannelMessage, MAX_EVENT_BYTES, parseChannelMessage } from './events.ts';
import type { ParseResult } from './parse.ts';

/**
 * Switchboard's own WebSocket stream clients (`GET /v1/stream`, docs/stream-protocol.md).
 * Text frames are JSON objects with a `type`; binary frames are audio in the `start` format.
 *
 * Client to server: `start` (required first), `mark` (echo of a server mark), and any other
 * `{type}` object, which is an ordinary channel message for the handler (as on the WebRTC
 * `events` data channel; `ping` is answered by the transport with `pong`).
 * Server to client: `session`, `started`, `mark`, `clear`, `pong`, binary reply audio, and the
 * channel's events.
 *
 * Client messages are strict objects: a misspelt field in `start` is refused with its name rather
 * than silently defaulted.
 */

/** Every message, text or binary, is at most this many bytes. */
export const STREAM_MAX_MESSAGE_BYTES = MAX_EVENT_BYTES;

/** pcm16: signed 16-bit little-endian mono at one of these rates. */
export const STREAM_PCM16_RATES = [8000, 16000, 24000, 48000] as const;
/** opus: one packet per binary frame, always 48 kHz. */
export const STREAM_OPUS_RATE = 48000;

const Pcm16Format = z.strictObject({
  encoding: z.literal('pcm16'),
  sampleRate: z.literal(STREAM_PCM16_RATES, {
    error: `pcm16 sampleRate must be one of ${STREAM_PCM16_RATES.join(', ')}`,
  }),
});
const OpusFormat = z.strictObject({
  encoding: z.literal('opus'),
  sampleRate: z.literal(STREAM_OPUS_RATE, { error: `opus sampleRate must be ${STREAM_OPUS_RATE}` }),
});

/** An audio format a stream client may send or receive. */
export const StreamFormat = z.discriminatedUnion('encoding', [Pcm16Format, OpusFormat]);
export type StreamFormat = z.infer<typeof StreamFormat>;

/** The client's first message. `output` (reply audio) defaults to `format`. */
export const StreamClientStart = z.strictObject({
  type: z.literal('start'),
  format: StreamFormat,
  output: StreamFormat.optional(),
});
export type StreamClientStart = z.infer<typeof StreamClientStart>;

/** Echo of a server `mark`: everything the server sent before it has been played. */
export const StreamClientMark = z.strictObject({ type: z.literal('mark'), name: z.string().min(1).max(256) });
export type StreamClientMark = z.infer<typeof StreamClientMark>;

/** A text message from a stream client: its start, a mark echo, or a channel message. */
export type StreamClientInbound =
  | { kind: 'start'; value: StreamClientStart }
  | { kind: 'mark'; value: StreamClientMark }
  | { kind: 'event'; value: ChannelMessage };

/**
 * Parses one text message from a stream client. A message typed `start` or `mark` must match its
 * schema (a malformed start is an error, never an event for the handler); anything else with a
 * string `type` is a channel message. The size limit is checked before JSON parsing.
 */
export function parseStreamClientInbound(text: string): ParseResult<StreamClientInbound> {
  const base = parseChannelMessage(text);
  if (!base.ok) return { ok: false, error: `stream message: ${base.error}` };
  const msg = base.value;
  if (msg.type === 'start') return refine(StreamClientStart, msg, 'start');
  if (msg.type === 'mark') return refine(StreamClientMark, msg, 'mark');
  return { ok: true, value: { kind: 'event', value: msg } };
}

function refine<K extends 'start' | 'mark', T>(
  schema: z.ZodType<T>,
  raw: unknown,
  kind: K,
): ParseResult<{ kind: K; value: T }> {
  const r = schema.safeParse(raw);
  return r.success
    ? { ok: true, value: { kind, value: r.data } }
    : { ok: false, error: `stream ${kind}: ${z.prettifyError(r.error)}` };
}

/** Server -> client. */
export const StreamServerSession = z.strictObject({ type: z.literal('session'), id: z.string().min(1) });
export const StreamServerStarted = z.strictObject({ type: z.literal('started'), format: StreamFormat, output: StreamFormat });
export const StreamServerMark = z.strictObject({ type: z.literal('mark'), name: z.string().min(1).max(256) });
export const StreamServerClear = z.strictObject({ type: z.literal('clear') });

/** The server's own stream messages (its channel events travel beside them as ChannelMessages). */
export const StreamServerMessage = z.discriminatedUnion('type', [
  StreamServerSession,
  StreamServerStarted,
  StreamServerMark,
  StreamServerClear,
]);
export type StreamServerMessage = z.infer<typeof StreamServerMessage>;
