import { describe, expect, it } from 'vitest';
import { ReplyTracker } from './reply-tracker.ts';
import { MAX_DROPPED, Responses } from './responses.ts';

const call = (callId: string) => ({ callId, name: 't', arguments: '{}' });

describe('Responses', () => {
  it('cancels the active response once, remembers at most MAX_DROPPED, and joins a tool chain into one reply', () => {
    const rs = new Responses(new ReplyTracker());
    expect(rs.cancelActive()).toBe(false);
    rs.active = 'r1';
    expect(rs.cancelActive()).toBe(true);
    expect(rs.cancelActive()).toBe(false);
    expect(rs.dropped('r1')).toBe(true);
    for (let i = 0; i < MAX_DROPPED; i++) {
      rs.active = `x${i}`;
      rs.cancelActive();
    }
    expect(rs.dropped('r1')).toBe(false);
    const reply = rs.replyFor('a');
    expect(rs.replyFor('b')).toBe(reply); // not closed: the next response's audio joins it
    expect(rs.done('a')).toEqual({ reply, calls: [], cancelled: false });
  });

  it('a lost session forgets its responses and calls; the running ones are named', () => {
    const rs = new Responses(new ReplyTracker());
    rs.active = 'r2';
    rs.calls.add('r1', call('c1'));
    rs.calls.started(rs.done('r1').calls);
    rs.calls.add('r2', call('c2'));
    expect(rs.lost()).toEqual(['c1']);
    expect(rs.active).toBeUndefined();
    expect(rs.done('r2').calls).toEqual([]);
    expect(rs.lost()).toEqual([]);
  });
});
