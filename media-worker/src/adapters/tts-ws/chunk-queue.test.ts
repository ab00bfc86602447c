import { describe, expect, it } from 'vitest';
import { ChunkQueue } from './chunk-queue.ts';

function queue(high = 10, low = 4) {
  const calls: string[] = [];
  const q = new ChunkQueue({
    highWaterSamples: high,
    lowWaterSamples: low,
    onPause: () => calls.push('pause'),
    onResume: () => calls.push('resume'),
    onReaderGone: () => calls.push('gone'),
  });
  return { q, calls };
}

const samples = (n: number, v = 1) => new Int16Array(n).fill(v);

describe('ChunkQueue', () => {
  it('pauses above the high-water mark and resumes at the low-water mark', async () => {
    const { q, calls } = queue();
    const it = q[Symbol.asyncIterator]();
    q.push(samples(6));
    q.push(samples(4));
    expect(calls).toEqual([]); // 10 is not above 10
    q.push(samples(3));
    expect(calls).toEqual(['pause']);
    await it.next(); // 7 left
    expect(calls).toEqual(['pause']);
    await it.next(); // 3 left
    expect(calls).toEqual(['pause', 'resume']);
    expect(q.maxQueuedSamples).toBe(13);
  });

  it('yields in order, then ends after end()', async () => {
    const { q } = queue();
    q.push(samples(2, 1));
    q.push(samples(2, 2));
    q.end();
    q.push(samples(2, 3)); // ignored once ended
    const got: number[] = [];
    for await (const c of q) got.push(c.samples[0]!);
    expect(got).toEqual([1, 2]);
  });

  it('delivers queued chunks before throwing the failure', async () => {
    const { q } = queue();
    q.push(samples(2));
    q.fail(new Error('boom'));
    const it = q[Symbol.asyncIterator]();
    expect((await it.next()).done).toBe(false);
    await expect(it.next()).rejects.toThrow('boom');
    expect((await it.next()).done).toBe(true);
  });

  it('wakes a waiting reader', async () => {
    const { q } = queue();
    const it = q[Symbol.asyncIterator]();
    const pending = it.next();
    setTimeout(() => q.push(samples(1, 7)), 5);
    expect((await pending).value?.samples[0]).toBe(7);
  });

  it('abort drops queued audio and ends at once', async () => {
    const { q } = queue();
    q.push(samples(5));
    q.abort();
    const it = q[Symbol.asyncIterator]();
    expect((await it.next()).done).toBe(true);
    expect(q.queuedSamples).toBe(0);
  });

  it('joins words to the last unread chunk, else queues them alone', async () => {
    const { q } = queue();
    const it = q[Symbol.asyncIterator]();
    q.addWords([{ word: 'a', startMs: 0, endMs: 1 }]);
    expect((await it.next()).value).toEqual({ samples: new Int16Array(0), words: [{ word: 'a', startMs: 0, endMs: 1 }] });
    q.push(samples(1), [{ word: 'b', startMs: 1, endMs: 2 }]);
    q.addWords([{ word: 'c', startMs: 2, endMs: 3 }]);
    expect((await it.next()).value?.words?.map((w: { word: string }) => w.word)).toEqual(['b', 'c']);
  });

  it('tells the owner when the reader breaks out early, and refuses a second reader', async () => {
    const { q, calls } = queue();
    q.push(samples(1));
    q.push(samples(1));
    for await (const _ of q) break;
    expect(calls).toEqual(['gone']);
    expect(() => q[Symbol.asyncIterator]()).toThrow('once');
  });
});
