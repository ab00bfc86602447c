import { describe, expect, it } from 'vitest';
import { EventQueue } from './event-queue.ts';

function queue() {
  const log: string[] = [];
  const q = new EventQueue<number>({ highWater: 100, lowWater: 50, onPause: () => log.push('pause'), onResume: () => log.push('resume') });
  return { q, log };
}

describe('EventQueue', () => {
  it('pauses the producer past highWater and resumes it at lowWater', async () => {
    const { q, log } = queue();
    const signal = new AbortController().signal;
    for (let i = 0; i < 5; i++) q.push(i, 30);
    expect(log).toEqual(['pause']); // at 120
    expect(q.peakWeight).toBe(150);
    expect(await q.next(signal)).toBe(0);
    expect(await q.next(signal)).toBe(1); // 90
    expect(log).toEqual(['pause']);
    expect(await q.next(signal)).toBe(2); // 60
    expect(await q.next(signal)).toBe(3); // 30
    expect(log).toEqual(['pause', 'resume']);
  });

  it('waits for items, ends when closed, and fails at once with the error', async () => {
    const { q } = queue();
    const signal = new AbortController().signal;
    const waiting = q.next(signal);
    q.push(7, 1);
    expect(await waiting).toBe(7);
    q.push(8, 1);
    q.close();
    expect(await q.next(signal)).toBe(8);
    expect(await q.next(signal)).toBeUndefined();
    const { q: q2 } = queue();
    q2.push(1, 1);
    q2.fail(new Error('lost'));
    await expect(q2.next(signal)).rejects.toThrow('lost');
  });

  it('remove() drops the selected items and their weight; abort rejects a waiting next()', async () => {
    const { q, log } = queue();
    for (let i = 0; i < 4; i++) q.push(i, 40);
    expect(q.remove((i) => i % 2 === 0)).toBe(2);
    expect(q.weight).toBe(80);
    expect(log).toEqual(['pause']);
    q.remove(() => true);
    expect(log).toEqual(['pause', 'resume']);
    const ac = new AbortController();
    const waiting = q.next(ac.signal);
    ac.abort(new Error('session ended'));
    await expect(waiting).rejects.toThrow('session ended');
  });
});
