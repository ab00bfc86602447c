import { describe, expect, it } from 'vitest';
import { FrameClock } from '../audio/frame-clock.ts';
import { ReceiveBatch, type BatchTarget } from './receive-batch.ts';

// Real clock, real timers.

const until = async (cond: () => boolean, timeoutMs = 2000) => {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
};

function target(name: string, log: string[]): BatchTarget<string> {
  return { deliver: (data, from) => void log.push(`${name}:${data.toString()}@${from}`) };
}

describe('ReceiveBatch', () => {
  it('hands queued datagrams over after the tick’s sends, in arrival order across calls, never on arrival', async () => {
    const clock = new FrameClock({ frameMs: 20 });
    const log: string[] = [];
    const sender = (tick: number) => void log.push(`send ${tick}`);
    clock.add(sender);
    try {
      const batch = new ReceiveBatch<string>(clock);
      const a = target('a', log);
      const b = target('b', log);
      batch.push(a, Buffer.from('1'), 'x');
      batch.push(b, Buffer.from('1'), 'y');
      batch.push(a, Buffer.from('2'), 'x');
      expect(log).toEqual([]);
      expect(batch.pending).toBe(3);
      await until(() => log.some((l) => l.startsWith('a:')));
      const first = log.findIndex((l) => l.startsWith('a:'));
      expect(log[first - 1]).toMatch(/^send /); // the tick's sends went first
      expect(log.slice(first)).toEqual(['a:1@x', 'b:1@y', 'a:2@x']);
      expect(batch.pending).toBe(0);
    } finally {
      clock.delete(sender);
    }
  });

  it('keeps a datagram that arrived after the tick was due for the next tick', async () => {
    const clock = new FrameClock({ frameMs: 20 });
    const log: string[] = [];
    const ticks: number[] = [];
    const counter = (tick: number) => void ticks.push(tick);
    clock.add(counter);
    try {
      const batch = new ReceiveBatch<string>(clock);
      const t = target('t', log);
      const next = clock.tickAt(clock.now());
      batch.push(t, Buffer.from('on-time'), 'x');
      // Arrived just after tick `next` was due (a timer firing late, say): it belongs to the tick after.
      batch.push(t, Buffer.from('late'), 'x', clock.dueAt(next) + 1);
      await until(() => log.length === 1);
      const drainedAfter = ticks.length;
      expect(log).toEqual(['t:on-time@x']);
      await until(() => log.length === 2);
      expect(ticks.length).toBeGreaterThan(drainedAfter);
      expect(log[1]).toBe('t:late@x');
    } finally {
      clock.delete(counter);
    }
  });

  it('leaves the clock once drained, and one target’s exception does not stop the rest', async () => {
    const errors: unknown[] = [];
    const clock = new FrameClock({ frameMs: 20, onError: (e) => errors.push(e) });
    const batch = new ReceiveBatch<string>(clock);
    const log: string[] = [];
    const broken: BatchTarget<string> = {
      deliver: () => {
        throw new Error('bad packet');
      },
    };
    batch.push(broken, Buffer.from('1'), 'x');
    batch.push(target('ok', log), Buffer.from('2'), 'y');
    expect(clock.listeners).toBe(1); // on the clock only while something waits
    await until(() => log.length === 1);
    expect(log).toEqual(['ok:2@y']);
    expect(errors).toHaveLength(1);
    expect(clock.listeners).toBe(0);
  });
});

describe('ReceiveBatch.sharedFrames', () => {
  it('hands decoded frames of calls that arrived at different moments over in one turn, with the datagrams of the tick', async () => {
    const frames = ReceiveBatch.sharedFrames();
    expect(ReceiveBatch.sharedFrames()).toBe(frames);
    const turns: Array<{ what: string; turn: number }> = [];
    let turn = 0;
    const counter = setInterval(() => turn++, 0);
    const frameTarget = (name: string): BatchTarget<null, number> => ({ deliver: (n) => void turns.push({ what: `${name}${n}`, turn }) });
    const dgram: BatchTarget<string> = { deliver: (d) => void turns.push({ what: `rtp${d.toString()}`, turn }) };
    try {
      const batch = frames as unknown as ReceiveBatch<null, number>;
      // Pushed within one frame period, a few ms apart: as a phone call's frames arrive from the edge.
      batch.push(frameTarget('a'), 1, null, performance.now() - 1);
      ReceiveBatch.shared<string>().push(dgram, Buffer.from('1'), 'x', performance.now() - 1);
      batch.push(frameTarget('b'), 1, null, performance.now() - 1);
      await until(() => turns.length === 3);
      expect(turns.map((t) => t.what).sort()).toEqual(['a1', 'b1', 'rtp1']);
      expect(new Set(turns.map((t) => t.turn)).size).toBe(1);
    } finally {
      clearInterval(counter);
    }
  });
});
