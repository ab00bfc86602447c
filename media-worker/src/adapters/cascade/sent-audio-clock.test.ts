import { describe, expect, it } from 'vitest';
import { MAX_ENTRIES, SentAudioClock } from './sent-audio-clock.ts';

describe('SentAudioClock', () => {
  it('says when the send that carried a point of the audio went out', () => {
    const c = new SentAudioClock();
    c.sent(20, 1000);
    c.sent(20, 1021);
    c.sent(20, 1040);
    expect(c.wallTimeOf(0)).toBe(1000);
    expect(c.wallTimeOf(20)).toBe(1000);
    expect(c.wallTimeOf(21)).toBe(1021);
    expect(c.wallTimeOf(60)).toBe(1040);
    expect(c.wallTimeOf(61)).toBeUndefined(); // not sent yet
  });

  it('keeps the last MAX_ENTRIES sends only', () => {
    const c = new SentAudioClock();
    for (let i = 0; i < MAX_ENTRIES + 10; i++) c.sent(20, i);
    expect(c.wallTimeOf(5)).toBeUndefined();
    expect(c.wallTimeOf((MAX_ENTRIES + 10) * 20)).toBe(MAX_ENTRIES + 9);
  });
});
