import { ProtocolError } from './errors.ts';

/** The stream protocol's messages as docs/stream-protocol.md defines them, and their validation. */

/** At most 16 KiB per message, both directions. */
export const MAX_MESSAGE_BYTES = 16 * 1024;
/** Reply audio comes in 20 ms frames. */
export const FRAME_MS = 20;
export const PCM16_SAMPLE_RATES = [8000, 16000, 24000, 48000] as const;

export type Pcm16SampleRate = (typeof PCM16_SAMPLE_RATES)[number];
/** The only format this client sends and plays: signed 16-bit little-endian mono. */
export interface Pcm16Format {
  encoding: 'pcm16';
  sampleRate: Pcm16SampleRate;
}
/** Any format the spec allows; `started` may announce either. */
export type AudioFormat = Pcm16Format | { encoding: 'opus'; sampleRate: 48000 };

/** A handler or pipeline event (`vad.start`, `reply.end`, `error`, `pong`, ...). */
export type ServerEvent = { type: string } & Record<string, unknown>;

export type ServerMessage =
  | { type: 'session'; id: string }
  | { type: 'started'; format: AudioFormat; output: AudioFormat }
  | { type: 'mark'; name: string }
  | { type: 'clear' }
  | { type: 'event'; event: ServerEvent };

export type Parsed = { ok: true; message: ServerMessage } | { ok: false; error: ProtocolError };

export function isPcm16SampleRate(x: unknown): x is Pcm16SampleRate {
  return (PCM16_SAMPLE_RATES as readonly unknown[]).includes(x);
}

/** A valid audio format object, or undefined. */
export function asAudioFormat(x: unknown): AudioFormat | undefined {
  if (typeof x !== 'object' || x === null) return undefined;
  const { encoding, sampleRate } = x as Record<string, unknown>;
  if (encoding === 'pcm16' && isPcm16SampleRate(sampleRate)) return { encoding, sampleRate };
  if (encoding === 'opus' && sampleRate === 48000) return { encoding, sampleRate };
  return undefined;
}

export function sameFormat(a: AudioFormat, b: AudioFormat): boolean {
  return a.encoding === b.encoding && a.sampleRate === b.sampleRate;
}

/** Parses and validates one server text frame. */
export function parseServerText(text: string): Parsed {
  const fail = (code: ConstructorParameters<typeof ProtocolError>[0], why: string): Parsed => ({
    ok: false,
    error: new ProtocolError(code, why, text),
  });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail('not-json', 'text frame is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('bad-message', 'text frame is not a JSON object');
  }
  const obj = value as Record<string, unknown>;
  if (typeof obj.type !== 'string' || obj.type === '') {
    return fail('bad-message', 'message has no string `type`');
  }
  switch (obj.type) {
    case 'session':
      if (typeof obj.id !== 'string' || !/^s_./.test(obj.id)) return fail('bad-session', '`session` needs an `s_...` id');
      return { ok: true, message: { type: 'session', id: obj.id } };
    case 'started': {
      const format = asAudioFormat(obj.format);
      const output = asAudioFormat(obj.output);
      if (!format || !output) return fail('bad-started', '`started` needs valid `format` and `output` audio formats');
      return { ok: true, message: { type: 'started', format, output } };
    }
    case 'mark':
      if (typeof obj.name !== 'string') return fail('bad-mark', '`mark` needs a string `name`');
      return { ok: true, message: { type: 'mark', name: obj.name } };
    case 'clear':
      return { ok: true, message: { type: 'clear' } };
    default:
      return { ok: true, message: { type: 'event', event: obj as ServerEvent } };
  }
}

/** The required first client message. `output` is left out when not given (same as `format`). */
export function startMessage(format: Pcm16Format, output?: Pcm16Format): string {
  const msg: Record<string, unknown> = { type: 'start', format: { encoding: format.encoding, sampleRate: format.sampleRate } };
  if (output) msg.output = { encoding: output.encoding, sampleRate: output.sampleRate };
  return JSON.stringify(msg);
}

/** The echo of a server mark. */
export function markMessage(name: string): string {
  return JSON.stringify({ type: 'mark', name });
}
