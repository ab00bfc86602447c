/**
 * Deepgram live server messages → SttEvents. Only the fields the cascade uses are read, each
 * checked, so a message of another shape is reported as unusable instead of throwing.
 *
 * `Results`: channel.alternatives[0].transcript; `is_final` false → interim, true → final, with
 * `speech_final` (Deepgram's endpointing judged the caller done) as the end of turn.
 * `UtteranceEnd` (its word-gap detector) also ends the turn, but only when a final arrived since
 * the last end of turn: after a `speech_final` it adds nothing.
 */
import type { SttEvent } from '../types.ts';

/** Transcripts longer than this are cut (a live result covers seconds of speech; 8 KiB is the transcript event's own limit). */
export const MAX_TRANSCRIPT_CHARS = 8192;

export type ParsedMessage =
  | { kind: 'event'; event: SttEvent }
  /** Understood, nothing for the cascade (Metadata, an empty interim, an UtteranceEnd with no turn open). */
  | { kind: 'ignored'; type: string }
  | { kind: 'unusable'; reason: string };

export class DeepgramMessageParser {
  /** A final arrived since the last end of turn. */
  #turnOpen = false;

  parse(text: string, at: number): ParsedMessage {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return { kind: 'unusable', reason: 'not JSON' };
    }
    if (typeof msg !== 'object' || msg === null) return { kind: 'unusable', reason: 'not an object' };
    const m = msg as Record<string, unknown>;
    switch (m.type) {
      case 'Results':
        return this.#results(m, at);
      case 'SpeechStarted':
        return { kind: 'event', event: { type: 'speech-started', at } };
      case 'UtteranceEnd':
        if (!this.#turnOpen) return { kind: 'ignored', type: 'UtteranceEnd' };
        this.#turnOpen = false;
        return { kind: 'event', event: { type: 'final', text: '', endOfTurn: true, at } };
      case 'Metadata':
        return { kind: 'ignored', type: 'Metadata' };
      default:
        return { kind: 'unusable', reason: `unknown type ${JSON.stringify(m.type)?.slice(0, 40)}` };
    }
  }

  #results(m: Record<string, unknown>, at: number): ParsedMessage {
    const channel = m.channel as { alternatives?: unknown } | undefined;
    const alt = Array.isArray(channel?.alternatives) ? (channel.alternatives[0] as { transcript?: unknown; words?: unknown } | undefined) : undefined;
    if (typeof alt?.transcript !== 'string') return { kind: 'unusable', reason: 'Results without channel.alternatives[0].transcript' };
    const text = alt.transcript.trim().slice(0, MAX_TRANSCRIPT_CHARS);
    if (m.is_final !== true) return text ? { kind: 'event', event: { type: 'interim', text, at } } : { kind: 'ignored', type: 'Results' };
    const endOfTurn = m.speech_final === true;
    if (!text && !endOfTurn) return { kind: 'ignored', type: 'Results' };
    this.#turnOpen = !endOfTurn && (this.#turnOpen || text.length > 0);
    const audioEndMs = text ? speechEndMs(alt, m) : undefined;
    return { kind: 'event', event: { type: 'final', text, endOfTurn, at, ...(audioEndMs !== undefined && { audioEndMs }) } };
  }
}

/** The end of the recognized words in the stream's audio (ms): the last word's `end`, else `start + duration` (seconds). */
function speechEndMs(alt: { words?: unknown }, m: Record<string, unknown>): number | undefined {
  const words = Array.isArray(alt.words) ? (alt.words as Array<{ end?: unknown }>) : [];
  const lastEnd = words.at(-1)?.end;
  const end = typeof lastEnd === 'number' ? lastEnd : typeof m.start === 'number' && typeof m.duration === 'number' ? m.start + m.duration : undefined;
  return end !== undefined && Number.isFinite(end) && end >= 0 ? Math.round(end * 1000) : undefined;
}
