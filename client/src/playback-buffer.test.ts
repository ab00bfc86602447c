import { describe, expect, it } from 'vitest';
import { PlaybackBuffer } from './playback-buffer.ts';

// 8 kHz: a 20 ms slot is 160 samples. Time is driven by hand.
const frame = (value: number, n = 160) => new Int16Array(n).fill(value);

describe('PlaybackBuffer', () => {
  it('plays one 20 ms slot per tick and records when each started', () => {
    const b = new PlaybackBuffer<string>(8000);
    b.push(frame(1));
    b.push(frame(2, 80));
    expect(b.queuedMs).toBe(30);
    expect(b.tick(0)).toEqual([]);
    expect(b.tick(20)).toEqual([]);
    expect(b.tick(40)).toEqual([]); // ran out: silence, nothing recorded
    expect(b.heard.slots.map((s) => [s.atMs, s.samples.length, s.samples[0]])).toEqual([
      [0, 160, 1],
      [20, 80, 2],
    ]);
    expect(b.heard.ms).toBe(30);
    expect(Array.from(b.heard.audio())).toEqual([...frame(1), ...frame(2, 80)]);
  });

  it('reaches a mark only when the audio before it has finished playing', () => {
    const b = new PlaybackBuffer<string>(8000);
    b.push(frame(1));
    b.push(frame(1));
    expect(b.mark('m', 0)).toBe(false);
    expect(b.tick(0)).toEqual([]);
    expect(b.tick(20)).toEqual([]); // the last slot before the mark starts now
    expect(b.tick(40)).toEqual(['m']); // ...and has ended now
  });

  it('reaches a mark inside a slot at the end of that slot, never earlier', () => {
    const b = new PlaybackBuffer<string>(8000);
    b.push(frame(1, 80));
    b.mark('half', 0);
    b.push(frame(2, 80));
    expect(b.tick(0)).toEqual([]);
    expect(b.heard.slots[0]!.samples.length).toBe(160); // no gap at the mark
    expect(b.tick(20)).toEqual(['half']);
  });

  it('reaches a mark at once when nothing is queued or playing, and not while a slot still plays', () => {
    const b = new PlaybackBuffer<string>(8000);
    expect(b.mark('idle', 0)).toBe(true);
    b.push(frame(1));
    b.tick(100);
    expect(b.mark('during', 110)).toBe(false);
    expect(b.tick(120)).toEqual(['during']);
    expect(b.mark('after', 121)).toBe(true);
  });

  it('clear drops queued audio, the unplayed rest of the current slot and every unreached mark', () => {
    const b = new PlaybackBuffer<string>(8000);
    for (let i = 0; i < 5; i++) b.push(frame(i + 1));
    b.mark('a', 0);
    b.tick(0);
    b.tick(20); // slot 2 plays from 20 to 40
    const r = b.clear(25); // 5 ms = 40 samples of slot 2 played
    expect(r.droppedMarks).toEqual(['a']);
    expect(r.droppedSamples).toBe(120 + 3 * 160);
    expect(b.heard.samples).toBe(160 + 40);
    expect(b.queuedSamples).toBe(0);
    expect(b.mark('b', 26)).toBe(true); // nothing left to play
    expect(b.tick(40)).toEqual([]);
    expect(b.heard.samples).toBe(200);
  });

  it('clear between slots cuts nothing already heard', () => {
    const b = new PlaybackBuffer<string>(8000);
    b.push(frame(1, 80));
    b.tick(0); // 10 ms, over at 10
    b.push(frame(2));
    const r = b.clear(15);
    expect(r.droppedSamples).toBe(160);
    expect(b.heard.samples).toBe(80);
  });
});
