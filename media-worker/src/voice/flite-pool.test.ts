import { afterEach, describe, expect, it } from 'vitest';
import { FliteBusyError, FlitePool } from './flite-pool.ts';

const pools: FlitePool[] = [];
function pool(options: ConstructorParameters<typeof FlitePool>[0]): FlitePool {
  const p = new FlitePool(options);
  pools.push(p);
  return p;
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

describe('FlitePool', () => {
  it('starts no thread until the first request, then synthesizes off the main thread', async () => {
    const p = pool({ threads: 1 });
    expect(p.stats().threads).toBe(0);
    const audio = await p.synthesize('kal16', 'Hello there.');
    expect(audio.sampleRate).toBe(16000);
    expect(audio.samples.length).toBeGreaterThan(8000);
    expect(p.stats()).toMatchObject({ threads: 1, completed: 1, compiles: 1, queued: 0, running: 0 });
  });

  it('compiles flite.wasm once: a second thread is handed the module', async () => {
    const p = pool({ threads: 2 });
    const texts = ['One two three.', 'Four five six.', 'Seven eight.', 'Nine ten.'];
    const out = await Promise.all(texts.map((t) => p.synthesize('kal', t)));
    expect(out.every((a) => a.sampleRate === 8000 && a.samples.length > 0)).toBe(true);
    await Promise.all(texts.map((t) => p.synthesize('kal', t)));
    expect(p.stats()).toMatchObject({ threads: 2, compiles: 1, completed: 8 });
  });

  it('refuses requests past the queue bound with FliteBusyError', async () => {
    const p = pool({ threads: 1, maxQueued: 2 });
    const a = p.synthesize('kal', 'First.');
    const b = p.synthesize('kal', 'Second.');
    await expect(p.synthesize('kal', 'Third.')).rejects.toThrow(FliteBusyError);
    await expect(p.synthesize('kal', 'Third.')).rejects.toThrow(/queue is full \(2 requests waiting\)/);
    await Promise.all([a, b]);
    await expect(p.synthesize('kal', 'Now there is room.')).resolves.toMatchObject({ sampleRate: 8000 });
  });

  it('drops an aborted request from the queue at once, rejecting with the reason', async () => {
    const p = pool({ threads: 1 });
    const first = p.synthesize('slt', 'A sentence that keeps the thread busy for a little while, at least.');
    const ac = new AbortController();
    const second = p.synthesize('slt', 'Never synthesized.', ac.signal);
    expect(p.stats().queued).toBe(2);
    ac.abort(new Error('caller went away'));
    await expect(second).rejects.toThrow('caller went away');
    expect(p.stats().queued).toBe(1);
    await first;
    expect(p.stats()).toMatchObject({ completed: 1, queued: 0 });
    await expect(p.synthesize('kal', 'x', AbortSignal.abort(new Error('already')))).rejects.toThrow('already');
  });

  it('kills a thread whose request runs too long, and carries on with a fresh one', async () => {
    const p = pool({ threads: 1, jobTimeoutMs: 300 });
    await p.synthesize('kal', 'Warm up.'); // the thread is up; the timeout counts synthesis only
    // ~2000 words in one utterance: seconds of Flite time, far past the timeout.
    await expect(p.synthesize('awb', 'word '.repeat(2000))).rejects.toThrow(/longer than 300 ms: synthesis thread restarted/);
    const after = await p.synthesize('kal', 'Still here.');
    expect(after.samples.length).toBeGreaterThan(0);
    expect(p.stats()).toMatchObject({ threads: 1, compiles: 1, failed: 1 });
  });
});
