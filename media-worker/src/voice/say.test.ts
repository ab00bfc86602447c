import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';
import { durationMs, type AudioFrame } from '../audio/frame.ts';
import { concatFrames, rms } from '../audio/pcm.ts';
import { FlitePool } from './flite-pool.ts';
import { FLITE_VOICE_NAMES, say, type FliteVoice } from './say.ts';

// One pool for the file (as in production: one per process), so the compile happens once.
const pool = new FlitePool({ threads: 1 });
afterAll(() => pool.close());

const SENTENCE = 'The quick brown fox jumps over the lazy dog.';
const LONG = Array.from({ length: 10 }, (_, i) => `This is sentence number ${i + 1} of a longer reply, spoken one sentence at a time.`).join(' ');

async function collect(it: AsyncIterable<AudioFrame>): Promise<AudioFrame[]> {
  const frames: AudioFrame[] = [];
  for await (const f of it) frames.push(f);
  return frames;
}

describe('say', () => {
  it.each([
    ['slt', 16000],
    ['slt', 48000],
    ['kal', 8000],
    ['kal', 24000],
  ] as Array<[FliteVoice, number]>)('%s at %i Hz: 20 ms frames at that rate, speech-loud, speech-long', async (voice, rate) => {
    const frames = await collect(say(SENTENCE, { voice, sampleRate: rate, pool }));
    for (const f of frames) expect(f).toMatchObject({ sampleRate: rate, channels: 1 });
    expect(frames.every((f) => f.samples.length === rate / 50)).toBe(true);
    const all = concatFrames(frames);
    // 9 words: at 2-4 words a second, plus Flite's short pauses at either end.
    expect(durationMs(all)).toBeGreaterThan(1800);
    expect(durationMs(all)).toBeLessThan(5000);
    expect(rms(all)).toBeGreaterThan(500);
  });

  it.each(FLITE_VOICE_NAMES)('voice %s speaks at the default 16 kHz', async (voice) => {
    const all = concatFrames(await collect(say('Hello from the offline voice.', { voice, pool })));
    expect(all.sampleRate).toBe(16000);
    expect(durationMs(all)).toBeGreaterThan(1000);
    expect(rms(all)).toBeGreaterThan(500);
  });

  it('streams sentence by sentence: the first frame comes while later sentences are not yet made', async () => {
    const before = pool.stats().completed;
    const t0 = performance.now();
    let firstAt = 0;
    let madeAtFirst = -1;
    let inFlightAtFirst = 0;
    let frames = 0;
    for await (const _ of say(LONG, { pool })) {
      if (frames++ === 0) {
        firstAt = performance.now() - t0;
        const s = pool.stats();
        madeAtFirst = s.completed - before;
        inFlightAtFirst = s.running + s.queued;
      }
    }
    const total = performance.now() - t0;
    expect(pool.stats().completed - before).toBe(10);
    expect(madeAtFirst).toBe(1); // only the first sentence was needed for the first frame...
    expect(inFlightAtFirst).toBe(1); // ...and the second was already being made
    expect(firstAt).toBeLessThan(total / 3);
    expect(frames * 20).toBeGreaterThan(30_000); // ten ~4 s sentences
  });

  it('stops at once on abort: the pending next() ends, nothing more is yielded, queued work is dropped', async () => {
    const ac = new AbortController();
    const it = say(LONG, { pool, signal: ac.signal })[Symbol.asyncIterator]();
    expect((await it.next()).done).toBe(false);
    const before = pool.stats().completed;
    // Drain the first sentence's frames; the next next() then waits for sentence 2 or 3.
    for (let i = 0; i < 1000; i++) {
      const r = await Promise.race([it.next(), new Promise<'waiting'>((r) => setImmediate(() => r('waiting')))]);
      if (r === 'waiting') break;
    }
    const pending = it.next();
    ac.abort();
    const t0 = performance.now();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(performance.now() - t0).toBeLessThan(50);
    expect(await it.next()).toEqual({ done: true, value: undefined });
    await new Promise((r) => setTimeout(r, 200));
    const s = pool.stats();
    expect(s.queued).toBe(0);
    expect(s.completed - before).toBeLessThanOrEqual(2); // not the other 8 sentences
  });

  it('stops between frames on abort, and yields nothing for an aborted signal', async () => {
    const ac = new AbortController();
    let n = 0;
    for await (const _ of say(SENTENCE, { pool, signal: ac.signal })) if (++n === 5) ac.abort();
    expect(n).toBe(5);
    expect(await collect(say(SENTENCE, { pool, signal: AbortSignal.abort() }))).toEqual([]);
    const before = pool.stats().completed;
    for await (const _ of say(LONG, { pool })) break; // leaving early drops the look-ahead too
    await new Promise((r) => setTimeout(r, 200));
    expect(pool.stats()).toMatchObject({ queued: 0 });
    expect(pool.stats().completed - before).toBeLessThanOrEqual(2);
  });

  it('refuses bad arguments at the call with clear errors', () => {
    expect(() => say('Hi.', { voice: 'hal9000' as FliteVoice })).toThrow(/unknown Flite voice "hal9000": use one of kal, kal16, awb, rms, slt/);
    expect(() => say('')).toThrow(/say: text is empty/);
    expect(() => say(' \n\t\u200b ')).toThrow(/say: text is empty/);
    expect(() => say('a'.repeat(2001))).toThrow(/text is 2001 characters, more than the 2000 one call takes/);
    expect(() => say('Hi.', { sampleRate: 44_101 })).toThrow(/sampleRate must be .* multiple of 50/);
    expect(() => say(42 as unknown as string)).toThrow(TypeError);
  });

  it('yields nothing for text with no words in it', async () => {
    expect(await collect(say('... !?', { pool }))).toEqual([]);
  });

  // The machine is shared and has 2 cores: with Flite busy on one, an idle event loop here was
  // measured late by up to 50 ms at times (and by 9-17 ms usually); with say() streaming 20
  // sentences flat out the max was 16-148 ms, p99 16-36 ms. So the bound is relative to the work
  // kept off the thread: one synthesis run on the main thread would delay it by all of its time.
  it('does not block the event loop while Flite works', async () => {
    await pool.synthesize('kal', 'Warm up.');
    const one = await probeLoop(() => pool.synthesize('awb', 'word '.repeat(200)).then((a) => a.synthMs));
    report('one 200-word synthesis', one);
    expect(one.synthMs).toBeGreaterThan(300);
    expect(one.maxDelayMs).toBeLessThan(one.synthMs / 4);

    const text = `${LONG} ${LONG}`; // 20 sentences, ~1650 characters
    const before = pool.stats().synthMs;
    const streamed = await probeLoop(async () => {
      // Pulled as fast as possible at 48 kHz (resampled on this thread): the worst case for it.
      for await (const _ of say(text, { pool, voice: 'awb', sampleRate: 48000 }));
      return pool.stats().synthMs - before;
    });
    report('say() of 20 sentences', streamed);
    expect(streamed.maxDelayMs).toBeLessThan(streamed.synthMs / 4);
  });
});

interface LoopProbe {
  synthMs: number;
  maxDelayMs: number;
  p99Ms: number;
  wallMs: number;
}

/** Runs `work` while measuring the event loop's delay two ways; reports the worse maximum. */
async function probeLoop(work: () => Promise<number>): Promise<LoopProbe> {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  let probeMax = 0;
  let last = performance.now();
  const probe = setInterval(() => {
    const now = performance.now();
    probeMax = Math.max(probeMax, now - last - 5);
    last = now;
  }, 5);
  histogram.enable();
  const t0 = performance.now();
  const synthMs = await work();
  const wallMs = performance.now() - t0;
  clearInterval(probe);
  histogram.disable();
  return { synthMs, wallMs, maxDelayMs: Math.max(histogram.max / 1e6, probeMax), p99Ms: histogram.percentile(99) / 1e6 };
}

function report(what: string, p: LoopProbe): void {
  console.log(
    `[say] event loop during ${what}: ${Math.round(p.synthMs)} ms of Flite CPU in ${Math.round(p.wallMs)} ms wall; ` +
      `max delay ${p.maxDelayMs.toFixed(1)} ms, p99 ${p.p99Ms.toFixed(1)} ms`,
  );
}
