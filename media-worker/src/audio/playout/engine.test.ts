import { describe, expect, it, vi } from 'vitest';
import { audioFrame, type AudioFrame } from '../frame.ts';
import { FrameClock } from '../frame-clock.ts';
import { advance, settle, setup, tagged, useFakePlayoutTime } from './engine.test-helper.ts';

useFakePlayoutTime();

describe('PlayoutEngine pacing', () => {
  it('sends one frame per 20 ms tick with RTP +960 per tick, continuing through an idle gap', async () => {
    const { engine, sent } = setup();
    engine.push(tagged(400, 1));
    expect(engine.queuedMs()).toBe(400);
    const first = engine.finish();
    engine.start(); // tick 0 goes out at once
    expect(sent.length).toBe(1);
    await advance(380);
    expect(sent.length).toBe(20);
    expect(await first).toEqual({ playedMs: 400, interrupted: false });
    await advance(150 + 10); // t = 540: mid-way between ticks 27 and 28
    // Second reply at another rate, in odd pieces: resampled and reframed to 20 ms at 48 kHz.
    for (let i = 0; i < 10; i++) engine.push(tagged(20, 2, 16000));
    const second = engine.finish();
    await settle();
    expect(sent.length).toBe(21);
    // The talkspurt after the gap started at once, as the tick in progress (27): late, never early.
    expect(sent[20]!.at).toBe(540);
    expect(sent[20]!.rtpTimestamp).toBe(27 * 960);
    await advance(200);
    expect((await second).interrupted).toBe(false);
    expect(sent.length).toBe(30);
    for (const s of sent) {
      expect(s.frame.sampleRate).toBe(48000);
      expect(s.frame.samples.length).toBe(960);
      expect(s.at).toBeGreaterThanOrEqual((s.rtpTimestamp / 960) * 20); // never early
    }
    sent.slice(0, 20).forEach((s, i) => expect(s.rtpTimestamp).toBe(i * 960));
    sent.slice(21).forEach((s, i) => expect(s.rtpTimestamp - sent[20 + i]!.rtpTimestamp).toBe(960));
    expect(sent.map((s) => s.marker)).toEqual(sent.map((_, i) => i === 0 || i === 20));
    expect(sent.map((s) => s.seq)).toEqual(sent.map((_, i) => i + 1));
    expect(sent[25]!.frame.samples[480]).toBe(2); // the 16 kHz reply: flat level 2 after resampling
    const st = engine.stats();
    expect(st.framesSent).toBe(30);
    expect(st.heardMs).toBe(600);
    expect(st.silentTicks).toBe(8); // ticks 20..26 and 37 (tick 27 ran empty, then sent at once)
    expect(st.droppedMs).toBe(0);
    expect(st.ticksRun).toBe(st.latenessMs.count);
    expect(st.latenessMs.max).toBe(0);
  });

  it('mid-stream, a frame that arrives just after its tick waits for the next tick', async () => {
    const { engine, sent } = setup();
    engine.start();
    await advance(5);
    engine.push(tagged(20, 1)); // a talkspurt from silence: out at once, as tick 0
    await settle();
    expect(sent.map((s) => [s.at, s.rtpTimestamp])).toEqual([[5, 0]]);
    await advance(16); // t = 21: tick 1 ran and found nothing; the next frame is just late
    engine.push(tagged(20, 2));
    await settle();
    expect(sent.length).toBe(1);
    await advance(19);
    expect(sent[1]).toMatchObject({ at: 40, rtpTimestamp: 2 * 960, marker: true });
    // After a whole silent tick, audio is a new talkspurt again: at once.
    await advance(50);
    engine.push(tagged(20, 3));
    await settle();
    expect(sent[2]).toMatchObject({ at: 90, rtpTimestamp: 4 * 960, marker: true });
  });

  it('bounds the queue by dropping the oldest audio', async () => {
    const { engine, sent } = setup({}, { maxQueueMs: 100 });
    for (let i = 1; i <= 15; i++) engine.push(tagged(20, i)); // 300 ms into a 100 ms queue
    expect(engine.queuedMs()).toBe(100);
    expect(engine.stats().droppedMs).toBe(200);
    const done = engine.finish();
    engine.start();
    await advance(100);
    expect(sent.map((s) => s.frame.samples[0])).toEqual([11, 12, 13, 14, 15]);
    expect(await done).toEqual({ playedMs: 100, interrupted: false });
  });

  it('pads the tail on finish() and converts channels', async () => {
    const { engine, sent } = setup();
    engine.push(tagged(30, 5, 48000, 2)); // stereo in, mono out; 1.5 frames
    expect(engine.queuedMs()).toBe(30);
    engine.start();
    await advance(60);
    expect(sent.length).toBe(1); // the half frame waits for more audio
    const done = engine.finish();
    await advance(20);
    expect(sent.length).toBe(2);
    expect(sent[1]!.frame.samples[479]).toBe(5);
    expect(sent[1]!.frame.samples[480]).toBe(0);
    expect(await done).toEqual({ playedMs: 40, interrupted: false });
  });

  it('drains the resampler when the input rate changes, keeping every sample', () => {
    const { engine } = setup();
    engine.push(tagged(30, 1, 16000));
    expect(engine.queuedMs()).toBeLessThan(30); // the resampler holds back its filter delay
    engine.push(tagged(20, 2)); // back to the output rate: the 16 kHz tail is flushed first
    expect(engine.queuedMs()).toBeCloseTo(50, 6);
    engine.push(tagged(10, 3, 8000));
    void engine.finish();
    expect(engine.queuedMs()).toBe(60);
  });

  it('skips ahead after a stall instead of bursting', async () => {
    let offset = 0;
    const clock = new FrameClock({ frameMs: 20, now: () => Date.now() + offset, originMs: 0, maxLagFrames: 5 });
    const { engine, sent } = setup({}, { clock });
    engine.push(tagged(2000, 1));
    engine.start();
    await advance(80);
    expect(sent.length).toBe(5);
    offset += 500; // the clock jumps 500 ms: as if the event loop had been blocked
    await advance(60);
    const st = engine.stats();
    expect(st.skippedTicks).toBe(25); // ticks 5..29: tick 5 was due at 100 ms, the clock read 600
    const jump = sent.findIndex((s, i) => i > 0 && s.rtpTimestamp - sent[i - 1]!.rtpTimestamp > 960);
    expect(jump).toBe(5);
    expect((sent[jump]!.rtpTimestamp - sent[jump - 1]!.rtpTimestamp) / 960).toBe(st.skippedTicks + 1);
    expect(sent[jump]!.marker).toBe(true);
    expect(sent.length).toBe(8); // no burst: one frame per tick after the jump
    expect(st.latenessMs.max).toBe(500);
    expect(st.lateTicks).toBe(1);
    expect(st.ticksRun).toBe(sent.length - 1); // the first frame went out at start(), not on a tick
  });

  it('stays on its clock from start() to stop(), idle or not, and leaves no timer behind', async () => {
    const { engine } = setup();
    expect(vi.getTimerCount()).toBe(0);
    engine.start();
    expect(vi.getTimerCount()).toBe(1);
    await advance(100);
    expect(vi.getTimerCount()).toBe(1);
    engine.stop();
    expect(vi.getTimerCount()).toBe(0);
    expect(engine.running).toBe(false);
    engine.start();
    engine.push(tagged(200, 1));
    await advance(30);
    engine.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('follows the reply rate when idle (no resampling), keeping 48 kHz RTP timestamps; resamples while audio is queued', async () => {
    const { engine, sent } = setup({ followRates: [16000, 24000, 48000], rtpClockRate: 48000 });
    engine.push(tagged(100, 3, 16000));
    engine.start();
    await advance(100);
    expect(sent.length).toBe(5);
    for (const [i, s] of sent.entries()) {
      expect(s.frame.sampleRate).toBe(16000);
      expect([...new Set(s.frame.samples)]).toEqual([3]); // untouched: no resampler ran
      expect(s.rtpTimestamp).toBe(i * 960);
    }
    engine.push(tagged(40, 4, 24000)); // nothing queued: it switches again
    engine.push(tagged(40, 5, 16000)); // while that is queued: resampled to 24 kHz, in order
    void engine.finish();
    await advance(100);
    const after = sent.slice(5);
    expect(after.length).toBe(4);
    for (const s of after) expect(s.frame.sampleRate).toBe(24000);
    expect([...new Set(after[0]!.frame.samples)]).toEqual([4]);
    engine.push(tagged(20, 6, 22050)); // a rate not followed is resampled to the current one
    void engine.finish();
    await advance(40);
    expect(sent.at(-1)!.frame.sampleRate).toBe(24000);
  });

  it('prepares each frame once, in order, one ahead of the sends, never inside a tick; cleared frames are not sent', async () => {
    const log: string[] = [];
    let inTick = false;
    const tagOf = (f: AudioFrame) => f.samples[0]!;
    const { engine } = setup({
      prepare: (f) => log.push(`p${tagOf(f)}${inTick ? '!' : ''}`),
      send: (f) => {
        inTick = true;
        log.push(`s${tagOf(f)}`);
        queueMicrotask(() => (inTick = false));
      },
    });
    engine.start();
    // Five frames at once: only the head is prepared on the push.
    engine.push(audioFrame(Int16Array.from({ length: 5 * 960 }, (_, i) => 1 + Math.floor(i / 960)), 48000, 1));
    expect(log).toEqual(['p1']);
    await advance(100);
    expect(log).toEqual(['p1', 's1', 'p2', 's2', 'p3', 's3', 'p4', 's4', 'p5', 's5']);
    log.length = 0;
    engine.push(tagged(60, 7));
    engine.clear();
    engine.push(tagged(20, 9));
    await advance(40);
    expect(log).toEqual(['p7', 'p9', 's9']);
  });

  it('rejects a frame length that is not whole RTP ticks, follow rates it cannot frame, and a clock of another frame length', () => {
    expect(() => setup({ rtpClockRate: 44_100.5 })).toThrow(/RTP ticks/);
    expect(() => setup({ followRates: [11_025.5] })).toThrow();
    expect(() => setup({}, { clock: new FrameClock({ frameMs: 10 }) })).toThrow(/ticks every 10 ms/);
  });

  it('engines on one clock send in the same tick, each still starting its talkspurt at once', async () => {
    const clock = new FrameClock({ frameMs: 20, now: () => Date.now(), originMs: 0 });
    const a = setup({}, { clock });
    const b = setup({}, { clock });
    a.engine.start();
    b.engine.start();
    a.engine.push(tagged(200, 1));
    await advance(7); // the second reply comes mid-tick
    b.engine.push(tagged(200, 2));
    await settle();
    expect(b.sent[0]!.at).toBe(7);
    await advance(200);
    expect(a.sent.length).toBe(10);
    expect(b.sent.length).toBe(10);
    // After their first frames, both ride the same ticks.
    expect(b.sent.slice(1).map((s) => s.at)).toEqual(a.sent.slice(1).map((s) => s.at));
    expect(clock.listeners).toBe(2);
    a.engine.stop();
    expect(vi.getTimerCount()).toBe(1);
    b.engine.stop();
    expect(clock.listeners).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
