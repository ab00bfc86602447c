import { describe, expect, it } from 'vitest';
import { JitterBuffer } from './jitter-buffer.ts';
import { seeded } from './tone.test-helper.ts';

const RATE = 8000;
const F = 160; // 20 ms at 8 kHz

/** 20 ms of the constant `v`: frame k carries k + 1, so a read shows which frame came out. */
const frame = (v: number, n = F): Int16Array => new Int16Array(n).fill(v);

describe('JitterBuffer', () => {
  it('contributes nothing and counts nothing before the first audio', () => {
    const jb = new JitterBuffer(RATE, 20);
    const out = frame(7);
    for (let i = 0; i < 5; i++) expect(jb.read(out)).toBe(false);
    expect(out.every((s) => s === 0)).toBe(true);
    expect(jb.started).toBe(false);
    expect(jb.stats()).toMatchObject({ silentTicks: 0, underruns: 0, framesPlayed: 0 });
  });

  it('primes to the target depth, then gives frames in order', () => {
    const jb = new JitterBuffer(RATE, 20, { targetMs: 40 });
    const out = new Int16Array(F);
    jb.write(frame(1));
    expect(jb.read(out)).toBe(false); // 20 ms buffered: priming
    jb.write(frame(2));
    expect(jb.read(out)).toBe(true);
    expect(out.every((s) => s === 1)).toBe(true);
    jb.write(frame(3));
    expect(jb.read(out)).toBe(true);
    expect(out.every((s) => s === 2)).toBe(true);
    expect(jb.stats()).toMatchObject({ silentTicks: 1, underruns: 0, framesPlayed: 2, depthMs: 20 });
  });

  it('on underrun plays the partial frame padded with silence, counts it, and primes again', () => {
    const jb = new JitterBuffer(RATE, 20, { targetMs: 40 });
    const out = new Int16Array(F);
    jb.write(frame(1, 400)); // 50 ms
    expect(jb.read(out)).toBe(true);
    expect(jb.read(out)).toBe(true);
    expect(jb.read(out)).toBe(true); // the last 10 ms, then silence
    expect(out.subarray(0, 80).every((s) => s === 1)).toBe(true);
    expect(out.subarray(80).every((s) => s === 0)).toBe(true);
    expect(jb.read(out)).toBe(false); // dry
    expect(jb.stats()).toMatchObject({ underruns: 1, silentTicks: 1, framesPlayed: 2 });
    // Priming again, one frame deeper than before (the underrun bought cushion): 60 ms now.
    expect(jb.stats().targetMs).toBe(60);
    jb.write(frame(2));
    expect(jb.read(out)).toBe(false); // 20 ms < 60 ms
    jb.write(frame(3));
    expect(jb.read(out)).toBe(false); // 40 ms < 60 ms
    jb.write(frame(4));
    expect(jb.read(out)).toBe(true);
    expect(out.every((s) => s === 2)).toBe(true);
    expect(jb.stats()).toMatchObject({ underruns: 1, silentTicks: 3 });
  });

  it('adapts: underruns deepen the target up to maxTargetMs, clean windows give it back a frame each', () => {
    const jb = new JitterBuffer(RATE, 20, { targetMs: 40, maxTargetMs: 80, trimWindowMs: 100 });
    const out = new Int16Array(F);
    let k = 0;
    // Three starvations: 40 -> 60 -> 80 -> 80 (capped).
    for (let u = 0; u < 3; u++) {
      while (!jb.read(out)) jb.write(frame(++k));
      while (jb.read(out)) {
        /* drain until it runs dry */
      }
    }
    expect(jb.stats()).toMatchObject({ underruns: 3, targetMs: 80 });
    // Now a steady leg: a frame written per tick, none late. Each clean 100 ms window gives back
    // 20 ms; the window that held the underrun does not count.
    while (!jb.read(out)) jb.write(frame(++k));
    for (let t = 0; t < 5; t++) {
      jb.write(frame(++k));
      expect(jb.read(out)).toBe(true);
    }
    expect(jb.stats().targetMs).toBe(80);
    for (let t = 0; t < 5; t++) {
      jb.write(frame(++k));
      jb.read(out);
    }
    expect(jb.stats().targetMs).toBe(60);
    for (let t = 0; t < 5; t++) {
      jb.write(frame(++k));
      jb.read(out);
    }
    expect(jb.stats().targetMs).toBe(40);
    for (let t = 0; t < 10; t++) {
      jb.write(frame(++k));
      jb.read(out);
    }
    expect(jb.stats()).toMatchObject({ targetMs: 40, underruns: 3 }); // never below the base target
  });

  it('never holds more than maxMs: an overrun drops the oldest audio down to the target', () => {
    const jb = new JitterBuffer(RATE, 20, { targetMs: 40, maxMs: 200 });
    for (let k = 0; k < 10; k++) jb.write(frame(k + 1)); // exactly 200 ms
    expect(jb.stats()).toMatchObject({ overruns: 0, depthMs: 200 });
    jb.write(frame(11));
    expect(jb.stats()).toMatchObject({ overruns: 1, droppedMs: 180, depthMs: 40 });
    const out = new Int16Array(F);
    expect(jb.read(out)).toBe(true);
    expect(out.every((s) => s === 10)).toBe(true); // the newest 40 ms: frames 10 and 11
    expect(jb.read(out)).toBe(true);
    expect(out.every((s) => s === 11)).toBe(true);
  });

  it('a single write larger than maxMs keeps only its newest target depth', () => {
    const jb = new JitterBuffer(RATE, 20, { targetMs: 40, maxMs: 200 });
    const big = new Int16Array(8000); // 1 s
    for (let i = 0; i < big.length; i++) big[i] = i % 30000;
    jb.write(big);
    expect(jb.stats()).toMatchObject({ overruns: 1, droppedMs: 960, depthMs: 40 });
    const out = new Int16Array(F);
    jb.read(out);
    expect(out[0]).toBe(8000 - 320);
  });

  it('trims a standing excess within two windows, and not a cushion that is used', () => {
    const jb = new JitterBuffer(RATE, 20, { targetMs: 40, trimWindowMs: 1000 });
    const out = new Int16Array(F);
    let k = 0;
    jb.write(frame(++k));
    for (let t = 0; t < 60; t++) {
      jb.write(frame(++k));
      jb.read(out);
    }
    expect(jb.stats().trimmedMs).toBe(0); // steady at the target: nothing to trim
    for (let j = 0; j < 5; j++) jb.write(frame(++k)); // a burst: 100 ms more than the target
    let last = 0;
    for (let t = 0; t < 110; t++) {
      jb.write(frame(++k));
      jb.read(out);
      last = out[0]!;
    }
    expect(jb.stats()).toMatchObject({ trimmedMs: 100, underruns: 0, overruns: 0, depthMs: 20 });
    expect(last).toBe(k - 1); // back to one frame behind the newest, as before the burst
  });

  it('trimWindowMs 0 keeps a standing excess', () => {
    const jb = new JitterBuffer(RATE, 20, { targetMs: 40, trimWindowMs: 0 });
    const out = new Int16Array(F);
    for (let j = 0; j < 7; j++) jb.write(frame(1));
    for (let t = 0; t < 200; t++) {
      jb.write(frame(1));
      jb.read(out);
    }
    expect(jb.stats()).toMatchObject({ trimmedMs: 0, depthMs: 140 });
  });

  // The default target's claim: packets up to 20 ms late never starve a 40 ms buffer, whatever the
  // phase between the sender's clock and the ticks; much later ones do.
  function simulate(maxDelayMs: number, targetMs: number): { underruns: number; framesPlayed: number } {
    const rnd = seeded(42);
    const jb = new JitterBuffer(RATE, 20, { targetMs, maxMs: 400, trimWindowMs: 0 });
    const phase = 7.3; // the sender's frames are due 7.3 ms after the ticks
    const arrivals: number[] = [];
    let prev = 0;
    for (let k = 0; k < 3000; k++) {
      prev = Math.max(prev, 20 * k + phase + rnd() * maxDelayMs); // in order, as over TCP or after RTP reordering
      arrivals.push(prev);
    }
    const out = new Int16Array(F);
    let next = 0;
    for (let tick = 0; tick * 20 < arrivals[2900]!; tick++) {
      while (next < arrivals.length && arrivals[next]! <= tick * 20) {
        jb.write(frame(1));
        next++;
      }
      jb.read(out);
    }
    return jb.stats();
  }

  it('the 40 ms default rides out packets up to 20 ms late; 60 ms of jitter starves it', () => {
    expect(simulate(19.9, 40)).toMatchObject({ underruns: 0 });
    expect(simulate(19.9, 40).framesPlayed).toBeGreaterThan(2850);
    // Starves, then re-primes at a late packet, which leaves it the larger cushion: only a few.
    expect(simulate(60, 40).underruns).toBeGreaterThan(0);
    expect(simulate(60, 80).underruns).toBe(0); // a worse path takes a larger target
  });

  it('rejects a bad configuration with a clear error', () => {
    expect(() => new JitterBuffer(RATE, 20, { targetMs: 40, maxMs: 50 })).toThrow(/maxMs \(50\) must hold/);
    expect(() => new JitterBuffer(RATE, 20, { targetMs: -1 })).toThrow(/targetMs/);
    expect(() => new JitterBuffer(22050, 2.5)).toThrow(/whole number of samples/);
    expect(() => new JitterBuffer(RATE, 20).read(new Int16Array(10))).toThrow(/160-sample/);
  });
});
