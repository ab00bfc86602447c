/** InputConverter: in-place conversion when no wasm must load, waiting only for the first load. */
import { describe, expect, it } from 'vitest';
import { audioFrame, type AudioFrame } from '../audio/frame.ts';
import { isResamplerReady, StreamResampler } from '../audio/resampler.ts';
import { InputConverter } from './input-converter.ts';

function tone(rate: number, channels: 1 | 2, ms: number, offset: number): AudioFrame {
  const n = (rate * ms) / 1000;
  const s = new Int16Array(n * channels);
  for (let i = 0; i < n; i++) for (let c = 0; c < channels; c++) s[i * channels + c] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * (offset + i)) / rate));
  return audioFrame(s, rate, channels);
}

describe('InputConverter', () => {
  it('converts a call at the handler rate in place (mono, no wait), before any resampler wasm is loaded', () => {
    expect(isResamplerReady()).toBe(false); // this file runs in its own worker: nothing loaded it
    const c = new InputConverter(48000);
    const out = c.convertNow(tone(48000, 2, 20, 0));
    expect(out).toBeDefined();
    expect(out!.sampleRate).toBe(48000);
    expect(out!.channels).toBe(1);
    expect(out!.samples.length).toBe(960);
    c.close();
  });

  it('a frame that needs the resampler before its wasm loaded waits in convert(); later frames convert in place, one continuous stream', async () => {
    const c = new InputConverter(16000);
    const frames = Array.from({ length: 10 }, (_, k) => tone(8000, 1, 20, k * 160));
    expect(c.convertNow(frames[0]!)).toBeUndefined();
    const got: AudioFrame[] = [await c.convert(frames[0]!)];
    expect(isResamplerReady()).toBe(true);
    for (const f of frames.slice(1)) {
      const now = c.convertNow(f);
      expect(now).toBeDefined();
      got.push(now!);
    }
    // The same as one resampler fed every frame in order: no frame restarted the stream.
    const ref = new StreamResampler(8000, 16000, 1);
    const want = frames.map((f) => ref.process(f));
    expect(got.map((f) => f.sampleRate)).toEqual(want.map(() => 16000));
    expect(Array.from(got.flatMap((f) => Array.from(f.samples)))).toEqual(Array.from(want.flatMap((f) => Array.from(f.samples))));
    ref.destroy();
    c.close();
  });

  it('a caller rate change mid-call starts a new resampler for the new rate', () => {
    const c = new InputConverter(16000);
    const a = c.convertNow(tone(8000, 1, 20, 0)); // wasm loaded by the test before
    const b = c.convertNow(tone(48000, 2, 20, 0));
    expect(a?.sampleRate).toBe(16000);
    expect(b?.sampleRate).toBe(16000);
    expect(b!.samples.length).toBeGreaterThan(200);
    expect(b!.samples.length).toBeLessThanOrEqual(320);
    c.close();
    expect(() => c.convertNow(tone(8000, 1, 20, 0))).toThrow(/closed/);
  });
});
