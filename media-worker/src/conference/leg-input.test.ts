import { describe, expect, it } from 'vitest';
import { audioFrame } from '../audio/frame.ts';
import { isResamplerReady } from '../audio/resampler.ts';
import { LegInput } from './leg-input.ts';
import { ConferenceMixer } from './mixer.ts';
import { toneAmplitude, toneFrame } from './tone.test-helper.ts';

// Tests run in order: the first ones need the resampler wasm not yet loaded in this file's worker.
describe('LegInput', () => {
  it('takes audio at the session rate without the resampler', () => {
    expect(isResamplerReady()).toBe(false);
    const leg = new LegInput('a', 16000, 20);
    leg.push(audioFrame(new Int16Array(640).fill(5), 16000));
    const out = new Int16Array(320);
    expect(leg.read(out)).toBe(true);
    expect(out.every((s) => s === 5)).toBe(true);
  });

  it('refuses audio at another rate, with the fix, until the resampler is loaded', () => {
    const leg = new LegInput('phone', 16000, 20);
    expect(() => leg.push(audioFrame(new Int16Array(160), 8000))).toThrow(/leg phone: 8000 Hz audio .* await initResampler\(\)/);
  });

  it('resamples once ConferenceMixer.create has loaded it, and keeps the stream across a rate change', async () => {
    const m = await ConferenceMixer.create({ sampleRate: 16000 });
    const leg = m.addLeg('browser');
    const out = new Int16Array(320);
    const before: number[] = [];
    const after: number[] = [];
    // 48 kHz for 400 ms, then the same tone at 8 kHz (a renegotiated stream).
    for (let k = 0; k < 40; k++) {
      leg.push(k < 20 ? toneFrame(500, 48000, 20, k, 6000) : toneFrame(500, 8000, 20, k, 6000));
      leg.read(out);
      if (k >= 5 && k < 19) before.push(...out);
      if (k >= 25) after.push(...out);
    }
    expect(leg.stats().underruns).toBe(0);
    for (const part of [before, after]) {
      const a = toneAmplitude(Int16Array.from(part), 500, 16000);
      expect(a).toBeGreaterThan(6000 * 0.95);
      expect(a).toBeLessThan(6000 * 1.05);
    }
    leg.close();
    expect(() => leg.push(toneFrame(500, 8000, 20, 0, 1))).toThrow(/closed/);
  });
});
