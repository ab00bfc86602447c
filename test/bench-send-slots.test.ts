import { describe, expect, it } from 'vitest';
import { SendSlots } from '../bench/media/send-slots.ts';

/** Send times (ms from the clock's start) of each peer over `periods` packet periods. */
function sendTimes(s: SendSlots, peers: number, periods: number): number[][] {
  const times: number[][] = Array.from({ length: peers }, () => []);
  for (let tick = 0; tick < periods * s.slots; tick++) {
    const { slot } = s.at(tick);
    for (let i = 0; i < peers; i++) if (s.sendsIn(i, slot)) times[i]!.push(tick * s.tickMs);
  }
  return times;
}

describe('load peers spread over the packet period', () => {
  it('every peer sends once per 20 ms period, exactly 20 ms apart', () => {
    const s = new SendSlots(23);
    const times = sendTimes(s, 23, 50);
    for (const t of times) {
      expect(t).toHaveLength(50);
      for (let k = 1; k < t.length; k++) expect(t[k]! - t[k - 1]!).toBeCloseTo(20, 9);
    }
  });

  it('no more than ceil(peers / slots) packets leave in the same millisecond', () => {
    const s = new SendSlots(20);
    expect(s.slots).toBe(10);
    expect(s.tickMs).toBe(2);
    const perInstant = new Map<number, number>();
    for (const t of sendTimes(s, 20, 5)) for (const at of t) perInstant.set(at, (perInstant.get(at) ?? 0) + 1);
    expect(Math.max(...perInstant.values())).toBe(2);
    // Lock-step (one slot) would put all 20 at each instant.
    expect(perInstant.size).toBe(50);
  });

  it('the period a tick falls in counts whole packet periods (RTP timestamps follow it)', () => {
    const s = new SendSlots(4);
    expect(s.slots).toBe(4);
    expect([0, 3, 4, 7, 8].map((t) => s.at(t))).toEqual([
      { slot: 0, period: 0 },
      { slot: 3, period: 0 },
      { slot: 0, period: 1 },
      { slot: 3, period: 1 },
      { slot: 0, period: 2 },
    ]);
  });

  it('one peer (or none) is one slot of the whole period; bad settings are refused', () => {
    expect(new SendSlots(1).tickMs).toBe(20);
    expect(new SendSlots(0).slots).toBe(1);
    expect(() => new SendSlots(5, 0)).toThrow(/periodMs/);
    expect(() => new SendSlots(5, 20, 0)).toThrow(/maxSlots/);
  });
});
