import { describe, expect, it } from 'vitest';
import { MAX_HELD, MAX_HELD_BYTES, PendingEvents } from './pending-events.ts';

describe('PendingEvents', () => {
  it('delivers held events in order, once', () => {
    const p = new PendingEvents();
    p.hold({ type: 'transcript', text: 'hi' });
    p.hold({ type: 'reply.start' });
    const out: string[] = [];
    p.flush((e) => out.push(e.type));
    p.flush((e) => out.push(e.type));
    expect(out).toEqual(['transcript', 'reply.start']);
  });

  it('holds at most MAX_HELD events and MAX_HELD_BYTES, counting what it drops', () => {
    const p = new PendingEvents();
    for (let i = 0; i < MAX_HELD + 3; i++) p.hold({ type: 'e', i });
    expect(p.dropped).toBe(3);
    const q = new PendingEvents();
    q.hold({ type: 'big', text: 'x'.repeat(MAX_HELD_BYTES) });
    q.hold({ type: 'small' });
    const out: string[] = [];
    q.flush((e) => out.push(e.type));
    expect(out).toEqual(['small']);
    expect(q.dropped).toBe(1);
  });
});
