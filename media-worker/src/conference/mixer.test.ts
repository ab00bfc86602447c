import { beforeAll, describe, expect, it } from 'vitest';
import { audioFrame } from '../audio/frame.ts';
import { initResampler } from '../audio/resampler.ts';
import { ConferenceMixer, type MixResult } from './mixer.ts';
import { toneAmplitude, toneFrame } from './tone.test-helper.ts';

const RATE = 16000;
const N = 320; // 20 ms at 16 kHz

const listener = (r: MixResult, id: string) => r.listeners.find((l) => l.legId === id)!;
const legFrame = (r: MixResult, id: string) => r.legs.find((l) => l.legId === id)!;
const arr = (a: Int16Array | Int32Array) => Array.from(a);
const clamp = (v: number) => Math.max(-32768, Math.min(32767, v));
const dc = (v: number, rate = RATE) => audioFrame(new Int16Array((rate * 20) / 1000).fill(v), rate);

describe('ConferenceMixer', () => {
  beforeAll(async () => {
    await initResampler();
  });

  it('two legs hear each other, sample for sample, and never themselves', () => {
    const m = new ConferenceMixer({ sampleRate: RATE });
    m.addLeg('a');
    m.addLeg('b');
    for (let k = 0; k < 20; k++) {
      const a = toneFrame(440, RATE, 20, k, 9000);
      const b = toneFrame(1000, RATE, 20, k, 7000);
      m.push('a', a);
      m.push('b', b);
      const r = m.mix();
      if (k === 0) {
        // Both are priming (40 ms target): nothing to hear yet.
        expect(listener(r, 'a').active).toBe(false);
        expect(listener(r, 'a').frame.samples.every((s) => s === 0)).toBe(true);
        continue;
      }
      // The jitter buffer holds one frame: tick k plays frame k - 1.
      const prevA = toneFrame(440, RATE, 20, k - 1, 9000).samples;
      const prevB = toneFrame(1000, RATE, 20, k - 1, 7000).samples;
      expect(arr(listener(r, 'a').frame.samples)).toEqual(arr(prevB));
      expect(arr(listener(r, 'b').frame.samples)).toEqual(arr(prevA));
      expect(listener(r, 'a').frame.sampleRate).toBe(RATE);
      // The handler's view: each leg's own frame, and both mixed.
      expect(arr(legFrame(r, 'a').frame.samples)).toEqual(arr(prevA));
      expect(legFrame(r, 'b').live).toBe(true);
      expect(arr(r.everyone.samples)).toEqual(arr(prevA.map((s, i) => s + prevB[i]!)));
    }
  });

  it('with three legs each hears exactly the sum of the other two', () => {
    const m = new ConferenceMixer({ sampleRate: RATE });
    const tones = { a: 300, b: 700, c: 1900 } as const;
    for (const id of Object.keys(tones)) m.addLeg(id);
    let r: MixResult | undefined;
    for (let k = 0; k < 10; k++) {
      for (const [id, hz] of Object.entries(tones)) m.push(id, toneFrame(hz, RATE, 20, k, 8000));
      r = m.mix();
    }
    const prev = (hz: number) => toneFrame(hz, RATE, 20, 8, 8000).samples;
    const [a, b, c] = [prev(tones.a), prev(tones.b), prev(tones.c)];
    expect(arr(listener(r!, 'a').frame.samples)).toEqual(arr(b.map((s, i) => s + c[i]!)));
    expect(arr(listener(r!, 'b').frame.samples)).toEqual(arr(a.map((s, i) => s + c[i]!)));
    expect(arr(listener(r!, 'c').frame.samples)).toEqual(arr(a.map((s, i) => s + b[i]!)));
  });

  it('saturates at the int16 limits, and clamps only after taking the listener out', () => {
    const m = new ConferenceMixer({ sampleRate: RATE });
    for (const id of ['a', 'b', 'c', 'd']) m.addLeg(id);
    let r: MixResult | undefined;
    for (let k = 0; k < 3; k++) {
      m.push('a', dc(30000));
      m.push('b', dc(30000));
      m.push('c', dc(-30000));
      m.push('d', dc(-32768));
      r = m.mix();
    }
    // a hears 30000 - 30000 - 32768; d hears 30000 + 30000 - 30000.
    expect(listener(r!, 'a').frame.samples.every((s) => s === clamp(30000 - 30000 - 32768))).toBe(true);
    expect(listener(r!, 'd').frame.samples.every((s) => s === 30000)).toBe(true);
    expect(r!.everyone.samples.every((s) => s === clamp(30000 + 30000 - 30000 - 32768))).toBe(true);
    m.removeLeg('c');
    m.removeLeg('d');
    m.addLeg('e');
    for (let k = 0; k < 3; k++) {
      m.push('a', dc(30000));
      m.push('b', dc(30000));
      m.push('e', dc(20000));
      r = m.mix();
    }
    // e hears 60000 -> 32767; a hears 50000 -> 32767, not (clamped sum 32767) - 30000.
    expect(listener(r!, 'e').frame.samples.every((s) => s === 32767)).toBe(true);
    expect(listener(r!, 'a').frame.samples.every((s) => s === 32767)).toBe(true);
    expect(r!.everyone.samples.every((s) => s === 32767)).toBe(true);
    for (let k = 0; k < 3; k++) {
      m.push('a', dc(-30000));
      m.push('b', dc(-30000));
      m.push('e', dc(0));
      r = m.mix();
    }
    expect(listener(r!, 'e').frame.samples.every((s) => s === -32768)).toBe(true);
    expect(listener(r!, 'b').frame.samples.every((s) => s === -30000)).toBe(true);
  });

  it('legs join and leave mid-call', () => {
    const m = new ConferenceMixer({ sampleRate: RATE });
    m.addLeg('a');
    m.addLeg('b');
    let r: MixResult | undefined;
    for (let k = 0; k < 5; k++) {
      m.push('a', dc(100));
      m.push('b', dc(200));
      r = m.mix();
    }
    m.addLeg('c'); // between two ticks
    m.push('a', dc(100));
    m.push('b', dc(200));
    m.push('c', dc(400));
    r = m.mix();
    expect(r.listeners.map((l) => l.legId)).toEqual(['a', 'b', 'c']);
    expect(listener(r, 'c').frame.samples.every((s) => s === 300)).toBe(true); // hears the others at once
    expect(listener(r, 'a').frame.samples.every((s) => s === 200)).toBe(true); // c is still priming
    expect(legFrame(r, 'c').live).toBe(false);
    m.push('a', dc(100));
    m.push('b', dc(200));
    m.push('c', dc(400));
    r = m.mix();
    expect(listener(r, 'a').frame.samples.every((s) => s === 600)).toBe(true);
    expect(m.removeLeg('b')).toBe(true);
    expect(m.removeLeg('b')).toBe(false);
    m.push('a', dc(100));
    m.push('c', dc(400));
    r = m.mix();
    expect(r.legs.map((l) => l.legId)).toEqual(['a', 'c']);
    expect(listener(r, 'a').frame.samples.every((s) => s === 400)).toBe(true); // b's buffered audio left with it
    expect(listener(r, 'c').frame.samples.every((s) => s === 100)).toBe(true);
    expect(() => m.push('b', dc(1))).toThrow(/no leg b/);
    m.addLeg('b'); // the id can come back
    expect(m.legCount).toBe(3);
  });

  it('handler audio goes to everyone, or only to the leg it is addressed to, and not into the everyone mix', () => {
    const m = new ConferenceMixer({ sampleRate: RATE });
    m.addLeg('a');
    m.addLeg('b');
    m.pushHandler(dc(1000)); // paced: one frame per tick, mixed on the tick it arrives
    let r = m.mix();
    expect(listener(r, 'a').frame.samples.every((s) => s === 1000)).toBe(true);
    expect(listener(r, 'b').frame.samples.every((s) => s === 1000)).toBe(true);
    expect(listener(r, 'a').active).toBe(true);
    expect(r.everyoneActive).toBe(false);
    expect(r.everyone.samples.every((s) => s === 0)).toBe(true);
    m.pushHandler(dc(50, 8000), 'b'); // any rate: converted to the session's
    m.pushHandler(dc(50, 8000), 'b');
    m.pushHandler(dc(50, 8000), 'b');
    m.mix();
    r = m.mix();
    expect(listener(r, 'a').active).toBe(false);
    expect(listener(r, 'a').frame.samples.every((s) => s === 0)).toBe(true);
    const heard = listener(r, 'b').frame.samples;
    expect(Math.abs(heard[N / 2]! - 50)).toBeLessThanOrEqual(1); // past the resampler's onset
    m.pushHandler(dc(1000));
    m.pushHandler(dc(1000), 'a');
    m.clearHandler('a');
    r = m.mix();
    expect(listener(r, 'a').frame.samples.every((s) => s === 1000)).toBe(true);
    expect(() => m.pushHandler(dc(1), 'zz')).toThrow(/no leg zz/);
  });

  it('counts a leg’s underruns and overruns', () => {
    const m = new ConferenceMixer({ sampleRate: RATE });
    m.addLeg('a');
    m.addLeg('b');
    for (let k = 0; k < 10; k++) {
      if (k !== 5 && k !== 6) m.push('a', dc(10)); // two packets lost
      m.push('b', dc(10));
      m.mix();
    }
    for (let k = 0; k < 15; k++) m.push('b', dc(10)); // 300 ms at once: over 200 at the 10th, down to 40, then 100 more
    const s = m.stats();
    expect(s.ticks).toBe(10);
    expect(s.legs.a).toMatchObject({ underruns: 1, overruns: 0 });
    expect(s.legs.b).toMatchObject({ underruns: 0, overruns: 1, droppedMs: 180, depthMs: 140 });
  });

  it('reuses its buffers and result objects from tick to tick', () => {
    const m = new ConferenceMixer({ sampleRate: RATE });
    m.addLeg('a');
    m.addLeg('b');
    const r1 = m.mix();
    const buf = r1.listeners[0]!.frame.samples;
    const r2 = m.mix();
    expect(r2).toBe(r1);
    expect(r2.listeners[0]!.frame.samples).toBe(buf);
    expect(r2.tick).toBe(2);
  });

  it('refuses what it cannot do with a clear error', () => {
    const m = new ConferenceMixer({ sampleRate: RATE, maxLegs: 2 });
    m.addLeg('a');
    expect(() => m.addLeg('a')).toThrow(/already in the mix/);
    m.addLeg('b');
    expect(() => m.addLeg('c')).toThrow(/full \(2 legs\)/);
    expect(() => m.addLeg('')).toThrow(/non-empty/);
    m.close();
    expect(() => m.mix()).toThrow(/closed/);
    expect(() => m.leg('a')).not.toThrow();
    expect(() => new ConferenceMixer({ sampleRate: 22050, frameMs: 2.5 })).toThrow(/whole number of samples/);
  });
});

describe('ConferenceMixer across rates', () => {
  beforeAll(async () => {
    await initResampler();
  });

  // A 1 kHz tone from a leg at each input rate, heard by a silent leg in a 16 kHz and a 48 kHz session.
  for (const sessionRate of [16000, 48000]) {
    for (const inRate of [8000, 16000, 48000]) {
      it(`${inRate / 1000} kHz in, ${sessionRate / 1000} kHz session: the tone arrives at its frequency and level`, () => {
        const m = new ConferenceMixer({ sampleRate: sessionRate });
        m.addLeg('talker');
        m.addLeg('listener');
        const heard: number[] = [];
        for (let k = 0; k < 50; k++) {
          m.push('talker', toneFrame(1000, inRate, 20, k, 8000));
          const r = m.mix();
          expect(listener(r, 'listener').frame.sampleRate).toBe(sessionRate);
          expect(listener(r, 'talker').active).toBe(false); // no self-echo
          if (k >= 10) heard.push(...listener(r, 'listener').frame.samples);
        }
        const s = Int16Array.from(heard); // 800 ms, past the resampler's onset
        expect(toneAmplitude(s, 1000, sessionRate)).toBeGreaterThan(8000 * 0.95);
        expect(toneAmplitude(s, 1000, sessionRate)).toBeLessThan(8000 * 1.05);
        for (const other of [500, 2000, 3000]) expect(toneAmplitude(s, other, sessionRate)).toBeLessThan(8000 * 0.02);
        m.close();
      });
    }
  }

  it('takes stereo input, down-mixed', () => {
    const m = new ConferenceMixer({ sampleRate: 16000 });
    m.addLeg('a');
    m.addLeg('b');
    let r: MixResult | undefined;
    for (let k = 0; k < 3; k++) {
      m.push('a', audioFrame(new Int16Array(2 * 320).map((_, i) => (i % 2 ? 300 : 100)), 16000, 2));
      r = m.mix();
    }
    expect(listener(r!, 'b').frame.samples.every((s) => s === 200)).toBe(true);
  });
});
