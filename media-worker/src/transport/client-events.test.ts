import type { ChannelMessage } from '@switchboard/protocol';
import { describe, expect, it } from 'vitest';
import { ClientEvents } from './client-events.ts';

function setup() {
  let now = 0;
  const sent: ChannelMessage[] = [];
  const delivered: ChannelMessage[] = [];
  let abused = 0;
  const events = new ClientEvents({ send: (e) => sent.push(e), deliver: (e) => delivered.push(e), onAbuse: () => abused++, now: () => now });
  return { events, sent, delivered, abused: () => abused, advance: (ms: number) => (now += ms) };
}

describe('ClientEvents', () => {
  it('answers a ping with a pong carrying its t, and hands every other event to the pipeline', () => {
    const c = setup();
    c.events.receive({ type: 'ping', t: 7 });
    c.events.receive({ type: 'ping' });
    c.events.receive({ type: 'note', text: 'hi' });
    expect(c.sent).toEqual([{ type: 'pong', t: 7 }, { type: 'pong' }]);
    expect(c.delivered).toEqual([{ type: 'note', text: 'hi' }]);
  });

  it('drops an oversized message and tells the client once, whatever the violations that follow', () => {
    const c = setup();
    expect(c.events.admit(16 * 1024 + 1)).toBe(false);
    expect(c.events.admit(100)).toBe(true);
    for (let i = 0; i < 64; i++) c.events.receive({ type: `t${i}` });
    c.events.receive({ type: 'one-too-many' });
    c.events.violation('audio faster than twice real time');
    expect(c.sent.filter((e) => e.type === 'error')).toEqual([{ type: 'error', code: 'abuse', message: expect.stringContaining('16384') }]);
    expect(c.delivered).toHaveLength(64);
    // The audio violation ends the session at once.
    expect(c.abused()).toBe(1);
  });

  it('ends the session when a flood goes on', () => {
    const c = setup();
    let admitted = 0;
    for (let i = 0; i < 400; i++) if (c.events.admit(10)) admitted++;
    expect(admitted).toBe(200); // the burst
    expect(c.abused()).toBe(1);
  });
});
