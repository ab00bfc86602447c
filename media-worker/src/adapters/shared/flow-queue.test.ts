import { describe, expect, it } from 'vitest';
import { FlowQueue, type FlowQueueOptions } from './flow-queue.ts';

/** A queue bounded by pausing at 100 and resuming at 50, with its calls logged. */
function paced(failure: FlowQueueOptions['failure'] = 'after-drain') {
  const log: string[] = [];
  const q = new FlowQueue<number>({
    bound: { kind: 'pause', highWater: 100, lowWater: 50, onPause: () => log.push('pause'), onResume: () => log.push('resume') },
    failure,
    onReaderGone: () => log.push('gone'),
  });
  return { q, log };
}

function capped(capacity: number) {
  return new FlowQueue<string>({ bound: { kind: 'reject', capacity }, failure: 'after-drain' });
}

async function value<T>(q: FlowQueue<T>, signal?: AbortSignal): Promise<T | undefined> {
  const r = await q.next(signal);
  return r.done ? undefined : r.value;
}

describe('FlowQueue, pause bound', () => {
  it('pauses the producer above highWater and resumes it at lowWater, counting the weight', async () => {
    const { q, log } = paced();
    q.push(0, 60);
    q.push(1, 40);
    expect(log).toEqual([]); // 100 is not above 100
    q.push(2, 30);
    expect(log).toEqual(['pause']);
    expect(q.paused).toBe(true);
    q.push(3, 20); // kept while paused: the bound is soft
    expect(q.weight).toBe(150);
    expect(await value(q)).toBe(0); // 90
    expect(log).toEqual(['pause']);
    expect(await value(q)).toBe(1); // 50: at lowWater
    expect(log).toEqual(['pause', 'resume']);
    expect(q.stats).toEqual({ peakWeight: 150, pauses: 1, rejected: 0 });
  });

  it('remove() drops the selected items with their weight, resuming the producer when that is enough', () => {
    const { q, log } = paced();
    for (let i = 0; i < 4; i++) q.push(i, 40);
    expect(q.remove((i) => i % 2 === 0)).toBe(2);
    expect(q.weight).toBe(80);
    expect(q.size).toBe(2);
    expect(log).toEqual(['pause']);
    expect(q.remove(() => true)).toBe(2);
    expect(q.weight).toBe(0);
    expect(log).toEqual(['pause', 'resume']);
  });

  it('does not resume a producer once the queue has ended', async () => {
    const { q, log } = paced();
    q.push(1, 150);
    q.end();
    expect(await value(q)).toBe(1);
    expect(log).toEqual(['pause']);
    expect(q.paused).toBe(false);
  });

  it('rejects watermarks out of order', () => {
    const bound = { kind: 'pause' as const, highWater: 10, lowWater: 20, onPause: () => {}, onResume: () => {} };
    expect(() => new FlowQueue({ bound, failure: 'at-once' })).toThrow(RangeError);
    expect(() => new FlowQueue({ bound: { ...bound, lowWater: -1 }, failure: 'at-once' })).toThrow(RangeError);
  });
});

describe('FlowQueue, reject bound', () => {
  it('refuses an item that would exceed capacity, and takes one again once there is room', async () => {
    const q = capped(2);
    expect(q.push('a')).toBe(true);
    expect(q.push('b')).toBe(true);
    expect(q.push('c')).toBe(false);
    expect(q.stats.rejected).toBe(1);
    expect(await value(q)).toBe('a');
    expect(q.push('d')).toBe(true);
    expect(await value(q)).toBe('b');
    expect(await value(q)).toBe('d');
  });

  it('counts weight against capacity', () => {
    const q = capped(10);
    expect(q.push('big', 8)).toBe(true);
    expect(q.push('too big', 3)).toBe(false);
    expect(q.push('fits', 2)).toBe(true);
    expect(() => capped(0)).toThrow(RangeError);
  });
});

describe('FlowQueue, reading and ending', () => {
  it('yields in order, wakes a waiting reader, and is done after end(); later pushes are ignored', async () => {
    const { q } = paced();
    const waiting = q.next();
    setTimeout(() => q.push(7), 5);
    expect(await waiting).toEqual({ done: false, value: 7 });
    q.push(8);
    q.push(9);
    q.end();
    expect(q.push(10)).toBe(true);
    expect(q.ended).toBe(true);
    const got: number[] = [];
    for await (const n of q) got.push(n);
    expect(got).toEqual([8, 9]);
  });

  it("with failure 'after-drain', delivers the held items before throwing, then is done", async () => {
    const { q } = paced('after-drain');
    q.push(1);
    q.fail(new Error('boom'));
    expect(await value(q)).toBe(1);
    await expect(q.next()).rejects.toThrow('boom');
    expect((await q.next()).done).toBe(true);
  });

  it("with failure 'at-once', drops the held items and throws first, then is done", async () => {
    const { q } = paced('at-once');
    q.push(1, 150);
    q.fail(new Error('lost'));
    expect(q.weight).toBe(0);
    await expect(q.next()).rejects.toThrow('lost');
    expect((await q.next()).done).toBe(true);
  });

  it('a failure reaches a reader already waiting', async () => {
    const { q } = paced('after-drain');
    const waiting = q.next();
    q.fail(new Error('late'));
    await expect(waiting).rejects.toThrow('late');
  });

  it('the first of end() and fail() wins', async () => {
    const { q } = paced();
    q.end();
    q.fail(new Error('ignored'));
    expect((await q.next()).done).toBe(true);
    const { q: q2 } = paced();
    q2.fail(new Error('first'));
    q2.fail(new Error('second'));
    q2.end();
    await expect(q2.next()).rejects.toThrow('first');
  });

  it('abort() drops what is held and ends now without error, even over a pending failure', async () => {
    const { q, log } = paced();
    q.push(1, 150);
    q.fail(new Error('pending'));
    q.abort();
    expect(q.weight).toBe(0);
    expect(q.size).toBe(0);
    expect((await q.next()).done).toBe(true);
    expect(log).toEqual(['pause']); // not resumed: the queue ended
  });

  it('next(signal) rejects with the reason when the signal aborts while waiting, or had already', async () => {
    const { q } = paced();
    const ac = new AbortController();
    const waiting = q.next(ac.signal);
    ac.abort(new Error('session ended'));
    await expect(waiting).rejects.toThrow('session ended');
    q.push(1);
    await expect(q.next(ac.signal)).rejects.toThrow('session ended');
    expect(await value(q)).toBe(1); // the item was not taken
    const plain = new AbortController();
    plain.abort('why');
    await expect(q.next(plain.signal)).rejects.toThrow('why');
  });

  it('last() is the newest item not yet taken', async () => {
    const { q } = paced();
    expect(q.last()).toBeUndefined();
    q.push(1);
    q.push(2);
    expect(q.last()).toBe(2);
    await q.next();
    await q.next();
    expect(q.last()).toBeUndefined();
  });

  it('keeps order and weight across the compaction of taken slots', async () => {
    const { q } = paced();
    const n = 5000;
    for (let i = 0; i < n; i++) q.push(i, 0);
    for (let i = 0; i < 3000; i++) expect(await value(q)).toBe(i);
    q.push(n, 1);
    expect(q.size).toBe(n - 3000 + 1);
    expect(q.remove((i) => i % 2 === 1)).toBe(1000);
    for (let i = 3000; i < n; i += 2) expect(await value(q)).toBe(i);
    expect(await value(q)).toBe(n);
    expect(q.weight).toBe(0);
  });
});

describe('FlowQueue, as an async iterable', () => {
  it('tells the owner when the reader breaks out early, drops what is held, and refuses a second reader', async () => {
    const { q, log } = paced();
    q.push(1);
    q.push(2);
    for await (const _ of q) break;
    expect(log).toEqual(['gone']);
    expect(q.ended).toBe(true);
    expect(q.size).toBe(0);
    expect(() => q[Symbol.asyncIterator]()).toThrow('only once');
  });

  it('does not call onReaderGone when the reader leaves after the queue ended', async () => {
    const { q, log } = paced();
    q.push(1);
    q.push(2);
    q.end();
    for await (const _ of q) break;
    expect(log).toEqual([]);
  });
});
