import { afterEach, describe, expect, it } from 'vitest';
import { FrameClock, wallPhaseOrigin, type FrameClockListener } from './frame-clock.ts';

// Real clock, real timers; bounds loose enough for a shared, noisy CI machine.

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

let cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup) c();
  cleanup = [];
});

function listen(clock: FrameClock, fn: FrameClockListener): FrameClockListener {
  clock.add(fn);
  cleanup.push(() => clock.delete(fn));
  return fn;
}

describe('FrameClock', () => {
  it('calls every listener in the same timer turn, once per tick, in the order they were added', async () => {
    const clock = new FrameClock({ frameMs: 20 });
    const calls: { who: string; tick: number; at: number; turn: number }[] = [];
    // A macrotask counter: listeners called in one timer callback see the same value.
    let turn = 0;
    const bump = setInterval(() => turn++, 1);
    cleanup.push(() => clearInterval(bump));
    listen(clock, (tick) => void calls.push({ who: 'a', tick, at: performance.now(), turn }));
    listen(clock, (tick) => void calls.push({ who: 'b', tick, at: performance.now(), turn }));
    await sleep(210);
    const a = calls.filter((c) => c.who === 'a');
    const b = calls.filter((c) => c.who === 'b');
    expect(a.length).toBeGreaterThanOrEqual(8);
    expect(Math.abs(a.length - b.length)).toBeLessThanOrEqual(1);
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      expect(b[i]!.tick).toBe(a[i]!.tick);
      expect(b[i]!.turn).toBe(a[i]!.turn);
      expect(calls.indexOf(b[i]!)).toBe(calls.indexOf(a[i]!) + 1);
      if (i > 0) expect(a[i]!.tick).toBe(a[i - 1]!.tick + 1);
      // Never early (1 ms for Node's whole-ms timers).
      expect(a[i]!.at).toBeGreaterThanOrEqual(clock.dueAt(a[i]!.tick) - 1);
    }
  });

  it('addFirst puts a listener before every one already there (and moves one that was)', async () => {
    const clock = new FrameClock({ frameMs: 20 });
    const order: string[] = [];
    listen(clock, () => void order.push('a'));
    listen(clock, () => void order.push('b'));
    const first: FrameClockListener = () => void order.push('first');
    clock.addFirst(first);
    cleanup.push(() => clock.delete(first));
    clock.addFirst(first); // twice: still once per tick, still first
    await sleep(70);
    expect(order.length).toBeGreaterThanOrEqual(6);
    const ticks = Math.floor(order.length / 3);
    expect(order.slice(0, ticks * 3)).toEqual(Array.from({ length: ticks }, () => ['first', 'a', 'b']).flat());
  });

  it('keeps one timer for all its listeners, and none without listeners', async () => {
    const clock = new FrameClock();
    const fns = [() => {}, () => {}, () => {}];
    let before = timeouts();
    clock.add(fns[0]!);
    expect(timeouts()).toBe(before + 1);
    clock.add(fns[1]!);
    clock.add(fns[2]!);
    expect(timeouts()).toBe(before + 1);
    await sleep(50);
    before = timeouts();
    clock.delete(fns[0]!);
    clock.delete(fns[1]!);
    expect(timeouts()).toBe(before);
    clock.delete(fns[2]!);
    expect(timeouts()).toBe(before - 1);
    expect(clock.listeners).toBe(0);
  });

  it('puts tick k at origin + k * frameMs', () => {
    const clock = new FrameClock({ frameMs: 20, originMs: 1000, now: () => 1000 });
    expect(clock.dueAt(0)).toBe(1000);
    expect(clock.dueAt(3)).toBe(1060);
    expect(clock.tickAt(1000)).toBe(0);
    expect(clock.tickAt(1000.5)).toBe(1);
    expect(clock.tickAt(1040)).toBe(2);
  });

  it('skips ahead after a stall instead of firing the backlog', async () => {
    let offset = 0;
    const clock = new FrameClock({ frameMs: 20, now: () => performance.now() + offset, maxLagFrames: 5 });
    const ticks: number[] = [];
    listen(clock, (tick) => void ticks.push(tick));
    while (ticks.length < 3) await sleep(5);
    offset += 500; // as if the event loop had been blocked for 500 ms
    const before = ticks.length;
    await sleep(50);
    const jump = ticks.findIndex((t, i) => i > 0 && t - ticks[i - 1]! > 1);
    expect(jump).toBe(before);
    expect(ticks[jump]! - ticks[jump - 1]!).toBeGreaterThanOrEqual(24);
    // No burst: about one tick per 20 ms after the jump (50 ms slept, +1 for timer slack).
    expect(ticks.length - jump).toBeLessThanOrEqual(4);
  });

  it("hands a listener's exception to onError and keeps calling the others and ticking", async () => {
    const errors: unknown[] = [];
    const clock = new FrameClock({ onError: (e) => errors.push(e) });
    let good = 0;
    listen(clock, () => {
      throw new Error('boom');
    });
    listen(clock, () => void good++);
    await sleep(100);
    expect(good).toBeGreaterThanOrEqual(3);
    expect(errors.length).toBeGreaterThanOrEqual(good - 1);
    expect((errors[0] as Error).message).toBe('boom');
  });

  it('lets a listener leave during a tick; the timer stops with the last one', async () => {
    const clock = new FrameClock();
    let calls = 0;
    const once: FrameClockListener = () => {
      calls++;
      clock.delete(once);
    };
    clock.add(once);
    await sleep(80);
    expect(calls).toBe(1);
    expect(clock.listeners).toBe(0);
  });

  it('runs a due tick at once from runIfDue (a receive path between packets), once, and the timer goes on from the next', async () => {
    let offset = 0;
    const clock = new FrameClock({ frameMs: 20, now: () => performance.now() + offset });
    const ticks: number[] = [];
    listen(clock, (tick) => void ticks.push(tick));
    while (ticks.length < 2) await sleep(2);
    const n = ticks.length;
    const last = ticks[n - 1]!;
    clock.runIfDue(); // not due yet: nothing
    expect(ticks).toHaveLength(n);
    // The next tick falls due while this task is still running (as during a batch of packets).
    offset = clock.dueAt(last + 1) - performance.now() + 0.5;
    clock.runIfDue();
    expect(ticks.slice(n)).toEqual([last + 1]);
    clock.runIfDue(); // already run: not again
    expect(ticks).toHaveLength(n + 1);
    await sleep(70);
    // The timer carried on from the tick after it: no tick twice, none skipped.
    expect(ticks.every((t, i) => i === 0 || t === ticks[i - 1]! + 1)).toBe(true);
    expect(ticks.length).toBeGreaterThanOrEqual(5);
  });

  it('tells send observers how late each sending listener returned, and only those that sent', async () => {
    const clock = new FrameClock({ frameMs: 20 });
    const seen: { tick: number; late: number }[] = [];
    let tick = -1;
    const stop = clock.observeSends((late) => seen.push({ tick, late }));
    listen(clock, (t) => {
      tick = t;
      const until = performance.now() + 3;
      while (performance.now() < until); // 3 ms of work before the send
      return true;
    });
    listen(clock, () => {}); // idle: sent nothing
    await sleep(110);
    stop();
    const n = seen.length;
    expect(n).toBeGreaterThanOrEqual(3);
    for (const s of seen) expect(s.late).toBeGreaterThanOrEqual(2); // 3 ms of work; a timer may fire up to 1 ms early
    expect(new Set(seen.map((s) => s.tick)).size).toBe(n); // one per tick: the idle listener is not heard
    await sleep(50);
    expect(seen).toHaveLength(n); // unsubscribed
  });

  it('is one clock per frame length for the whole process, ticking on performance.now()', () => {
    expect(FrameClock.shared(20)).toBe(FrameClock.shared(20));
    expect(FrameClock.shared(10)).not.toBe(FrameClock.shared(20));
    expect(FrameClock.shared(20).originMs).toBe(0);
  });

  it('rejects a frame length or lag bound it cannot tick on', () => {
    expect(() => new FrameClock({ frameMs: 0 })).toThrow(/frameMs/);
    expect(() => new FrameClock({ frameMs: Number.NaN })).toThrow(/frameMs/);
    expect(() => new FrameClock({ maxLagFrames: 0 })).toThrow(/maxLagFrames/);
    expect(() => new FrameClock({ maxLagFrames: 1.5 })).toThrow(/maxLagFrames/);
  });
});

describe('FrameClock shared offset (FRAME_CLOCK_OFFSET_MS)', () => {
  it('puts ticks at the offset past each period on the wall clock, whatever the process start', () => {
    for (const timeOrigin of [1_765_000_000_123.4, 1_765_000_000_131.9, 7]) {
      for (const offset of [0, 5, 10, 19.5]) {
        const origin = wallPhaseOrigin(offset, 20, timeOrigin);
        expect(origin).toBeGreaterThanOrEqual(0);
        expect(origin).toBeLessThan(20);
        // Tick 3 of that clock, on the wall clock, sits `offset` past a multiple of 20.
        const wall = timeOrigin + origin + 3 * 20;
        expect((((wall - offset) % 20) + 20) % 20).toBeCloseTo(0, 6);
      }
    }
  });

  it('refuses to move the shared clocks once one ticks', () => {
    FrameClock.shared(20);
    expect(() => FrameClock.setSharedOffset(10)).toThrow(/already ticks/);
  });
});
