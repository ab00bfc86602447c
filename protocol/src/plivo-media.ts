import { z } from 'zod';
import { parseJson } from './parse.ts';

/**
 * Plivo Audio Streams (`<Stream bidirectional="true">`), as documented by Plivo:
 * https://www.plivo.com/docs/voice/audio-streaming/audio-streaming (Stream Event Protocol)
 * https://www.plivo.com/docs/voice-agents/audio-streaming/concepts/audio-streaming-reference
 * https://plivo.com/docs/voice/xml/the-stream-element/checkpoint-event
 * https://docs.plivo.com/docs/voice/xml/audiostream/stream-events-to-plivo/play-audio-event
 *
 * Documented messages from Plivo (camelCase; `sequenceNumber` and `media.chunk` are numbers,
 * `media.timestamp` is a string; `extra_headers` sits at the top level, not inside `start`):
 *   {"event":"start","sequenceNumber":1,"start":{"callId":"...","streamId":"...",
 *    "accountId":"MA...","tracks":["inbound"],"mediaFormat":{"encoding":"audio/x-mulaw",
 *    "sampleRate":8000}},"extra_headers":"userId=12345;sessionId=abc-xyz"}
 *   {"event":"media","sequenceNumber":42,"streamId":"...","media":{"track":"inbound",
 *    "timestamp":"1705312200000","chunk":41,"payload":"<base64>"},"extra_headers":"..."}
 *   {"event":"dtmf","sequenceNumber":..,"streamId":"...","dtmf":{"track":"inbound","digit":"5",
 *    "timestamp":"..."}}
 *   {"event":"playedStream","streamId":"...","name":"customer greeting audio"}
 *   {"sequenceNumber":0,"event":"clearedAudio","streamId":"..."}
 * There is no stop message: the socket closes (stream end reaches the statusCallbackUrl instead).
 * Messages we send:
 *   {"event":"playAudio","media":{"contentType":"audio/x-l16","sampleRate":8000,"payload":"..."}}
 *   {"event":"checkpoint","streamId":"...","name":"..."}  (answered by `playedStream`)
 *   {"event":"clearAudio","streamId":"..."}               (answered by `clearedAudio`)
 * Codecs on the wire: audio/x-mulaw at 8000 Hz, audio/x-l16 at 8000 or 16000 Hz, mono.
 *
 * Inbound objects are loose (Plivo may add fields, which are kept and ignored); only what
 * Switchboard reads is required.
 */
const Seq = z.number().int().nonnegative();

export const PlivoStart = z.looseObject({
  event: z.literal('start'),
  sequenceNumber: Seq.optional(),
  start: z.looseObject({
    callId: z.string().min(1),
    streamId: z.string().min(1),
    accountId: z.string().optional(),
    tracks: z.array(z.string()).optional(),
    mediaFormat: z.looseObject({
      encoding: z.string().min(1),
      sampleRate: z.number().int().positive(),
    }),
  }),
  extra_headers: z.string().optional(),
});

export const PlivoMedia = z.looseObject({
  event: z.literal('media'),
  sequenceNumber: Seq.optional(),
  streamId: z.string().optional(),
  media: z.looseObject({
    track: z.string(),
    timestamp: z.string().optional(),
    chunk: z.number().int().nonnegative().optional(),
    payload: z.string(),
  }),
});

export const PlivoDtmf = z.looseObject({
  event: z.literal('dtmf'),
  sequenceNumber: Seq.optional(),
  streamId: z.string().optional(),
  dtmf: z.looseObject({
    track: z.string().optional(),
    digit: z.string().regex(/^[0-9*#A-Da-d]$/, 'expected one DTMF digit'),
    timestamp: z.string().optional(),
  }),
});

/** Everything sent before the checkpoint `name` has been played to the caller. */
export const PlivoPlayedStream = z.looseObject({
  event: z.literal('playedStream'),
  sequenceNumber: Seq.optional(),
  streamId: z.string().optional(),
  name: z.string(),
});

/** The buffered audio was dropped after our `clearAudio`. */
export const PlivoClearedAudio = z.looseObject({
  event: z.literal('clearedAudio'),
  sequenceNumber: Seq.optional(),
  streamId: z.string().optional(),
});

/** The events Plivo documents; any other `event` is a well-formed message this version does not use. */
export const PLIVO_INBOUND_EVENTS = ['start', 'media', 'dtmf', 'playedStream', 'clearedAudio'] as const;

/** A message Plivo sends to us. */
export const PlivoInbound = z.discriminatedUnion('event', [
  PlivoStart,
  PlivoMedia,
  PlivoDtmf,
  PlivoPlayedStream,
  PlivoClearedAudio,
]);
export type PlivoInbound = z.infer<typeof PlivoInbound>;

/** The `contentType`s and rates a bidirectional stream carries (the `<Stream contentType>` values). */
export const PLIVO_CONTENT_TYPES = { 'audio/x-mulaw': [8000], 'audio/x-l16': [8000, 16000] } as const;
export type PlivoContentType = keyof typeof PLIVO_CONTENT_TYPES;

/** A message we send to Plivo. */
export const PlivoOutbound = z.discriminatedUnion('event', [
  z.strictObject({
    event: z.literal('playAudio'),
    media: z.strictObject({
      contentType: z.enum(['audio/x-mulaw', 'audio/x-l16']),
      sampleRate: z.union([z.literal(8000), z.literal(16000)]),
      payload: z.string().min(1),
    }),
  }),
  z.strictObject({ event: z.literal('checkpoint'), streamId: z.string().min(1), name: z.string().min(1) }),
  z.strictObject({ event: z.literal('clearAudio'), streamId: z.string().min(1) }),
]);
export type PlivoOutbound = z.infer<typeof PlivoOutbound>;

/**
 * The stream's `extra_headers` as key/value pairs. Plivo documents `extraHeaders` as
 * `key=value` pairs joined by `,` (the XML attribute) and shows them joined by `;` on the socket,
 * so both separators are read; pieces without `=` (or an empty `{}`) are skipped. Values are
 * limited to [A-Za-z0-9] by Plivo, so no unescaping is needed.
 */
export function parsePlivoExtraHeaders(text: string | undefined): Record<string, string> {
  const pairs: [string, string][] = [];
  for (const piece of (text ?? '').split(/[;,]/)) {
    const eq = piece.indexOf('=');
    const key = piece.slice(0, Math.max(eq, 0)).trim();
    if (key) pairs.push([key, piece.slice(eq + 1).trim()]);
  }
  // fromEntries defines own properties, so a key such as `__proto__` stays a plain key.
  return Object.fromEntries(pairs);
}

export const parsePlivoInbound = (text: string) => parseJson(PlivoInbound, text, 'Plivo message');
export const parsePlivoOutbound = (text: string) => parseJson(PlivoOutbound, text, 'Plivo message');
