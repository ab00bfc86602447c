import { z } from 'zod';
import { parseJson } from './parse.ts';

/**
 * Telnyx Media Streaming over WebSockets (Call Control `stream_url` or TeXML `<Stream>`), with
 * bidirectional RTP mode (`stream_bidirectional_mode: "rtp"`), as documented by Telnyx:
 * https://developers.telnyx.com/api-reference/websockets/stream-call-media-over-websocket
 * https://developers.telnyx.com/docs/voice/programmable-voice/media-streaming
 *
 * Documented frames from Telnyx (snake_case; `stream_id` and `sequence_number` sit at the top
 * level, numbers in `sequence_number`, `media.chunk` and `media.timestamp` travel as strings):
 *   {"event":"connected","version":"1.0.0"}
 *   {"event":"start","sequence_number":"1","stream_id":"32DE0DEA-...","start":{"user_id":"...",
 *    "call_control_id":"v2:...","call_session_id":"...","from":"+1...","to":"+1...",
 *    "client_state":"...","custom_parameters":{"customer_id":"customer_123"},
 *    "media_format":{"encoding":"PCMU","sample_rate":8000,"channels":1}}}
 *   {"event":"media","sequence_number":"4","media":{"track":"inbound","chunk":"2",
 *    "timestamp":"5","payload":"<base64 RTP payload, no RTP header>"},"stream_id":"..."}
 *   {"event":"stop","sequence_number":"5","stop":{"user_id":"...","call_control_id":"..."},
 *    "stream_id":"..."}
 *   {"stream_id":"...","event":"error","sequence_number":"6","error":{"title":"rate_limit_reached",
 *    "code":"100005","detail":"..."}}
 *   `dtmf` (dtmf.digit) and `mark` (mark.name: the echo of a mark we sent, once the media before
 *   it has played, at once if nothing is queued, and for every queued mark on a `clear`).
 * Frames we send carry no stream id: {"event":"media","media":{"payload":"..."}},
 * {"event":"mark","mark":{"name":"..."}}, {"event":"clear"}.
 *
 * Inbound objects are loose: Telnyx adds fields over time (the start example grew `tags`,
 * `client_state`, `call_session_id`), which are kept and ignored. Only what Switchboard reads is
 * required; the rest is typed when present.
 */
const Num = z.string().regex(/^\d+$/, 'expected a decimal string');

export const TelnyxConnected = z.looseObject({
  event: z.literal('connected'),
  version: z.string().optional(),
});

export const TelnyxMediaFormat = z.looseObject({
  encoding: z.string().min(1),
  sample_rate: z.number().int().positive(),
  channels: z.number().int().positive(),
});
export type TelnyxMediaFormat = z.infer<typeof TelnyxMediaFormat>;

export const TelnyxStart = z.looseObject({
  event: z.literal('start'),
  sequence_number: Num.optional(),
  stream_id: z.string().min(1),
  start: z.looseObject({
    user_id: z.string().optional(),
    call_control_id: z.string().min(1),
    call_session_id: z.string().optional(),
    from: z.string().nullish(),
    to: z.string().nullish(),
    client_state: z.string().nullish(),
    custom_parameters: z.record(z.string(), z.string()).default({}),
    media_format: TelnyxMediaFormat,
  }),
});

export const TelnyxMedia = z.looseObject({
  event: z.literal('media'),
  sequence_number: Num.optional(),
  stream_id: z.string().optional(),
  media: z.looseObject({
    track: z.string(),
    chunk: Num.optional(),
    timestamp: Num.optional(),
    payload: z.string(),
  }),
});

export const TelnyxDtmf = z.looseObject({
  event: z.literal('dtmf'),
  sequence_number: Num.optional(),
  stream_id: z.string().optional(),
  dtmf: z.looseObject({ digit: z.string().regex(/^[0-9*#A-Da-d]$/, 'expected one DTMF digit') }),
});

export const TelnyxMarkIn = z.looseObject({
  event: z.literal('mark'),
  sequence_number: Num.optional(),
  stream_id: z.string().optional(),
  mark: z.looseObject({ name: z.string() }),
});

export const TelnyxStop = z.looseObject({
  event: z.literal('stop'),
  sequence_number: Num.optional(),
  stream_id: z.string().optional(),
  stop: z.looseObject({ call_control_id: z.string().optional(), user_id: z.string().optional() }).optional(),
});

/** A stream error (a bad media frame, a rate limit); the stream goes on. `code` is a string in the docs. */
export const TelnyxError = z.looseObject({
  event: z.literal('error'),
  sequence_number: Num.optional(),
  stream_id: z.string().optional(),
  error: z
    .looseObject({
      code: z.union([z.string(), z.number()]).optional(),
      title: z.string().optional(),
      detail: z.string().optional(),
    })
    .optional(),
});

/** The events Telnyx documents; any other `event` is a well-formed frame this version does not use. */
export const TELNYX_INBOUND_EVENTS = ['connected', 'start', 'media', 'dtmf', 'mark', 'stop', 'error'] as const;

/** A message Telnyx sends to us. */
export const TelnyxInbound = z.discriminatedUnion('event', [
  TelnyxConnected,
  TelnyxStart,
  TelnyxMedia,
  TelnyxDtmf,
  TelnyxMarkIn,
  TelnyxStop,
  TelnyxError,
]);
export type TelnyxInbound = z.infer<typeof TelnyxInbound>;

/** A message we send to Telnyx on a bidirectional RTP stream. */
export const TelnyxOutbound = z.discriminatedUnion('event', [
  z.strictObject({ event: z.literal('media'), media: z.strictObject({ payload: z.string().min(1) }) }),
  z.strictObject({ event: z.literal('mark'), mark: z.strictObject({ name: z.string().min(1) }) }),
  z.strictObject({ event: z.literal('clear') }),
]);
export type TelnyxOutbound = z.infer<typeof TelnyxOutbound>;

export const parseTelnyxInbound = (text: string) => parseJson(TelnyxInbound, text, 'Telnyx message');
export const parseTelnyxOutbound = (text: string) => parseJson(TelnyxOutbound, text, 'Telnyx message');
