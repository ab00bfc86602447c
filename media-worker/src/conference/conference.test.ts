import { afterEach, describe, expect, it } from 'vitest';
import { audioFrame, type AudioFrame } from '../audio/frame.ts';
import { MemoryTransport } from '../pipeline/memory-transport.test-helper.ts';
import { Conference } from './conference.ts';
import { ConferenceView } from './conference-view.ts';
import { sine, toneAmplitude } from './tone.test-helper.ts';

const RATE = 16000;
const opened: Conference[] = [];
afterEach(() => {
  for (const c of opened.splice(0)) c.close();
});

async function conference(): Promise<Conference> {
  const c = await Conference.create({ sampleRate: RATE });
  opened.push(c);
  return c;
}

/** `ms` of a tone at `rate`. */
const tone = (hz: number, ms: number, rate = RATE, amp = 6000): AudioFrame => audioFrame(sine(hz, rate, (rate * ms) / 1000, amp), rate, 1);

/** Everything a memory transport's output got, joined, at the conference rate. */
function heard(t: MemoryTransport): Int16Array {
  const n = t.played.reduce((s, p) => s + p.frame.samples.length, 0);
  const out = new Int16Array(n);
  let o = 0;
  for (const p of t.played) {
    out.set(p.frame.samples, o);
    o += p.frame.samples.length;
  }
  return out;
}

describe('Conference', () => {
  it('each leg hears every other leg and the handler, never itself; the handler hears everyone', async () => {
    const conf = await conference();
    const a = new MemoryTransport();
    const b = new MemoryTransport();
    const c = new MemoryTransport();
    conf.addLeg('a', a);
    conf.addLeg('b', b);
    conf.addLeg('c', c);
    const mixed: Int16Array[] = [];
    conf.onMixed((f) => mixed.push(f.samples));
    conf.handlerOutput.push(tone(1000, 600));
    conf.handlerOutputTo('b').push(tone(1200, 600));
    // A browser at 48 kHz, a phone at 8 kHz, a stream client at 16 kHz: each converted on the way in.
    await Promise.all([a.feed(tone(300, 800, 48000)), b.feed(tone(500, 800, 8000)), c.feed(tone(700, 800, 16000))]);
    const amp = (s: Int16Array, hz: number) => toneAmplitude(s.subarray(Math.floor(s.length / 4), Math.floor((3 * s.length) / 4)), hz, RATE);
    const ha = heard(a);
    const hb = heard(b);
    const hc = heard(c);
    expect(ha.length).toBeGreaterThan(RATE / 2);
    for (const [name, s, own, others] of [
      ['a', ha, 300, [500, 700]],
      ['b', hb, 500, [300, 700]],
      ['c', hc, 700, [300, 500]],
    ] as const) {
      expect(amp(s, own), `${name} hears itself`).toBeLessThan(100);
      for (const hz of others) expect(amp(s, hz), `${name} hears ${hz} Hz`).toBeGreaterThan(2000);
    }
    // The handler to everyone reaches all; the handler to b only b.
    for (const s of [ha, hb, hc]) expect(toneAmplitude(s.subarray(0, RATE / 2), 1000, RATE)).toBeGreaterThan(1500);
    expect(toneAmplitude(hb.subarray(0, RATE / 2), 1200, RATE)).toBeGreaterThan(1500);
    expect(toneAmplitude(ha.subarray(0, RATE / 2), 1200, RATE)).toBeLessThan(100);
    expect(toneAmplitude(hc.subarray(0, RATE / 2), 1200, RATE)).toBeLessThan(100);
    // The handler's input is every leg, without its own audio.
    const all = new Int16Array(mixed.reduce((n, m) => n + m.length, 0));
    let o = 0;
    for (const m of mixed) {
      all.set(m, o);
      o += m.length;
    }
    const mid = all.subarray(Math.floor(all.length / 4), Math.floor((3 * all.length) / 4));
    for (const hz of [300, 500, 700]) expect(toneAmplitude(mid, hz, RATE)).toBeGreaterThan(2000);
    expect(toneAmplitude(mid, 1000, RATE)).toBeLessThan(100);
  });

  it('a leg whose output holds more than its bound skips the mix instead of queueing behind it', async () => {
    const conf = await conference();
    const a = new MemoryTransport();
    const b = new MemoryTransport();
    a.output.push(tone(200, 400)); // a reply already queued on a before the conference began
    conf.addLeg('a', a);
    conf.addLeg('b', b);
    await b.feed(tone(500, 600));
    const skipped = conf.stats().skipped['a']!;
    expect(skipped).toBeGreaterThan(10); // ~300 ms of the 400 ms backlog
    // The backlog played first and intact; then the mix resumed.
    const ha = heard(a);
    expect(toneAmplitude(ha.subarray(0, (RATE * 400) / 1000), 200, RATE)).toBeGreaterThan(5000);
    expect(toneAmplitude(ha.subarray((RATE * 400) / 1000), 500, RATE)).toBeGreaterThan(2000);
  });

  it('sends a listener nothing while everyone else is silent (so the far end queue drains in every pause)', async () => {
    const conf = await conference();
    const a = new MemoryTransport();
    const b = new MemoryTransport();
    conf.addLeg('a', a);
    conf.addLeg('b', b);
    const quiet = audioFrame(new Int16Array(RATE / 2).map((_, i) => (i % 2 ? 20 : -20)), RATE, 1); // -64 dBFS noise
    await b.feed(quiet);
    expect(a.played.length).toBe(0);
    await b.feed(tone(500, 200));
    expect(a.played.length).toBeGreaterThan(5);
  });

  it('a removed leg is neither heard nor fed; a replaced transport carries on as the same leg', async () => {
    const conf = await conference();
    const a = new MemoryTransport();
    const b = new MemoryTransport();
    const b2 = new MemoryTransport();
    conf.addLeg('a', a);
    conf.addLeg('b', b);
    conf.replaceTransport('b', b2);
    await b.feed(tone(500, 200)); // the old transport: no longer listened to
    expect(a.played.length).toBe(0); // nothing of b reached a
    await b2.feed(tone(500, 300));
    expect(toneAmplitude(heard(a), 500, RATE)).toBeGreaterThan(1000);
    conf.removeLeg('b');
    expect(conf.legIds).toEqual(['a']);
    expect(() => conf.handlerOutputTo('b')).toThrow(/no leg b/);
  });
});

describe('ConferenceView', () => {
  it('alone, is the primary frame for frame; in a conference, hears the mix and speaks through it', async () => {
    const primary = new MemoryTransport();
    const view = new ConferenceView(primary);
    const got: AudioFrame[] = [];
    view.onAudio((f) => got.push(f));
    const events: unknown[] = [];
    view.onEvent((e) => events.push(e));
    const f = tone(300, 20);
    await primary.feed(f);
    expect(got[0]!.samples).toEqual(f.samples); // straight through (feed() slices it into a new frame)
    expect(view.output).toBe(primary.output);

    const conf = await conference();
    conf.addLeg('p', primary);
    const phone = new MemoryTransport();
    conf.addLeg('l', phone);
    view.useConference(conf);
    expect(view.output).toBe(conf.handlerOutput);
    got.length = 0;
    await Promise.all([primary.feed(tone(300, 300)), phone.feed(tone(500, 300, 8000))]);
    expect(got.length).toBeGreaterThan(5);
    expect(got.every((g) => g.sampleRate === RATE)).toBe(true);
    const joined = new Int16Array(got.flatMap((g) => [...g.samples]));
    expect(toneAmplitude(joined, 500, RATE)).toBeGreaterThan(1000);

    view.legEvent('l', { type: 'dtmf', digit: '5' });
    primary.clientEvent({ type: 'input', text: 'hi' });
    expect(events).toEqual([{ type: 'dtmf', digit: '5', legId: 'l' }, { type: 'input', text: 'hi' }]);

    view.useConference(null);
    expect(view.output).toBe(primary.output);
    view.detach();
    conf.removeLeg('p');
    expect(primary.listenerCount()).toBe(0);
  });
});
