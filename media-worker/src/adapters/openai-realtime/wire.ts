/**
 * The Realtime API's wire format, as far as the adapter uses it (GA names; the beta API called
 * the audio events `response.audio.delta` / `response.audio_transcript.*` and took
 * `input_audio_format: "pcm16"` at the session's top level: the adapter speaks GA only).
 *
 * Outbound events are typed with the official SDK's types (type-only imports: nothing of the SDK
 * runs), so a misspelled field fails the typecheck. Inbound events are parsed here: each event
 * type the adapter acts on is checked for the fields it reads (a malformed one is a protocol
 * error, fatal to the call); other types are passed over as `ignored`.
 */
import type { RealtimeClientEvent } from 'openai/resources/realtime/realtime';
import { z } from 'zod';

export type ClientEvent = RealtimeClientEvent;

/** PCM16 mono at 24 kHz: the only PCM rate the Realtime API takes and sends. */
export const REALTIME_SAMPLE_RATE = 24_000;

const ids = { response_id: z.string(), item_id: z.string() };
const schemas = {
  'session.created': z.looseObject({}),
  'session.updated': z.looseObject({}),
  error: z.looseObject({
    error: z.looseObject({ message: z.string(), type: z.string().nullish(), code: z.string().nullish() }),
  }),
  'input_audio_buffer.speech_started': z.looseObject({ item_id: z.string().optional() }),
  'conversation.item.input_audio_transcription.completed': z.looseObject({ item_id: z.string(), transcript: z.string() }),
  'response.created': z.looseObject({ response: z.looseObject({ id: z.string() }) }),
  'response.output_audio.delta': z.looseObject({ ...ids, delta: z.string() }),
  'response.output_audio.done': z.looseObject(ids),
  'response.output_audio_transcript.delta': z.looseObject({ ...ids, delta: z.string() }),
  'response.output_audio_transcript.done': z.looseObject({ ...ids, transcript: z.string() }),
  'response.function_call_arguments.done': z.looseObject({ ...ids, call_id: z.string(), name: z.string(), arguments: z.string() }),
  'response.done': z.looseObject({ response: z.looseObject({ id: z.string(), status: z.string().optional() }) }),
} as const;

type Schemas = typeof schemas;
export type ServerEvent = { [K in keyof Schemas]: z.infer<Schemas[K]> & { type: K } }[keyof Schemas];
export type ServerEventOf<K extends ServerEvent['type']> = Extract<ServerEvent, { type: K }>;

export type Parsed = { ok: true; event: ServerEvent } | { ok: true; event: { type: 'ignored'; name: string } } | { ok: false; error: string };

/** Parses one text message from the server. */
export function parseServerEvent(text: string): Parsed {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, error: `a message that is not JSON (${text.slice(0, 80)})` };
  }
  const type = typeof raw === 'object' && raw !== null ? (raw as { type?: unknown }).type : undefined;
  if (typeof type !== 'string') return { ok: false, error: 'a message without a string "type"' };
  if (!Object.hasOwn(schemas, type)) return { ok: true, event: { type: 'ignored', name: type } };
  const r = schemas[type as keyof Schemas].safeParse(raw);
  if (!r.success) return { ok: false, error: `a malformed ${type} (${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})` };
  return { ok: true, event: { ...r.data, type } as ServerEvent };
}

/** Base64 PCM16 little-endian (the wire) to samples, in a fresh aligned buffer. Throws on an odd byte count. */
export function decodePcm16(base64: string): Int16Array {
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length % 2 !== 0) throw new RangeError(`audio delta of ${bytes.length} bytes is not whole PCM16 samples`);
  const out = new Int16Array(bytes.length / 2);
  // Node runs little-endian on every platform it supports (x64, arm64), as is the wire.
  Buffer.from(out.buffer).set(bytes);
  return out;
}

/** Samples to base64 PCM16 little-endian. */
export function encodePcm16(samples: Int16Array): string {
  return Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength).toString('base64');
}

/** Ms of `samples` at 24 kHz. */
export function pcmMs(samples: number): number {
  return (samples / REALTIME_SAMPLE_RATE) * 1000;
}
