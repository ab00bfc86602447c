import { describe, expect, it } from 'vitest';
import { SentenceSplitter } from './sentences.ts';

/** Feeds `text` in pieces of `size` chars (token-like), then flushes. */
function split(text: string, size = 3, options = {}): string[] {
  const s = new SentenceSplitter(options);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(...s.push(text.slice(i, i + size)));
  out.push(...s.flush());
  return out;
}

describe('SentenceSplitter', () => {
  it('cuts at sentence ends, each chunk trimmed and ending with a space', () => {
    expect(split('Hello there! How are you? I am fine.')).toEqual(['Hello there! ', 'How are you? ', 'I am fine. ']);
  });

  it('emits a sentence as soon as the whitespace after it arrives, not at the end', () => {
    const s = new SentenceSplitter();
    expect(s.push('It is sunny.')).toEqual([]);
    expect(s.push(' Tomorrow')).toEqual(['It is sunny. ']);
    expect(s.flush()).toEqual(['Tomorrow ']);
  });

  it('does not cut after abbreviations, initials or inside decimals', () => {
    expect(split('Dr. Smith paid $3.50 for it, e.g. coffee. J. R. R. Tolkien wrote it. Call Mrs. Jones at 5 p.m. today.', 2, { firstClauseMinChars: 1000 })).toEqual([
      'Dr. Smith paid $3.50 for it, e.g. coffee. ',
      'J. R. R. Tolkien wrote it. ',
      'Call Mrs. Jones at 5 p.m. today. ',
    ]);
  });

  it('ellipses: a lowercase continuation is the same sentence, a capital starts a new one', () => {
    expect(split('Well... maybe. Hmm… OK then.')).toEqual(['Well... maybe. ', 'Hmm… ', 'OK then. ']);
  });

  it('keeps closing quotes and brackets with their sentence; cuts at newlines', () => {
    expect(split('He said "stop." Then (quietly) left.\n- one\n- two')).toEqual(['He said "stop." ', 'Then (quietly) left. ', '- one ', '- two ']);
  });

  it('the first chunk may end at a clause boundary once long enough; later ones wait for the sentence', () => {
    const text = 'Sure, I can help you with that booking today, and then we will look at the rest, one step at a time.';
    expect(split(text, 4)).toEqual(['Sure, I can help you with that booking today, ', 'and then we will look at the rest, one step at a time. ']);
    expect(split('Sure, short one.')).toEqual(['Sure, short one. ']);
  });

  it('bounds a chunk without punctuation at maxChars, cutting at a space', () => {
    const words = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');
    const out = split(words, 5, { maxChars: 50, firstClauseMinChars: 1000 });
    expect(out.every((c) => c.length <= 51)).toBe(true);
    expect(out.join('').trim()).toBe(words);
  });

  it('flushes the remainder and ignores empty text', () => {
    expect(split('no end here')).toEqual(['no end here ']);
    expect(split('   ')).toEqual([]);
  });
});
