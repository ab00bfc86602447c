import { beforeAll, describe, expect, it } from 'vitest';
import { audioFrame, type AudioFrame } from './frame.ts';
import { concatFrames, rms } from './pcm.ts';
import { initResampler, resampleOnce, StreamResampler } from './resampler.ts';

function sine(hz: number, rate: number, n: number, amp = 10000): Int16Array {
  const a = new Int16Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.round(amp * Math.sin((2 * Math.PI * hz * i) / rate));
  return a;
}

function zeroCrossings(s: Int16Array, from = 0, to = s.length): number {
  let n = 0;
  for (let i = from + 1; i < to; i++) if ((s[i - 1]! < 0) !== (s[i]! < 0)) n++;
  return n;
}

/** Streams `frame` through `r` in the given (cycled) chunk sizes, then flushes. */
function stream(r: StreamResampler, frame: AudioFrame, sizes: readonly number[]): AudioFrame {
  const out: AudioFrame[] = [];
  const ch = frame.channels;
  let off = 0;
  for (let k = 0; off < frame.samples.length; k++) {
    const n = sizes[k % sizes.length]! * ch;
    out.push(r.process(audioFrame(frame.samples.subarray(off, off + n), frame.sampleRate, ch)));
    off += n;
  }
  out.push(r.flush());
  return concatFrames(out);
}

const ODD = [1, 7, 333, 480, 1001, 13, 2999];

describe('StreamResampler', () => {
  beforeAll(async () => {
    await initResampler();
  });

  it('48k -> 16k -> 48k in odd chunks keeps the frequency and the duration', () => {
    const n = 48000; // 1 s of 1 kHz
    const input = audioFrame(sine(1000, 48000, n), 48000);
    const down = stream(new StreamResampler(48000, 16000, 1), input, ODD);
    expect(down.sampleRate).toBe(16000);
    expect(Math.abs(down.samples.length - 16000)).toBeLessThanOrEqual(2);
    const up = stream(new StreamResampler(16000, 48000, 1), down, [5, 160, 7, 999]);
    expect(up.sampleRate).toBe(48000);
    expect(Math.abs(up.samples.length - n)).toBeLessThanOrEqual(3);
    // 1 kHz for 1 s = 2000 zero crossings; edges excluded because of the filter ramps.
    expect(Math.abs(zeroCrossings(down.samples, 800, 15200) - 1800)).toBeLessThanOrEqual(2);
    expect(Math.abs(zeroCrossings(up.samples, 2400, 45600) - 1800)).toBeLessThanOrEqual(2);
    // Aligned in time (skip_zeros): the round trip matches the input sample for sample, give or take the filter.
    let err = 0;
    for (let i = 2400; i < 45600; i++) err += (up.samples[i]! - input.samples[i]!) ** 2;
    expect(Math.sqrt(err / 43200)).toBeLessThan(0.05 * rms(input));
  });

  it('streamed output equals one-shot output', async () => {
    const input = audioFrame(sine(440, 44100, 10000), 44100);
    const once = await resampleOnce(input, 16000);
    const streamed = stream(await StreamResampler.create(44100, 16000, 1), input, ODD);
    expect(Array.from(streamed.samples)).toEqual(Array.from(once.samples));
    expect(once.samples.length).toBe(Math.round((10000 * 16000) / 44100));
  });

  it('8k -> 48k upsamples stereo with the exact length', () => {
    const n = 8000;
    const st = new Int16Array(2 * n);
    const l = sine(300, 8000, n);
    const r = sine(700, 8000, n);
    for (let i = 0; i < n; i++) {
      st[2 * i] = l[i]!;
      st[2 * i + 1] = r[i]!;
    }
    const out = stream(new StreamResampler(8000, 48000, 2, 3), audioFrame(st, 8000, 2), [160, 33, 1]);
    expect(out.channels).toBe(2);
    expect(out.samples.length).toBe(2 * 48000);
    const left = new Int16Array(48000);
    const right = new Int16Array(48000);
    for (let i = 0; i < 48000; i++) {
      left[i] = out.samples[2 * i]!;
      right[i] = out.samples[2 * i + 1]!;
    }
    expect(Math.abs(zeroCrossings(left, 2400, 45600) - 540)).toBeLessThanOrEqual(2); // 300 Hz * 0.9 s * 2
    expect(Math.abs(zeroCrossings(right, 2400, 45600) - 1260)).toBeLessThanOrEqual(2);
  });

  it('identity passes frames through untouched', async () => {
    const r = new StreamResampler(24000, 24000, 1);
    expect(r.isIdentity).toBe(true);
    const f = audioFrame(sine(100, 24000, 480), 24000);
    expect(r.process(f)).toBe(f);
    expect(r.flush().samples.length).toBe(0);
    r.destroy();
    expect(await resampleOnce(f, 24000)).toBe(f);
  });

  it('rejects the wrong input rate or channel count, and use after destroy', () => {
    const r = new StreamResampler(48000, 16000, 1);
    expect(() => r.process(audioFrame(new Int16Array(160), 16000))).toThrow(/expects 48000 Hz input, got 16000 Hz/);
    expect(() => r.process(audioFrame(new Int16Array(160), 48000, 2))).toThrow(/channel/);
    r.destroy();
    r.destroy();
    expect(() => r.process(audioFrame(new Int16Array(160), 48000))).toThrow(/destroyed/);
    expect(() => new StreamResampler(48000, 16000, 1, 11)).toThrow(/quality/);
    expect(() => new StreamResampler(0, 16000)).toThrow(/fromRate/);
  });

  it('reset drops the stream so far; flush lets a new stream start clean', () => {
    const r = new StreamResampler(16000, 8000, 1);
    const a = audioFrame(sine(500, 16000, 1600), 16000);
    const first = concatFrames([r.process(a), r.flush()]);
    const second = concatFrames([r.process(a), r.flush()]);
    expect(Array.from(second.samples)).toEqual(Array.from(first.samples));
    r.process(a);
    r.reset();
    const third = concatFrames([r.process(a), r.flush()]);
    expect(Array.from(third.samples)).toEqual(Array.from(first.samples));
    r.destroy();
  });
});
