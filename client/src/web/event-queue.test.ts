import { describe, expect, it } from 'vitest';
import { EventQueue } from './event-queue.ts';

describe('EventQueue', () => {
  it('hands items to a waiting reader, buffers the rest up to its limit (oldest dropped) and ends', async () => {
    const q = new EventQueue<number>(3, () => {});
    const first = q.next();
    q.push(1);
    expect(await first).toEqual({ value: 1, done: false });
    for (const n of [2, 3, 4, 5]) q.push(n);
    expect(q.dropped).toBe(1);
    q.end();
    const rest: number[] = [];
    for await (const n of q) rest.push(n);
    expect(rest).toEqual([3, 4, 5]);
  });

  it('breaking out of for-await unregisters the reader', async () => {
    let returned = 0;
    const q = new EventQueue<number>(10, () => returned++);
    q.push(1);
    for await (const _ of q) break;
    expect(returned).toBe(1);
    q.push(2);
    expect(await q.next()).toEqual({ value: undefined, done: true });
  });
});
