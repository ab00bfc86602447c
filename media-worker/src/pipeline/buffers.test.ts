import { describe, expect, it } from 'vitest';
import { DropOldestQueue } from './frame-queue.ts';
import { SerialQueue } from './serial-queue.ts';
import { TurnAudioBuffer } from './turn-audio.ts';

/** n samples at 1 kHz (1 sample = 1 ms) numbered from `from`. */
const ramp = (from: number, n: number): Int16Array => Int16Array.from({ length: n }, (_, i) => from + i);

describe('TurnAudioBuffer', () => {
  it('keeps only idleKeepMs while idle, and slices on the session timeline', () => {
    const b = new TurnAudioBuffer(1000, { idleKeepMs: 100, maxHoldMs: 1000 });
    for (let t = 0; t < 500; t += 20) b.append(ramp(t, 20));
    expect(b.endMs).toBe(500);
    expect(Array.from(b.slice(0, 380))).toEqual([]); // trimmed (whole chunks)
    expect(Array.from(b.slice(420, 425))).toEqual([420, 421, 422, 423, 424]);
  });

  it('holds from the speech start (with pre-roll) until released', () => {
    const b = new TurnAudioBuffer(1000, { idleKeepMs: 100, maxHoldMs: 10_000 });
    for (let t = 0; t < 300; t += 20) b.append(ramp(t, 20));
    b.hold(250);
    for (let t = 300; t < 2000; t += 20) b.append(ramp(t, 20));
    const turn = b.slice(250, 1800);
    expect(turn.length).toBe(1550);
    expect(turn[0]).toBe(250);
    expect(turn.at(-1)).toBe(1799);
    b.release();
    b.append(ramp(2000, 20));
    expect(b.slice(250, 260).length).toBe(0);
  });

  it('caps a hold at maxHoldMs', () => {
    const b = new TurnAudioBuffer(1000, { idleKeepMs: 100, maxHoldMs: 500 });
    b.hold(0);
    for (let t = 0; t < 2000; t += 20) b.append(ramp(t, 20));
    expect(b.slice(0, 2000).length).toBe(500);
  });
});

describe('DropOldestQueue', () => {
  it('hands items over in order, drops the oldest when full, ends on close', async () => {
    const q = new DropOldestQueue<number>(3);
    for (let i = 1; i <= 5; i++) q.push(i);
    expect(q.dropped).toBe(2);
    const it = q[Symbol.asyncIterator]();
    expect(await it.next()).toEqual({ value: 3, done: false });
    expect(await it.next()).toEqual({ value: 4, done: false });
    expect(await it.next()).toEqual({ value: 5, done: false });
    const pending = it.next();
    q.push(6);
    expect(await pending).toEqual({ value: 6, done: false });
    const last = it.next();
    q.close();
    expect(await last).toEqual({ value: undefined, done: true });
    q.push(7);
    expect(await it.next()).toEqual({ value: undefined, done: true });
    expect(() => q[Symbol.asyncIterator]()).toThrow(/only once/);
  });
});

describe('SerialQueue', () => {
  it('runs tasks one at a time in order and refuses beyond the bound', async () => {
    const errors: unknown[] = [];
    const q = new SerialQueue(2, (e) => errors.push(e));
    const log: number[] = [];
    const task = (n: number) => async () => {
      await new Promise((r) => setTimeout(r, 5 - n));
      log.push(n);
    };
    expect(q.push(task(1))).toBe(true);
    expect(q.push(() => Promise.reject(new Error('x')))).toBe(true);
    expect(q.push(task(3))).toBe(false);
    await q.idle();
    expect(q.push(task(4))).toBe(true);
    await q.idle();
    expect(log).toEqual([1, 4]);
    expect(errors).toHaveLength(1);
  });
});
