import { describe, expect, it } from 'vitest';
import { audioFrame, type AudioFrame } from '../../audio/frame.ts';
import type { PlayoutOutput, SegmentResult } from '../../audio/playout/types.ts';
import { DeferredOutput } from './deferred-output.ts';

const frame = (ms: number, mark: number): AudioFrame => audioFrame(new Int16Array((8000 * ms) / 1000).fill(mark), 8000);

/** An engine stand-in that records what it is handed, in order. */
function recorder(): PlayoutOutput & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    push: (f) => void log.push(`push ${f.samples[0]}`),
    finish: () => (log.push('finish'), Promise.resolve({ playedMs: 42, interrupted: false })),
    clear: () => (log.push('clear'), { playedMs: 0, interrupted: true }),
    queuedMs: () => 7,
    whenQueuedAtMost: () => (log.push('wait'), Promise.resolve(true)),
  };
}

describe('DeferredOutput', () => {
  it('holds audio and segment ends until the engine exists, then hands them over in order', async () => {
    const out = new DeferredOutput();
    out.push(frame(20, 1));
    const first = out.finish();
    out.push(frame(20, 2));
    expect(out.queuedMs()).toBe(40);
    const engine = recorder();
    out.attach(engine);
    expect(engine.log).toEqual(['push 1', 'finish', 'push 2']);
    expect(await first).toEqual({ playedMs: 42, interrupted: false });
    out.push(frame(20, 3));
    expect(engine.log.at(-1)).toBe('push 3');
    expect(out.queuedMs()).toBe(7);
  });

  it('keeps at most maxQueueMs, dropping the oldest audio', () => {
    const out = new DeferredOutput(100);
    for (let i = 1; i <= 8; i++) out.push(frame(20, i));
    expect(out.queuedMs()).toBe(100);
    const engine = recorder();
    out.attach(engine);
    expect(engine.log).toEqual(['push 4', 'push 5', 'push 6', 'push 7', 'push 8']);
  });

  it('a clear before the engine exists drops everything and ends pending segments as interrupted', async () => {
    const out = new DeferredOutput();
    out.push(frame(20, 1));
    const pending = out.finish();
    expect(out.clear()).toEqual({ playedMs: 0, interrupted: true });
    expect(await pending).toEqual<SegmentResult>({ playedMs: 0, interrupted: true });
    const engine = recorder();
    out.attach(engine);
    expect(engine.log).toEqual([]);
  });

  it('waiting for room waits for the engine when too much is held, and gives up on abort', async () => {
    const out = new DeferredOutput();
    out.push(frame(200, 1));
    expect(await out.whenQueuedAtMost(500, new AbortController().signal)).toBe(true);
    const aborted = new AbortController();
    const gaveUp = out.whenQueuedAtMost(100, aborted.signal);
    aborted.abort();
    expect(await gaveUp).toBe(false);
    const waiting = out.whenQueuedAtMost(100, new AbortController().signal);
    const engine = recorder();
    out.attach(engine);
    expect(await waiting).toBe(true);
    expect(engine.log).toContain('wait');
  });
});
