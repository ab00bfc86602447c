import { afterEach, describe, expect, it, vi } from 'vitest';
import { IceCredentialRefresher } from './ice-refresh.ts';

afterEach(() => vi.useRealTimers());

describe('refreshing the worker\'s TURN credentials', () => {
  it('asks before expiry: a tenth of the lifetime ahead, at least the minimum lead', () => {
    vi.useFakeTimers({ now: 0 });
    const asked: number[] = [];
    const r = new IceCredentialRefresher({ request: () => asked.push(Date.now()), minLeadMs: 30_000 });
    r.schedule(3_600_000); // one hour: lead 360 s
    vi.advanceTimersByTime(3_239_999);
    expect(asked).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(asked).toEqual([3_240_000]);
    r.schedule(Date.now() + 100_000); // short lifetime: the 30 s minimum lead
    vi.advanceTimersByTime(70_000);
    expect(asked).toEqual([3_240_000, 3_310_000]);
  });

  it('asks at once when already inside the lead, re-arms on new credentials, and stops', () => {
    vi.useFakeTimers({ now: 1000 });
    let asked = 0;
    const r = new IceCredentialRefresher({ request: () => asked++, minLeadMs: 30_000 });
    r.schedule(11_000);
    vi.advanceTimersByTime(0);
    expect(asked).toBe(1);
    r.schedule(Date.now() + 600_000);
    r.stop();
    vi.advanceTimersByTime(600_000);
    expect(asked).toBe(1);
    r.schedule(null);
    vi.advanceTimersByTime(10_000_000);
    expect(asked).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });
});
