import { describe, expect, it } from 'vitest';
import { decideAcquire, MAX_RETRY_AFTER_S } from './client-slots.ts';

const NOW = 1_000_000;

describe('decideAcquire', () => {
  it('lets a client in below the limit and refuses it at the limit, with Retry-After until the earliest expiry', () => {
    const slots: [string, number][] = [
      ['a', NOW + 30_000],
      ['b', NOW + 12_500],
    ];
    expect(decideAcquire(slots, 'c', 3, NOW)).toEqual({ ok: true, expired: [] });
    expect(decideAcquire(slots, 'c', 2, NOW)).toEqual({ ok: false, expired: [], live: 2, retryAfterS: 13 });
  });

  it('no longer counts sessions past their expiry (a lost release heals) and reports them for removal', () => {
    const slots: [string, number][] = [
      ['gone', NOW - 1],
      ['also-gone', NOW],
      ['live', NOW + 5_000],
    ];
    expect(decideAcquire(slots, 'new', 2, NOW)).toEqual({ ok: true, expired: ['gone', 'also-gone'] });
  });

  it('admits a session that already holds a slot again, and caps Retry-After', () => {
    const slots: [string, number][] = [['a', NOW + 3_600_000]];
    expect(decideAcquire(slots, 'a', 1, NOW).ok).toBe(true);
    expect(decideAcquire(slots, 'b', 1, NOW)).toMatchObject({ ok: false, retryAfterS: MAX_RETRY_AFTER_S });
  });
});
