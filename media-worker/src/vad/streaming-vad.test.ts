import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { audioFrame, type AudioFrame } from '../audio/frame.ts';
import { readWav } from '../audio/pcm.ts';
import { resampleOnce } from '../audio/resampler.ts';
import { SileroModel } from './silero-model.ts';
import { StreamingVad, type VadFrame } from './streaming-vad.ts';

// Fixture timings (see test/fixtures/audio/README.md): exact sample counts of the generated files.
// hello-pause-question.wav, 16 kHz: silence 0-500 ms, phrase 1 500-2933 ms, silence 2933-4133 ms,
// phrase 2 4133-5269 ms, silence 5269-6269 ms.
const HELLO = { phrase1: [500, 2933], phrase2: [4133, 5269], totalMs: 6269 } as const;
// short-utterance.wav, 16 kHz: silence 0-500 ms, "Sounds good." 500-1243 ms, silence to 2243 ms.
const SHORT = { phrase: [500, 1243] } as const;
// speech-48k.wav, 48 kHz: silence 0-250 ms, phrase 1 250-2683 ms, silence to 2933 ms.
const S48 = { phrase: [250, 2683] } as const;

const FIXTURES = new URL('../../../test/fixtures/audio/', import.meta.url);

const readFixture = (name: string): AudioFrame => readWav(readFileSync(new URL(name, FIXTURES)));

/** Feeds `f` in `chunkMs` pieces, awaiting each push. */
async function run(vad: StreamingVad, f: AudioFrame, chunkMs = 20): Promise<VadFrame[]> {
  const step = Math.round((f.sampleRate * chunkMs) / 1000) * f.channels;
  const out: VadFrame[] = [];
  for (let i = 0; i < f.samples.length; i += step) {
    out.push(...(await vad.push(audioFrame(f.samples.subarray(i, Math.min(i + step, f.samples.length)), f.sampleRate, f.channels))));
  }
  return out;
}

/** Speech regions: start at prob >= 0.5, end below 0.35, pauses shorter than minSilenceMs merged. */
function regions(frames: readonly VadFrame[], minSilenceMs = 300): Array<[number, number]> {
  const raw: Array<[number, number]> = [];
  let start: number | undefined;
  for (const v of frames) {
    if (start === undefined && v.prob >= 0.5) start = v.startMs;
    else if (start !== undefined && v.prob < 0.35) {
      raw.push([start, v.startMs]);
      start = undefined;
    }
  }
  if (start !== undefined) raw.push([start, frames.at(-1)?.endMs ?? start]);
  const merged: Array<[number, number]> = [];
  for (const r of raw) {
    const last = merged.at(-1);
    if (last && r[0] - last[1] < minSilenceMs) last[1] = r[1];
    else merged.push([r[0], r[1]]);
  }
  return merged;
}

const within = (from: number, to: number) => (v: VadFrame) => v.startMs >= from && v.endMs <= to;

let model: SileroModel;
let hello: AudioFrame;
let hello16: VadFrame[];

beforeAll(async () => {
  model = await SileroModel.load();
  hello = readFixture('hello-pause-question.wav');
  hello16 = await run(new StreamingVad(model.createStream()), hello);
});

describe('StreamingVad on hello-pause-question.wav (16 kHz, 20 ms chunks)', () => {
  it('emits one 32 ms window per 512 samples, positioned in input time', () => {
    expect(hello.sampleRate).toBe(16_000);
    expect(hello16).toHaveLength(Math.floor(hello.samples.length / 512));
    hello16.forEach((v, i) => {
      expect(v.startMs).toBeCloseTo(i * 32, 9);
      expect(v.endMs).toBeCloseTo((i + 1) * 32, 9);
    });
  });

  it('gives silence low and speech high probability', () => {
    const silence = hello16.filter(
      (v) => within(0, HELLO.phrase1[0] - 50)(v) || within(HELLO.phrase1[1] + 150, HELLO.phrase2[0] - 50)(v) || within(HELLO.phrase2[1] + 150, HELLO.totalMs)(v),
    );
    const speech = hello16.filter((v) => within(HELLO.phrase1[0] + 100, HELLO.phrase1[1] - 100)(v) || within(HELLO.phrase2[0] + 100, HELLO.phrase2[1] - 100)(v));
    expect(silence.length).toBeGreaterThan(60);
    expect(speech.length).toBeGreaterThan(80);
    expect(Math.max(...silence.map((v) => v.prob))).toBeLessThan(0.1);
    // A comma pause ("Hello there, ...") leaves a few low windows inside phrase 1.
    expect(speech.filter((v) => v.prob >= 0.5).length / speech.length).toBeGreaterThan(0.9);
    expect(speech.reduce((s, v) => s + v.prob, 0) / speech.length).toBeGreaterThan(0.85);
  });

  it('finds the two phrases as two speech regions at the right times', () => {
    const r = regions(hello16);
    expect(r).toHaveLength(2);
    const [a, b] = r as [[number, number], [number, number]];
    expect(Math.abs(a[0] - HELLO.phrase1[0])).toBeLessThanOrEqual(96);
    expect(Math.abs(a[1] - HELLO.phrase1[1])).toBeLessThanOrEqual(128);
    expect(Math.abs(b[0] - HELLO.phrase2[0])).toBeLessThanOrEqual(96);
    expect(Math.abs(b[1] - HELLO.phrase2[1])).toBeLessThanOrEqual(128);
  });

  it('keeps silence low over a -50 dBFS noise floor', async () => {
    let seed = 1;
    const noise = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
    const noisy = Int16Array.from(hello.samples, (x) => Math.max(-32768, Math.min(32767, x + Math.round(noise() * 100))));
    const frames = await run(new StreamingVad(model.createStream()), audioFrame(noisy, 16_000));
    const silence = frames.filter((v) => within(0, HELLO.phrase1[0] - 50)(v) || within(HELLO.phrase1[1] + 150, HELLO.phrase2[0] - 50)(v));
    expect(Math.max(...silence.map((v) => v.prob))).toBeLessThan(0.1);
    expect(regions(frames)).toHaveLength(2);
  });

  it('does not depend on how the input is chunked', async () => {
    const whole = await new StreamingVad(model.createStream()).push(hello);
    const odd = await run(new StreamingVad(model.createStream()), hello, 7);
    expect(whole.map((v) => v.prob)).toEqual(hello16.map((v) => v.prob));
    expect(odd.map((v) => v.prob)).toEqual(hello16.map((v) => v.prob));
  });

  it('serialises pushes that are not awaited', async () => {
    const vad = new StreamingVad(model.createStream());
    const step = 320;
    const pending: Array<Promise<VadFrame[]>> = [];
    for (let i = 0; i < hello.samples.length; i += step) pending.push(vad.push(audioFrame(hello.samples.subarray(i, i + step), 16_000)));
    const frames = (await Promise.all(pending)).flat();
    expect(frames.map((v) => [v.startMs, v.prob])).toEqual(hello16.map((v) => [v.startMs, v.prob]));
  });
});

describe('StreamingVad at other rates and channel counts', () => {
  for (const rate of [48_000, 8_000]) {
    it(`gives the same result when the fixture is resampled to ${rate / 1000} kHz first`, async () => {
      const input = await resampleOnce(hello, rate);
      const frames = await run(new StreamingVad(model.createStream()), input);
      expect(Math.abs(frames.length - hello16.length)).toBeLessThanOrEqual(1);
      const n = Math.min(frames.length, hello16.length);
      let agree = 0;
      for (let i = 0; i < n; i++) if ((frames[i]?.prob ?? 0) >= 0.5 === (hello16[i]?.prob ?? 0) >= 0.5) agree++;
      expect(agree / n).toBeGreaterThan(0.95);
      const diffs = Array.from({ length: n }, (_, i) => Math.abs((frames[i]?.prob ?? 0) - (hello16[i]?.prob ?? 0)));
      // 48 kHz keeps the whole 0-8 kHz band; 8 kHz loses 4-8 kHz, so only the mean stays close there.
      expect(diffs.reduce((a, d) => a + d, 0) / n).toBeLessThan(rate === 48_000 ? 0.01 : 0.05);
      if (rate === 48_000) expect(Math.max(...diffs)).toBeLessThan(0.15);
      const r = regions(frames);
      const r16 = regions(hello16);
      expect(r).toHaveLength(r16.length);
      r.forEach(([s, e], i) => {
        expect(Math.abs(s - (r16[i]?.[0] ?? NaN))).toBeLessThanOrEqual(64);
        expect(Math.abs(e - (r16[i]?.[1] ?? NaN))).toBeLessThanOrEqual(64);
      });
    });
  }

  it('downmixes stereo: identical channels give the mono result', async () => {
    const mono = await resampleOnce(hello, 48_000);
    const stereo = new Int16Array(mono.samples.length * 2);
    mono.samples.forEach((s, i) => {
      stereo[2 * i] = s;
      stereo[2 * i + 1] = s;
    });
    const a = await run(new StreamingVad(model.createStream()), mono);
    const b = await run(new StreamingVad(model.createStream()), audioFrame(stereo, 48_000, 2));
    expect(b.map((v) => v.prob)).toEqual(a.map((v) => v.prob));
  });

  it('finds the phrase in speech-48k.wav (48 kHz fixture)', async () => {
    const f = readFixture('speech-48k.wav');
    expect(f.sampleRate).toBe(48_000);
    const frames = await run(new StreamingVad(model.createStream()), f);
    const r = regions(frames);
    expect(r).toHaveLength(1);
    expect(Math.abs((r[0]?.[0] ?? NaN) - S48.phrase[0])).toBeLessThanOrEqual(96);
    expect(Math.abs((r[0]?.[1] ?? NaN) - S48.phrase[1])).toBeLessThanOrEqual(128);
  });

  it('finds the phrase in short-utterance.wav', async () => {
    const frames = await run(new StreamingVad(model.createStream()), readFixture('short-utterance.wav'));
    const r = regions(frames);
    expect(r).toHaveLength(1);
    expect(Math.abs((r[0]?.[0] ?? NaN) - SHORT.phrase[0])).toBeLessThanOrEqual(96);
    expect(Math.abs((r[0]?.[1] ?? NaN) - SHORT.phrase[1])).toBeLessThanOrEqual(128);
  });

  it('keeps input time across a change of input rate', async () => {
    const vad = new StreamingVad(model.createStream());
    const a = await vad.push(audioFrame(new Int16Array(16_000), 16_000)); // 1 s at 16 kHz
    const b = await vad.push(audioFrame(new Int16Array(48_000), 48_000)); // 1 s at 48 kHz
    const c = await vad.push(audioFrame(new Int16Array(8_000), 8_000)); // 1 s at 8 kHz
    const all = [...a, ...b, ...c];
    all.forEach((v, i) => expect(v.startMs).toBeCloseTo(i * 32, 9));
    expect(Math.abs((all.at(-1)?.endMs ?? 0) - 3000)).toBeLessThanOrEqual(32);
  });

  it('resamples explicitly through the injected resampler, one per input rate, freed on close()', async () => {
    const made: string[] = [];
    const vad = new StreamingVad(model.createStream(), {
      createResampler: (from, to) => {
        made.push(`${from}->${to}`);
        return { process: (f) => audioFrame(new Int16Array(Math.round((f.samples.length * to) / from)), to), destroy: () => made.push('destroy') };
      },
    });
    expect(await vad.push(audioFrame(new Int16Array(1600), 16_000))).toHaveLength(3); // 100 ms -> 3 windows
    await vad.push(audioFrame(new Int16Array(960 * 2), 48_000, 2));
    vad.close();
    expect(made).toEqual(['16000->16000', 'destroy', '48000->16000', 'destroy']);
  });

  it('rejects pushes after close()', async () => {
    const vad = new StreamingVad(model.createStream());
    await vad.push(audioFrame(new Int16Array(960), 48_000));
    vad.close();
    await expect(vad.push(audioFrame(new Int16Array(960), 48_000))).rejects.toThrow(/closed/);
  });
});
