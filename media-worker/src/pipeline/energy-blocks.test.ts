import { describe, expect, it } from 'vitest';
import { audioFrame } from '../audio/frame.ts';
import { energyBlocks } from './energy-blocks.ts';

describe('energyBlocks', () => {
  it('cuts a 20 ms frame into two 10 ms blocks with their rms, at any sample rate', () => {
    for (const rate of [8000, 16000, 48000, 44100]) {
      const n = Math.round(rate * 0.02);
      const s = new Int16Array(n);
      const half = Math.round(rate * 0.01);
      for (let i = 0; i < n; i++) s[i] = i < half ? (i % 2 ? 1000 : -1000) : 0;
      const blocks = energyBlocks(audioFrame(s, rate), 100);
      expect(blocks).toHaveLength(2);
      expect(blocks[0]!.startMs).toBe(100);
      expect(blocks[0]!.endMs).toBeCloseTo(100 + (half * 1000) / rate, 6);
      expect(blocks[0]!.rms).toBeCloseTo(1000, 6);
      expect(blocks[1]!.endMs).toBeCloseTo(120, 6);
      expect(blocks[1]!.rms).toBe(0);
    }
  });

  it('tiles a frame that is not a multiple of the block: the last block is shorter', () => {
    const blocks = energyBlocks(audioFrame(new Int16Array(400).fill(300), 16000), 0); // 25 ms
    expect(blocks.map((b) => [b.startMs, b.endMs])).toEqual([
      [0, 10],
      [10, 20],
      [20, 25],
    ]);
    for (const b of blocks) expect(b.rms).toBeCloseTo(300, 6);
  });

  it('counts every channel of interleaved stereo on the frame time base', () => {
    const s = new Int16Array(960 * 2).map((_, i) => (i % 2 ? 0 : 2000)); // 20 ms at 48 kHz, left only
    const blocks = energyBlocks(audioFrame(s, 48000, 2), 0);
    expect(blocks.map((b) => b.endMs)).toEqual([10, 20]);
    expect(blocks[0]!.rms).toBeCloseTo(2000 / Math.SQRT2, 6);
  });
});
