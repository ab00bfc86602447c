import { afterEach, describe, expect, it } from 'vitest';
import type { AudioFrame } from '../audio/frame.ts';
import { MemoryTransport } from '../pipeline/memory-transport.test-helper.ts';
import type { VadStream } from '../pipeline/turn-runner.ts';
import { Conference } from './conference.ts';
import { LegSpeech } from './leg-speech.ts';
import { sine } from './tone.test-helper.ts';

const RATE = 16000;
const opened: Conference[] = [];
afterEach(() => {
  for (const c of opened.splice(0)) c.close();
});

/** A VAD double (Silero's own tests are in vad/): a 20 ms window per frame, speech when loud. */
function loudnessVad(): VadStream {
  let t = 0;
  return {
    push: async (f: AudioFrame) => {
      let peak = 0;
      for (const v of f.samples) peak = Math.max(peak, Math.abs(v));
      const w = { prob: peak > 1000 ? 0.9 : 0.05, startMs: t, endMs: t + 20 };
      t += 20;
      return [w];
    },
  };
}

const tone = (ms: number) => ({ samples: sine(400, RATE, (RATE * ms) / 1000, 6000), sampleRate: RATE, channels: 1 });
const silence = (ms: number) => ({ samples: new Int16Array((RATE * ms) / 1000), sampleRate: RATE, channels: 1 });

describe('LegSpeech', () => {
  it('says who speaks: a start when a leg speaks, an end after 400 ms of its silence; the others stay quiet', async () => {
    const conf = await Conference.create({ sampleRate: RATE });
    opened.push(conf);
    const a = new MemoryTransport();
    const b = new MemoryTransport();
    conf.addLeg('a', a);
    conf.addLeg('b', b);
    const events: Array<Record<string, unknown>> = [];
    const speech = new LegSpeech({ vad: loudnessVad, send: (e) => events.push(e), log: () => {} });
    conf.onTick((r) => speech.tick(r));
    let during: string[] = [];
    await Promise.all([a.feed(silence(1400)), b.feed(tone(400)).then(() => (during = speech.speaking())).then(() => b.feed(silence(1000)))]);
    expect(during).toEqual(['b']);
    expect(events.map((e) => [e['type'], e['legId']])).toEqual([
      ['leg.speech.start', 'b'],
      ['leg.speech.end', 'b'],
    ]);
    expect(events[1]!['speechMs']).toBeGreaterThan(250);
    expect(speech.speaking()).toEqual([]);
    speech.close();
  });

  it('a leg that leaves while speaking ends its speech; a failing VAD is dropped, not fatal', async () => {
    const conf = await Conference.create({ sampleRate: RATE });
    opened.push(conf);
    const a = new MemoryTransport();
    const b = new MemoryTransport();
    const c = new MemoryTransport();
    conf.addLeg('a', a);
    conf.addLeg('b', b);
    conf.addLeg('c', c);
    const events: Array<Record<string, unknown>> = [];
    const logs: string[] = [];
    let made = 0;
    const vad = (): VadStream => (++made === 3 ? { push: () => Promise.reject(new Error('model gone')) } : loudnessVad());
    const speech = new LegSpeech({ vad, send: (e) => events.push(e), log: (m) => logs.push(m) });
    conf.onTick((r) => speech.tick(r));
    await Promise.all([b.feed(tone(300)), c.feed(tone(300))]);
    conf.removeLeg('b');
    await a.feed(silence(100));
    expect(events.map((e) => [e['type'], e['legId']])).toEqual([
      ['leg.speech.start', 'b'],
      ['leg.speech.end', 'b'],
    ]);
    expect(logs.join('\n')).toMatch(/leg c: its VAD failed/);
    speech.close();
  });
});
