/**
 * What the caller heard of an interrupted reply, as a prefix of its text: the assistant's
 * message is cut to it so the next turn's LLM call does not believe it said the rest.
 *
 * By the TTS's word timings when it gave them: the words that ended by the time playback was
 * cut (`endMs <= heardMs`), mapped back onto the reply's text (punctuation kept). Otherwise by
 * time: the share of characters equal to the share of audio heard when the whole reply's audio
 * is known, else at a speaking rate of ~15 characters per second (150 words a minute at ~6
 * characters a word with the space). Both cut at a word boundary: a word half heard is dropped.
 */
import type { WordTiming } from '../types.ts';

export const CHARS_PER_SECOND = 15;

export function heardByWords(text: string, words: readonly WordTiming[], heardMs: number): string {
  const heard = words.filter((w) => w.endMs <= heardMs && w.word.trim());
  const lower = text.toLowerCase();
  let cursor = 0;
  for (const w of heard) {
    const at = lower.indexOf(w.word.trim().toLowerCase(), cursor);
    // A word the TTS spelled differently ("three point five" for "3.5"): its own words then.
    if (at < 0) return heard.map((h) => h.word.trim()).join(' ');
    cursor = at + w.word.trim().length;
  }
  while (cursor < text.length && /[^\s\p{L}\p{N}]/u.test(text[cursor]!)) cursor++;
  return text.slice(0, cursor).trim();
}

export function heardByTime(text: string, heardMs: number, audioMs: number, audioComplete: boolean): string {
  const chars = audioComplete && audioMs > 0 ? (text.length * heardMs) / audioMs : (heardMs / 1000) * CHARS_PER_SECOND;
  return cutAtWord(text, Math.floor(chars));
}

/** The first `chars` characters, without a word cut in the middle. */
export function cutAtWord(text: string, chars: number): string {
  if (chars >= text.length) return text.trim();
  if (chars <= 0) return '';
  if (/\s/.test(text[chars]!)) return text.slice(0, chars).trim();
  const space = text.lastIndexOf(' ', chars);
  return space < 0 ? '' : text.slice(0, space).trim();
}
