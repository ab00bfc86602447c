/**
 * Turns ElevenLabs' character alignment into word timings on the reply's timeline.
 *
 * Each audio message carries `alignment {chars, charStartTimesMs, charDurationsMs}` whose times
 * are "relative to the returned chunk from the model, and not the full audio response" (ElevenLabs
 * API reference, "WebSocket" / stream-input, Alignment schema). The caller passes `offsetMs`, where
 * that message's audio starts in the reply (from the PCM bytes received before it), so the words
 * are cumulative across the whole reply. A word may straddle two messages: the characters after the
 * last whitespace are held until the next message (or `flush()`).
 */
import type { WordTiming } from '../types.ts';

export interface CharAlignment {
  readonly chars: readonly string[];
  readonly charStartTimesMs: readonly number[];
  readonly charDurationsMs: readonly number[];
}

/** Reads an alignment object off the wire: `charDurationsMs` as sent, or `charsDurationsMs` as the reference spells it. */
export function parseAlignment(value: unknown): CharAlignment | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'object') throw new Error('alignment is not an object');
  const v = value as Record<string, unknown>;
  const chars = v.chars;
  const starts = v.charStartTimesMs;
  const durations = v.charDurationsMs ?? v.charsDurationsMs;
  if (!Array.isArray(chars) || !Array.isArray(starts) || !Array.isArray(durations)) {
    throw new Error('alignment needs chars, charStartTimesMs and charDurationsMs arrays');
  }
  if (starts.length !== chars.length || durations.length !== chars.length) {
    throw new Error(`alignment arrays differ in length (${chars.length} chars, ${starts.length} starts, ${durations.length} durations)`);
  }
  for (let i = 0; i < chars.length; i++) {
    const s = starts[i] as unknown;
    const d = durations[i] as unknown;
    if (typeof chars[i] !== 'string' || typeof s !== 'number' || !Number.isFinite(s) || s < 0 || typeof d !== 'number' || !Number.isFinite(d) || d < 0) {
      throw new Error(`alignment entry ${i} is not a character with a start and duration >= 0`);
    }
  }
  return { chars: chars as string[], charStartTimesMs: starts as number[], charDurationsMs: durations as number[] };
}

/** The longest word kept (characters); a provider sending no spaces cannot grow it further. */
const MAX_WORD_CHARS = 200;

export class AlignmentWords {
  #word = '';
  #startMs = 0;
  #endMs = 0;

  /** The words this message's characters complete, in ms from the start of the reply. */
  add(alignment: CharAlignment, offsetMs: number): WordTiming[] {
    const words: WordTiming[] = [];
    const { chars, charStartTimesMs, charDurationsMs } = alignment;
    for (let i = 0; i < chars.length; i++) {
      const char = chars[i]!;
      if (char.trim() === '') {
        this.#emit(words);
        continue;
      }
      const start = offsetMs + charStartTimesMs[i]!;
      if (this.#word === '') this.#startMs = start;
      if (this.#word.length < MAX_WORD_CHARS) this.#word += char;
      this.#endMs = Math.max(this.#endMs, start + charDurationsMs[i]!);
    }
    return words;
  }

  /** The word still open at the end of the reply, if any. */
  flush(): WordTiming[] {
    const words: WordTiming[] = [];
    this.#emit(words);
    return words;
  }

  #emit(into: WordTiming[]): void {
    if (this.#word === '') return;
    into.push({ word: this.#word, startMs: this.#startMs, endMs: this.#endMs });
    this.#word = '';
    this.#endMs = 0;
  }
}
