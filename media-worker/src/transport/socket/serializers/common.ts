/**
 * What every provider serializer does the same way: refuse binary frames on text-only streams,
 * turn a schema refusal into an Error (or into `ignored` when the message is a well-formed event
 * this version does not know), and check reply frames against the stream's output format.
 */
import type { ParseResult } from '@switchboard/protocol';
import type { AudioFrame } from '../../../audio/frame.ts';
import type { InboundEvent, StreamStart, WireMessage } from '../serializer.ts';

/** The text of a message on a JSON-only stream; a binary frame is refused. */
export function textOf(data: WireMessage, who: string): string {
  if (typeof data !== 'string') throw new Error(`${who}: binary frame (${data.byteLength} bytes) where JSON text is expected`);
  return data;
}

/** Caller-supplied text bounded and printable, for error messages and logs. */
export function printable(text: string, max = 40): string {
  return text.slice(0, max).replace(/[^\x20-\x7e]/g, '?');
}

/**
 * The parsed message, or `ignored` for a JSON object whose `key` names an event outside `known`
 * (providers add events; an unknown one is not an error). Anything else the schema refused
 * throws with the schema's explanation.
 */
export function parsedOrIgnored<T>(
  result: ParseResult<T>,
  text: string,
  key: string,
  known: readonly string[],
): { value: T } | InboundEvent {
  if (result.ok) return { value: result.value };
  const name = eventName(text, key);
  if (name !== null && !known.includes(name)) return { kind: 'ignored', what: `event ${printable(name)}` };
  throw new Error(result.error);
}

function eventName(text: string, key: string): string | null {
  try {
    const raw: unknown = JSON.parse(text);
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
    const name = (raw as Record<string, unknown>)[key];
    return typeof name === 'string' ? name : null;
  } catch {
    return null;
  }
}

/** Reply audio must already be mono at the output rate (the transport resamples), and not empty. */
export function checkReplyFrame(start: StreamStart, frame: AudioFrame, who: string): void {
  if (frame.sampleRate !== start.output.sampleRate || frame.channels !== 1) {
    throw new Error(
      `${who} encodeMedia: expected ${start.output.sampleRate} Hz mono, got ${frame.sampleRate} Hz/${frame.channels} ch`,
    );
  }
  if (frame.samples.length === 0) throw new Error(`${who} encodeMedia: empty frame`);
}

/** The stream's format, or an Error for media that arrives before its `start`. */
export function requireStart(start: StreamStart | undefined, who: string): StreamStart {
  if (!start) throw new Error(`${who} media: audio before the stream's start`);
  return start;
}
