import { describe, expect, it } from 'vitest';
import { ChannelGuard, DEFAULT_CHANNEL_LIMITS } from './channel-guard.ts';

describe('ChannelGuard', () => {
  it('admits a burst of 200 messages at once, then 50 per second', () => {
    const g = new ChannelGuard(0);
    for (let i = 0; i < 200; i++) expect(g.admitMessage(100, 0).ok).toBe(true);
    expect(g.admitMessage(100, 0)).toMatchObject({ ok: false, violation: 'too_fast' });
    // One second refills 50 tokens, no more.
    let admitted = 0;
    for (let i = 0; i < 100; i++) if (g.admitMessage(100, 1000).ok) admitted++;
    expect(admitted).toBe(50);
  });

  it('lets a client sending 50 messages/s forever through without a violation', () => {
    const g = new ChannelGuard(0);
    for (let i = 0; i < 50 * 600; i++) expect(g.admitMessage(1000, i * 20).ok).toBe(true);
  });

  it('rejects a message over 16 KiB, and accepts exactly 16 KiB', () => {
    const g = new ChannelGuard(0);
    expect(g.admitMessage(16 * 1024, 0).ok).toBe(true);
    expect(g.admitMessage(16 * 1024 + 1, 0)).toMatchObject({ ok: false, violation: 'too_large', notify: true, end: false });
  });

  it('admits 64 distinct types, then only the ones already seen', () => {
    const g = new ChannelGuard(0);
    for (let i = 0; i < 64; i++) expect(g.admitType(`t${i}`).ok).toBe(true);
    expect(g.admitType('t64')).toMatchObject({ ok: false, violation: 'too_many_types' });
    expect(g.admitType('t3').ok).toBe(true);
    expect(g.typeCount).toBe(64);
  });

  it('notifies on the first violation only, and ends once when a flood goes on', () => {
    const g = new ChannelGuard(0);
    const verdicts = [];
    for (let i = 0; i < 1000; i++) verdicts.push(g.admitMessage(100, 0));
    const failed = verdicts.filter((v) => !v.ok);
    expect(failed.filter((v) => v.notify)).toHaveLength(1);
    expect(failed.filter((v) => v.end)).toHaveLength(1);
    // The end comes after maxStrikes violations past the burst: 200 admitted, then 51 dropped.
    const endAt = verdicts.findIndex((v) => !v.ok && v.end);
    expect(endAt).toBe(200 + DEFAULT_CHANNEL_LIMITS.maxStrikes);
  });

  it('ends a client sustaining 60 messages/s within about 10 s, and forgives occasional overshoots', () => {
    const sustained = new ChannelGuard(0);
    let endAtMs = -1;
    for (let i = 0; i < 60 * 60 && endAtMs < 0; i++) {
      const t = (i * 1000) / 60;
      const v = sustained.admitMessage(100, t);
      if (!v.ok && v.end) endAtMs = t;
    }
    // 200 burst tokens last 20 s at 10/s over, then ~6 s of strikes.
    expect(endAtMs).toBeGreaterThan(20_000);
    expect(endAtMs).toBeLessThan(30_000);

    const bursty = new ChannelGuard(0);
    // 210 messages at once every minute for an hour: 10 violations each time, forgiven by the next.
    for (let minute = 0; minute < 60; minute++) {
      for (let i = 0; i < 210; i++) {
        const v = bursty.admitMessage(100, minute * 60_000);
        expect(!v.ok && v.end).toBe(false);
      }
    }
  });

  it('counts oversized messages and new types alike towards the end', () => {
    const g = new ChannelGuard(0);
    for (let i = 0; i < 64; i++) g.admitType(`t${i}`);
    const verdicts = [];
    for (let i = 0; i < 40; i++) verdicts.push(g.admitType(`new${i}`), g.admitMessage(1e6, 0));
    expect(verdicts.every((v) => !v.ok)).toBe(true);
    // The 51st strike ends it, once.
    expect(verdicts.findIndex((v) => !v.ok && v.end)).toBe(DEFAULT_CHANNEL_LIMITS.maxStrikes);
    expect(verdicts.filter((v) => !v.ok && v.end)).toHaveLength(1);
  });
});
