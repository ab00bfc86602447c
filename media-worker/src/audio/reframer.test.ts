import { describe, expect, it } from 'vitest';
import { audioFrame } from './frame.ts';
import { Reframer } from './reframer.ts';

/** A ramp 0, 1, 2, ... so order and continuity are easy to check. */
function ramp(from: number, n: number, channels = 1): Int16Array {
  const a = new Int16Array(n * channels);
  for (let i = 0; i < n; i++) for (let c = 0; c < channels; c++) a[i * channels + c] = (from + i) * (c === 0 ? 1 : -1);
  return a;
}

describe('Reframer', () => {
  it('cuts odd-sized chunks into exact frames and keeps the remainder', () => {
    const r = new Reframer(16000, 1, 20); // 320 samples
    const out: Int16Array[] = [];
    let pos = 0;
    for (const n of [1, 77, 500, 319, 3, 1000, 41]) {
      for (const f of r.push(audioFrame(ramp(pos, n), 16000))) {
        expect(f.sampleRate).toBe(16000);
        expect(f.samples.length).toBe(320);
        out.push(f.samples);
      }
      pos += n;
    }
    expect(out.length).toBe(Math.floor(pos / 320));
    expect(r.pendingSamples()).toBe(pos % 320);
    const all = out.flatMap((s) => Array.from(s));
    expect(all).toEqual(Array.from(ramp(0, all.length)));
  });

  it('flush pads the remainder with silence, or returns it short', () => {
    const r = new Reframer(8000, 2, 10); // 80 samples per channel
    expect(r.push(audioFrame(ramp(1, 30, 2), 8000, 2))).toEqual([]);
    const padded = r.flush();
    expect(padded?.samples.length).toBe(160);
    expect(Array.from(padded!.samples.subarray(0, 4))).toEqual([1, -1, 2, -2]);
    expect(padded!.samples.subarray(60).every((x) => x === 0)).toBe(true);
    expect(r.flush()).toBeNull();
    r.push(audioFrame(ramp(1, 5, 2), 8000, 2));
    expect(r.flush(false)?.samples.length).toBe(10);
    r.push(audioFrame(ramp(1, 5, 2), 8000, 2));
    r.clear();
    expect(r.flush()).toBeNull();
  });

  it('frames do not alias the input or each other', () => {
    const r = new Reframer(48000, 1, 2.5); // 120 samples: any whole number of samples works
    const input = ramp(0, 250);
    const frames = r.push(audioFrame(input, 48000));
    expect(frames.length).toBe(2);
    input.fill(0);
    expect(frames[1]!.samples[0]).toBe(120);
  });

  it('rejects mismatched rates and non-integer frame sizes', () => {
    const r = new Reframer(48000, 1, 20);
    expect(() => r.push(audioFrame(new Int16Array(10), 16000))).toThrow(/48000 Hz/);
    expect(() => r.push(audioFrame(new Int16Array(10), 48000, 2))).toThrow(/1 ch/);
    expect(() => new Reframer(22050, 1, 2.5)).toThrow(/whole number/);
  });
});
