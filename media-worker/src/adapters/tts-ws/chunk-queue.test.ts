// The queue's bound, ending and reader handling are FlowQueue's (shared/flow-queue.test.ts); these
// cover what ChunkQueue adds: weight in samples and word timings.
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
  it('bounds by samples: pauses above the high-water mark and resumes at the low-water mark', async () => {
    const { q, calls } = queue();
    const it = q[Symbol.asyncIterator]();
    q.push(samples(6));
    q.push(samples(4));
    expect(calls).toEqual([]); // 10 is not above 10
    q.push(samples(3));
    expect(calls).toEqual(['pause']);
    expect(q.paused).toBe(true);
    await it.next(); // 7 left
    expect(q.queuedSamples).toBe(7);
    expect(calls).toEqual(['pause']);
    await it.next(); // 3 left
    expect(calls).toEqual(['pause', 'resume']);
    expect(q.maxQueuedSamples).toBe(13);
  });

  it('delivers queued chunks before throwing the failure, and refuses chunks after it', async () => {
    const { q } = queue();
    q.push(samples(2, 5));
    q.fail(new Error('boom'));
    q.push(samples(2, 6));
    expect(q.closed).toBe(true);
    const it = q[Symbol.asyncIterator]();
    expect((await it.next()).value?.samples[0]).toBe(5);
    await expect(it.next()).rejects.toThrow('boom');
    expect((await it.next()).done).toBe(true);
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

  it('treats audio of no samples as words alone, and drops words once ended', async () => {
    const { q } = queue();
    q.push(samples(0), [{ word: 'a', startMs: 0, endMs: 1 }]);
    q.push(samples(0));
    expect(q.queuedSamples).toBe(0);
    q.end();
    q.addWords([{ word: 'late', startMs: 1, endMs: 2 }]);
    const got = [];
    for await (const c of q) got.push(c);
    expect(got).toEqual([{ samples: new Int16Array(0), words: [{ word: 'a', startMs: 0, endMs: 1 }] }]);
  });

  it('abort drops queued audio and ends at once; a reader breaking out early is reported', async () => {
    const { q, calls } = queue();
    q.push(samples(5));
    q.abort();
    expect(q.queuedSamples).toBe(0);
    expect((await q[Symbol.asyncIterator]().next()).done).toBe(true);
    const { q: q2, calls: calls2 } = queue();
    q2.push(samples(1));
    q2.push(samples(1));
    for await (const _ of q2) break;
    expect(calls2).toEqual(['gone']);
    expect(calls).toEqual([]);
    expect(() => q2[Symbol.asyncIterator]()).toThrow('once');
  });
});
