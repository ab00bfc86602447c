import { describe, expect, it } from 'vitest';
import { MAX_PIECE_CHARS, normalizeForFlite, splitForSpeech } from './say-text.ts';

describe('normalizeForFlite', () => {
  it('makes typography ASCII, drops accents, emoji and control characters, keeps newlines', () => {
    expect(normalizeForFlite('  \u201cNa\u00efve\u201d caf\u00e9 \u2014 it\u2019s fine\u2026 \u{1f600}\tok\r\n\r\nnext  ')).toBe(
      '"Naive" cafe - it\'s fine... ok\nnext',
    );
    expect(normalizeForFlite('salt & pepper')).toBe('salt and pepper');
    expect(normalizeForFlite(' \n\t ')).toBe('');
  });
});

describe('splitForSpeech', () => {
  it('splits at sentence ends and newlines, keeping the punctuation', () => {
    expect(splitForSpeech('Hello there! How are you? I am fine. "Really." Yes\nNew line')).toEqual([
      'Hello there!',
      'How are you?',
      'I am fine.',
      '"Really."',
      'Yes',
      'New line',
    ]);
  });

  it('does not split after abbreviations, initials or inside numbers', () => {
    expect(splitForSpeech('Dr. Smith met J. R. Tolkien at 3.30 p.m. today. Then e.g. tea.')).toEqual([
      'Dr. Smith met J. R. Tolkien at 3.30 p.m. today.',
      'Then e.g. tea.',
    ]);
  });

  it('drops pieces with nothing to say', () => {
    expect(splitForSpeech('... !! Hi. ?')).toEqual(['Hi.']);
  });

  it('cuts long sentences at clause marks, else between words', () => {
    const clause = `${'word '.repeat(30).trim()}, ${'more '.repeat(30).trim()}, ${'end '.repeat(30).trim()}.`;
    const pieces = splitForSpeech(clause);
    expect(pieces.length).toBeGreaterThan(1);
    for (const p of pieces) expect(p.length).toBeLessThanOrEqual(MAX_PIECE_CHARS);
    expect(pieces[0]!.endsWith(',')).toBe(true);
    expect(pieces.join(' ')).toBe(clause);
    const runOn = 'abc '.repeat(200).trim();
    const cut = splitForSpeech(runOn);
    for (const p of cut) expect(p.length).toBeLessThanOrEqual(MAX_PIECE_CHARS);
    expect(cut.join(' ')).toBe(runOn);
    expect(splitForSpeech('x'.repeat(500)).map((p) => p.length)).toEqual([MAX_PIECE_CHARS, MAX_PIECE_CHARS, 20]);
  });
});
