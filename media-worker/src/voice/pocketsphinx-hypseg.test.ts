import { describe, expect, it } from 'vitest';
import { parseHypseg } from './pocketsphinx-hypseg.ts';

describe('parseHypseg', () => {
  it('takes the words, drops fillers and pronunciation marks, scores the speech frames only', () => {
    // A line pocketsphinx_batch wrote for Flite's "what time is it" (alternate "what(2)" added).
    const line =
      'u7 S 0 T -2355 A -1681 L -674 -1 0 0 (NULL) 0 -178 -337 <sil> 21 -423 0 what(2) 39 -222 0 time 64 -131 0 is 78 -498 0 it 96 0 0 (NULL) 97 -229 -337 <sil> 110';
    const h = parseHypseg(line);
    expect(h.uttId).toBe('u7');
    expect(h.words).toEqual(['what', 'time', 'is', 'it']);
    expect(h.speechFrames).toBe(96 - 21);
    expect(h.scorePerFrame).toBeCloseTo((-423 - 222 - 131 - 498) / 75, 6);
  });

  it('an utterance that matched nothing has no words and score 0', () => {
    const h = parseHypseg('u3 S 0 T 0 A 0 L 0 117');
    expect(h).toEqual({ uttId: 'u3', words: [], speechFrames: 0, scorePerFrame: 0 });
  });

  it('rejects lines that are not hypseg', () => {
    expect(() => parseHypseg('INFO: batch.c(...) hello')).toThrow(/unexpected hypseg line/);
    expect(() => parseHypseg('u1 S 0 T 0 A 0 L 0 x -1 0 what 5')).toThrow(/unexpected hypseg line/);
  });
});
