import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { audioFrame } from '../audio/frame.ts';
import { readWav } from '../audio/pcm.ts';
import type { VadFrame } from '../vad/streaming-vad.ts';
import { energyBlocks } from './energy-blocks.ts';
import { TurnDetector, type EnergyBlock, type TurnDetectorOptions, type TurnEvent } from './turn-detector.ts';

/*
 * Recorded frames: the real Silero v5 probabilities (StreamingVad, 16 kHz, 20 ms pushes, 3 decimals)
 * of test/fixtures/audio/hello-pause-question.wav followed by 1 s of digital silence (so a 1000 ms
 * silence can end the last turn), and of short-utterance.wav. Frame i covers [32 i, 32 (i + 1)) ms.
 * Fixture: phrase 1 at 500-2933 ms (with a comma pause near 1.3 s), phrase 2 at 4133-5269 ms;
 * short-utterance: "Sounds good." at 500-1243 ms.
 */
const HELLO_PROBS = [
  0.012, 0.008, 0.005, 0.005, 0.005, 0.004, 0.003, 0.003, 0.003, 0.002, 0.002, 0.002, 0.002, 0.002, 0.003, 0.006,
  0.013, 0.968, 0.996, 0.994, 0.992, 0.996, 0.999, 0.999, 0.997, 0.999, 1, 1, 0.999, 1, 1, 1,
  0.999, 0.999, 0.999, 0.999, 0.999, 0.972, 0.918, 0.225, 0.039, 0.007, 0.144, 0.991, 0.999, 1, 1, 1,
  1, 1, 1, 1, 1, 0.998, 0.976, 0.999, 1, 1, 1, 1, 0.999, 0.999, 0.996, 1,
  1, 1, 1, 1, 1, 1, 0.999, 1, 1, 0.966, 0.999, 1, 1, 1, 1, 1,
  0.951, 0.998, 0.998, 0.998, 0.975, 0.998, 1, 1, 1, 0.998, 1, 0.998, 0.914, 0.075, 0.004, 0.002,
  0.001, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0.091, 0.11, 0.997, 1, 1, 1, 1, 0.999, 0.999, 1, 1, 0.999, 0.999, 1, 1,
  1, 1, 1, 1, 1, 1, 0.996, 0.999, 1, 1, 0.999, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 0.975, 0.435, 0.045, 0.007, 0.002, 0.001, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0,
];
const SHORT_PROBS = [
  0.012, 0.008, 0.005, 0.005, 0.005, 0.004, 0.003, 0.003, 0.003, 0.002, 0.002, 0.002, 0.002, 0.002, 0.003, 0.003,
  0.159, 0.19, 0.98, 0.995, 0.996, 0.997, 0.999, 1, 0.999, 1, 1, 1, 1, 0.924, 0.981, 0.999,
  1, 1, 1, 1, 0.999, 1, 0.999, 0.821, 0.062, 0.004, 0.001, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0,
];

const FRAME_MS = 32;
const frames = (probs: readonly number[], frameMs = FRAME_MS, offsetMs = 0): VadFrame[] =>
  probs.map((prob, i) => ({ prob, startMs: offsetMs + i * frameMs, endMs: offsetMs + (i + 1) * frameMs }));
const run = (d: TurnDetector, fs: readonly VadFrame[]): TurnEvent[] => fs.flatMap((f) => d.push(f));
const base: TurnDetectorOptions = { speechThreshold: 0.5, silenceMs: 600, minSpeechMs: 250, maxSpeechMs: 30_000 };
const fill = (n: number, prob: number): number[] => Array.from({ length: n }, () => prob);

const HELLO = frames(HELLO_PROBS);

describe('TurnDetector on recorded frames', () => {
  it('ends each turn of hello-pause-question 600 ms after the last speech frame, within one frame', () => {
    const events = run(new TurnDetector(base), HELLO);
    // Phrase 1 starts in frame 17 and its last frame >= 0.35 is frame 92 (ends at 2976 ms);
    // phrase 2 starts in frame 131, last speech frame 166 (ends at 5344 ms). 600 ms = 18.75 frames.
    expect(events).toEqual([
      { type: 'speech.start', atMs: 576 },
      { type: 'speech.end', atMs: 3584, startMs: 544, speechMs: 2432, reason: 'silence' },
      { type: 'speech.start', atMs: 4224 },
      { type: 'speech.end', atMs: 5952, startMs: 4192, speechMs: 1152, reason: 'silence' },
    ]);
  });

  for (const silenceMs of [300, 600, 1000]) {
    it(`silenceMs ${silenceMs}: speech.end lands within 32 ms after last speech frame end + ${silenceMs} ms`, () => {
      const opts = { ...base, silenceMs };
      const neg = opts.speechThreshold - 0.15;
      const events = run(new TurnDetector(opts), HELLO);
      const ends = events.filter((e) => e.type === 'speech.end');
      // The 128 ms comma pause never splits phrase 1; the 1.2 s pause always separates the phrases.
      expect(events.map((e) => e.type)).toEqual(['speech.start', 'speech.end', 'speech.start', 'speech.end']);
      for (const e of ends) {
        expect(e.reason).toBe('silence');
        const lastSpeech = HELLO.filter((f) => f.endMs <= e.atMs && f.prob >= neg).at(-1);
        if (!lastSpeech) throw new Error('no speech frame before speech.end');
        const late = e.atMs - (lastSpeech.endMs + silenceMs);
        expect(late).toBeGreaterThanOrEqual(0);
        expect(late).toBeLessThan(FRAME_MS);
        expect(e.speechMs).toBe(lastSpeech.endMs - e.startMs);
      }
      // Turns match the fixture's phrases (500-2933 ms, 4133-5269 ms) to within a few frames.
      const [a, b] = ends as [Extract<TurnEvent, { type: 'speech.end' }>, Extract<TurnEvent, { type: 'speech.end' }>];
      expect(Math.abs(a.startMs - 500)).toBeLessThanOrEqual(96);
      expect(Math.abs(a.startMs + a.speechMs - 2933)).toBeLessThanOrEqual(96);
      expect(Math.abs(b.startMs - 4133)).toBeLessThanOrEqual(96);
      expect(Math.abs(b.startMs + b.speechMs - 5269)).toBeLessThanOrEqual(96);
    });
  }

  it('decides per frame: a 100 ms silence ends the turn at the comma pause', () => {
    const events = run(new TurnDetector({ ...base, silenceMs: 100 }), HELLO);
    // Frames 39.. are below 0.35 from 1248 ms; 4 frames (128 ms) reach 100 ms at 1376 ms.
    expect(events[1]).toEqual({ type: 'speech.end', atMs: 1376, startMs: 544, speechMs: 704, reason: 'silence' });
    expect(events.filter((e) => e.type === 'speech.end')).toHaveLength(3);
  });

  it('holds for frames of another duration (20 ms): the end lands within one frame', () => {
    const probs = [...fill(10, 0), ...fill(40, 0.9), ...fill(60, 0.01)];
    for (const silenceMs of [300, 310, 600]) {
      const events = run(new TurnDetector({ ...base, silenceMs }), frames(probs, 20));
      const end = events.find((e) => e.type === 'speech.end');
      const late = (end?.atMs ?? NaN) - (1000 + silenceMs);
      expect(late).toBeGreaterThanOrEqual(0);
      expect(late).toBeLessThan(20);
    }
  });

  it('minSpeechMs: the short utterance is kept at 250 ms and discarded at 1000 ms', () => {
    const fs = frames(SHORT_PROBS);
    expect(run(new TurnDetector(base), fs)).toEqual([
      { type: 'speech.start', atMs: 608 },
      { type: 'speech.end', atMs: 1888, startMs: 576, speechMs: 704, reason: 'silence' },
    ]);
    expect(run(new TurnDetector({ ...base, minSpeechMs: 1000 }), fs)).toEqual([
      { type: 'speech.start', atMs: 608 },
      { type: 'speech.discarded', atMs: 1888, speechMs: 704 },
    ]);
  });

  it('maxSpeechMs cuts the long phrase and starts a new turn', () => {
    const events = run(new TurnDetector({ ...base, maxSpeechMs: 1500 }), HELLO);
    // 544 + 1500 = 2044 ms, reached at the end of frame 63 (2048 ms); frame 64 is speech again.
    expect(events.slice(0, 3)).toEqual([
      { type: 'speech.start', atMs: 576 },
      { type: 'speech.end', atMs: 2048, startMs: 544, speechMs: 1504, reason: 'max_speech' },
      { type: 'speech.start', atMs: 2080 },
    ]);
  });

  it('maxSpeechMs does not cut during a pause: the silence rule decides there', () => {
    // From 2048 ms the turn would reach 1500 ms at 3548 ms, inside the pause after 2976 ms.
    const events = run(new TurnDetector({ ...base, maxSpeechMs: 1500 }), HELLO);
    expect(events[3]).toEqual({ type: 'speech.end', atMs: 3584, startMs: 2048, speechMs: 928, reason: 'silence' });
  });
});

describe('TurnDetector on synthetic frames', () => {
  it('discards a click shorter than minSpeechMs', () => {
    const events = run(new TurnDetector(base), frames([...fill(10, 0), 0.95, 0.6, ...fill(30, 0.01)]));
    expect(events).toEqual([
      { type: 'speech.start', atMs: 352 },
      { type: 'speech.discarded', atMs: 384 + 608, speechMs: 64 },
    ]);
  });

  it('cuts continuous speech at maxSpeechMs, repeatedly', () => {
    const events = run(new TurnDetector({ ...base, maxSpeechMs: 1000 }), frames(fill(100, 0.99)));
    // 1000 ms = 31.25 frames: cut at the end of frame 31 (1024 ms), restart on frame 32, and so on.
    expect(events).toEqual([
      { type: 'speech.start', atMs: 32 },
      { type: 'speech.end', atMs: 1024, startMs: 0, speechMs: 1024, reason: 'max_speech' },
      { type: 'speech.start', atMs: 1056 },
      { type: 'speech.end', atMs: 2048, startMs: 1024, speechMs: 1024, reason: 'max_speech' },
      { type: 'speech.start', atMs: 2080 },
      { type: 'speech.end', atMs: 3072, startMs: 2048, speechMs: 1024, reason: 'max_speech' },
      { type: 'speech.start', atMs: 3104 },
    ]);
  });

  it('maxSpeechMs reached during a short pause cuts at the next speech frame', () => {
    // Speech to 928 ms, a 160 ms pause across the 1000 ms mark, speech again from 1088 ms.
    const events = run(new TurnDetector({ ...base, maxSpeechMs: 1000 }), frames([...fill(29, 0.9), ...fill(5, 0.1), ...fill(10, 0.9)]));
    expect(events).toEqual([
      { type: 'speech.start', atMs: 32 },
      { type: 'speech.end', atMs: 1120, startMs: 0, speechMs: 1120, reason: 'max_speech' },
      { type: 'speech.start', atMs: 1152 },
    ]);
  });

  it('hysteresis: frames between negThreshold and speechThreshold neither start nor end', () => {
    // Idle: 0.45 (between 0.35 and 0.5) never starts speech.
    expect(run(new TurnDetector(base), frames(fill(200, 0.45)))).toEqual([]);
    // Speaking: 5 s of 0.4 never ends it.
    const d = new TurnDetector(base);
    expect(run(d, frames([0.9, ...fill(156, 0.4)]))).toEqual([{ type: 'speech.start', atMs: 32 }]);
    expect(d.speaking).toBe(true);
  });

  it('hysteresis: in-between frames neither add to nor reset the silence run; a speech frame resets it', () => {
    const d = new TurnDetector(base); // 600 ms = 19 frames below 0.35
    const probs = [0.9, ...fill(10, 0.1), ...fill(5, 0.45), ...fill(8, 0.1)];
    expect(run(d, frames(probs))).toEqual([{ type: 'speech.start', atMs: 32 }]);
    // 18 silent frames so far; the 19th ends the turn. Speech ended where the silence run began (32 ms).
    expect(d.push({ prob: 0.1, startMs: 24 * 32, endMs: 25 * 32 })).toEqual([{ type: 'speech.discarded', atMs: 800, speechMs: 32 }]);

    const e = new TurnDetector({ ...base, minSpeechMs: 0 });
    const again = [0.9, ...fill(18, 0.1), 0.6, ...fill(18, 0.1)];
    expect(run(e, frames(again))).toEqual([{ type: 'speech.start', atMs: 32 }]);
    expect(e.push({ prob: 0, startMs: 38 * 32, endMs: 39 * 32 })).toEqual([
      { type: 'speech.end', atMs: 39 * 32, startMs: 0, speechMs: 20 * 32, reason: 'silence' },
    ]);
  });

  it('negThreshold defaults to speechThreshold - 0.15 (at least 0.01) and can be set', () => {
    const silenceAfter = (opts: TurnDetectorOptions, p: number) =>
      run(new TurnDetector({ ...opts, minSpeechMs: 0 }), frames([0.9, ...fill(30, p)])).some((e) => e.type === 'speech.end');
    expect(silenceAfter(base, 0.36)).toBe(false);
    expect(silenceAfter(base, 0.34)).toBe(true);
    expect(silenceAfter({ ...base, speechThreshold: 0.1 }, 0.011)).toBe(false);
    expect(silenceAfter({ ...base, speechThreshold: 0.1 }, 0.009)).toBe(true);
    expect(silenceAfter({ ...base, negThreshold: 0.2 }, 0.25)).toBe(false);
    expect(silenceAfter({ ...base, negThreshold: 0.2 }, 0.15)).toBe(true);
  });

  it('reset() drops a turn in progress without an event', () => {
    const d = new TurnDetector(base);
    expect(run(d, frames(fill(20, 0.9)))).toHaveLength(1);
    d.reset();
    expect(d.speaking).toBe(false);
    expect(run(d, frames(fill(40, 0), FRAME_MS, 640))).toEqual([]);
    expect(d.push({ prob: 0.9, startMs: 1920, endMs: 1952 })).toEqual([{ type: 'speech.start', atMs: 1952 }]);
  });

  it('rejects bad options', () => {
    expect(() => new TurnDetector({ ...base, speechThreshold: 0 })).toThrow(RangeError);
    expect(() => new TurnDetector({ ...base, speechThreshold: 1.5 })).toThrow(RangeError);
    expect(() => new TurnDetector({ ...base, negThreshold: 0.6 })).toThrow(RangeError);
    expect(() => new TurnDetector({ ...base, silenceMs: 0 })).toThrow(RangeError);
    expect(() => new TurnDetector({ ...base, minSpeechMs: -1 })).toThrow(RangeError);
    expect(() => new TurnDetector({ ...base, maxSpeechMs: 100, minSpeechMs: 250 })).toThrow(RangeError);
  });
});

/** The fixture's 10 ms energy blocks, with the same 1 s of digital silence the probabilities cover. */
function helloEnergy(): EnergyBlock[] {
  const wav = readWav(readFileSync(new URL('../../../test/fixtures/audio/hello-pause-question.wav', import.meta.url)));
  const padded = new Int16Array(wav.samples.length + wav.sampleRate);
  padded.set(wav.samples);
  return energyBlocks(audioFrame(padded, wav.sampleRate, 1), 0);
}

/**
 * As the pipeline feeds the detector: per 20 ms packet, its energy blocks first, then the VAD
 * windows that packet completed.
 */
function runWithEnergy(d: TurnDetector, windows: readonly VadFrame[], blocks: readonly EnergyBlock[]): TurnEvent[] {
  const events: TurnEvent[] = [];
  let w = 0;
  let b = 0;
  for (let chunkEnd = 20; w < windows.length; chunkEnd += 20) {
    while (b < blocks.length && blocks[b]!.endMs <= chunkEnd) events.push(...d.pushEnergy(blocks[b++]!));
    while (w < windows.length && windows[w]!.endMs <= chunkEnd) events.push(...d.push(windows[w++]!));
  }
  return events;
}

describe('TurnDetector with energy blocks', () => {
  const ends = (events: readonly TurnEvent[]) => events.filter((e) => e.type === 'speech.end');

  it('dates the silence from where the energy fell, not from where Silero let go', () => {
    const events = runWithEnergy(new TurnDetector(base), HELLO, helloEnergy());
    const [a, b] = ends(events);
    // Phrase 1 ends at 2933 ms in the audio (its last 20 ms already 30 dB under the phrase's
    // peak): the turn ends 600 ms after that to within 20 ms, instead of at 3584 ms (Silero is
    // below 0.35 only from the window starting at 2976 ms). Phrase 2 ends at 5269 ms.
    expect(Math.abs((a?.atMs ?? 0) - (2933 + 600))).toBeLessThanOrEqual(20);
    expect(Math.abs((b?.atMs ?? 0) - (5269 + 600))).toBeLessThanOrEqual(20);
    expect(ends(run(new TurnDetector(base), HELLO)).map((e) => e.atMs)).toEqual([3584, 5952]);
    // The turn starts where the VAD said; its speech lasts to where the audio went quiet.
    expect(a).toMatchObject({ startMs: 544, reason: 'silence' });
    expect(Math.abs((a?.startMs ?? 0) + (a?.speechMs ?? 0) - 2933)).toBeLessThanOrEqual(20);
    expect(events.map((e) => e.type)).toEqual(['speech.start', 'speech.end', 'speech.start', 'speech.end']);
  });

  it('keeps the VAD timing when background noise stays above the floor', () => {
    const noisy = helloEnergy().map((x) => ({ ...x, rms: Math.max(x.rms, 400) }));
    expect(ends(runWithEnergy(new TurnDetector(base), HELLO, noisy)).map((e) => e.atMs)).toEqual([3584, 5952]);
  });

  it('ends between two VAD windows on quiet blocks, and a loud block there leaves it to the next window', () => {
    // silenceMs 610: quiet since 2920 ms, so 610 ms are reached at 3530 ms, 10 ms after the
    // window ending at 3520 ms. A loud block at 3520-3530 ms defers the end to the window ending at 3552 ms.
    const opts = { ...base, silenceMs: 610 };
    const quiet = helloEnergy();
    expect(ends(runWithEnergy(new TurnDetector(opts), HELLO, quiet))[0]?.atMs).toBe(3530);
    const loud = quiet.map((x) => (x.startMs === 3520 ? { ...x, rms: 5000 } : x));
    expect(ends(runWithEnergy(new TurnDetector(opts), HELLO, loud))[0]?.atMs).toBe(3552);
  });

  it('without energy input it decides exactly as before', () => {
    expect(ends(runWithEnergy(new TurnDetector(base), HELLO, []))).toEqual(ends(run(new TurnDetector(base), HELLO)));
  });

  it('never moves the silence start before the speech start (a click is still discarded)', () => {
    const probs = [...fill(10, 0), 0.95, 0.6, ...fill(30, 0.01)];
    const quiet: EnergyBlock[] = Array.from({ length: 140 }, (_, i) => ({ startMs: i * 10, endMs: i * 10 + 10, rms: 0 }));
    const events = runWithEnergy(new TurnDetector(base), frames(probs), quiet);
    expect(events[1]).toMatchObject({ type: 'speech.discarded' });
    const d = events[1] as Extract<TurnEvent, { type: 'speech.discarded' }>;
    expect(d.speechMs).toBeGreaterThanOrEqual(0);
  });
});
