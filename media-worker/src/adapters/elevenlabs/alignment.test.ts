import { describe, expect, it } from 'vitest';
import { AlignmentWords, parseAlignment } from './alignment.ts';

const align = (text: string, msPerChar: number) => ({
  chars: [...text],
  charStartTimesMs: [...text].map((_, i) => i * msPerChar),
  charDurationsMs: [...text].map(() => msPerChar),
});

describe('AlignmentWords', () => {
  it('makes words with start and end, offset onto the reply timeline', () => {
    const w = new AlignmentWords();
    expect(w.add(align('Hi you. ', 10), 1000)).toEqual([
      { word: 'Hi', startMs: 1000, endMs: 1020 },
      { word: 'you.', startMs: 1030, endMs: 1070 },
    ]);
    expect(w.flush()).toEqual([]);
  });

  it('joins a word split across two messages, each with its own offset', () => {
    const w = new AlignmentWords();
    expect(w.add(align('one tw', 10), 0)).toEqual([{ word: 'one', startMs: 0, endMs: 30 }]);
    expect(w.add(align('o three', 10), 60)).toEqual([{ word: 'two', startMs: 40, endMs: 70 }]);
    expect(w.flush()).toEqual([{ word: 'three', startMs: 80, endMs: 130 }]);
  });
});

describe('parseAlignment', () => {
  it('accepts both spellings of the durations field', () => {
    expect(parseAlignment({ chars: ['a'], charStartTimesMs: [0], charDurationsMs: [5] })?.charDurationsMs).toEqual([5]);
    expect(parseAlignment({ chars: ['a'], charStartTimesMs: [0], charsDurationsMs: [6] })?.charDurationsMs).toEqual([6]);
    expect(parseAlignment(null)).toBeUndefined();
  });

  it('rejects mismatched or non-numeric arrays with a clear error', () => {
    expect(() => parseAlignment({ chars: ['a', 'b'], charStartTimesMs: [0], charDurationsMs: [1, 1] })).toThrow('differ in length');
    expect(() => parseAlignment({ chars: ['a'], charStartTimesMs: ['x'], charDurationsMs: [1] })).toThrow('entry 0');
    expect(() => parseAlignment({ chars: 'a' })).toThrow('arrays');
  });
});
