import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { audioFrame, type AudioFrame } from './frame.ts';
import { FrameClock } from './frame-clock.ts';
import { PacedOutput, type PacedOutputOptions } from './paced-output.ts';
import { initResampler } from './resampler.ts';

// Real clock, real timers. Assertions are about behaviour (grid, accounting, ordering), with
// timing bounds loose enough for a shared, noisy CI machine.

interface Sent {
  frame: AudioFrame;
  ts: number;
  marker: boolean;
  at: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** `ms` of 48 kHz mono audio whose every sample holds `tag` (so frames can be identified). */
function tagged(ms: number, tag: number, rate = 48000, channels = 1): AudioFrame {
  return audioFrame(new Int16Array(((ms * rate) / 1000) * channels).fill(tag), rate, channels);
}

const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

let outputs: PacedOutput[] = [];

function make(extra: Partial<PacedOutputOptions> = {}): { out: PacedOutput; sent: Sent[]; idle: () => Promise<void> } {
  const sent: Sent[] = [];
  let idleWaiter: (() => void) | undefined;
  const out = new PacedOutput({
    sampleRate: 48000,
    channels: 1,
    frameMs: 20,
    initialRtpTimestamp: 0,
    send: (frame, ts, marker) => sent.push({ frame, ts, marker, at: performance.now() }),
    onIdle: () => idleWaiter?.(),
    ...extra,
  });
  outputs.push(out);
  const idle = () =>
    new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no onIdle within 5 s')), 5000);
      idleWaiter = () => {
        clearTimeout(t);
        idleWaiter = undefined;
        resolve();
      };
    });
  return { out, sent, idle };
}

beforeAll(async () => {
  await initResampler();
});

afterEach(() => {
  for (const o of outputs) o.destroy();
  outputs = [];
});

describe('PacedOutput', () => {
  it('sends one frame per 20 ms tick with RTP +960 per tick, continuing through an idle gap', async () => {
    const { out, sent, idle } = make();
    out.push(tagged(400, 1));
    expect(out.queuedMs()).toBe(400);
    const t0 = performance.now();
    out.start();
    await idle();
    expect(sent.length).toBe(20);
    await sleep(150);
    // Mid-way between two grid ticks, so starting on the grid would differ from starting now by ~10 ms.
    while ((performance.now() - t0) % 20 < 8 || (performance.now() - t0) % 20 > 12) await sleep(1);
    const pushedAt = performance.now();
    // Second reply at another rate, in odd pieces: resampled and reframed to 20 ms at 48 kHz.
    for (let i = 0; i < 10; i++) out.push(tagged(20, 2, 16000));
    const pushedBy = performance.now();
    out.flushReply();
    await idle();
    out.stop();

    expect(sent.length).toBe(30);
    for (const s of sent) {
      expect(s.frame.sampleRate).toBe(48000);
      expect(s.frame.samples.length).toBe(960);
      // Never early: tick k goes out no sooner than start + k * 20 ms (1 ms slack for timer granularity).
      expect(s.at).toBeGreaterThanOrEqual(t0 + (s.ts / 960) * 20 - 1.5);
    }
    const first = sent.slice(0, 20);
    const second = sent.slice(20);
    first.forEach((s, i) => expect(s.ts).toBe(i * 960));
    second.forEach((s, i) => i > 0 && expect(s.ts - second[i - 1]!.ts).toBe(960));
    // The talkspurt after the gap started when its audio came (at once, ~10 ms before the next
    // grid tick), as the tick in progress: its timestamp is on the grid, and it went out late
    // against that tick by less than a frame, never early (checked above).
    expect(second[0]!.at).toBeGreaterThanOrEqual(pushedAt);
    expect(second[0]!.at - pushedBy).toBeLessThan(5);
    expect(second[0]!.ts % 960).toBe(0);
    expect(second[0]!.at).toBeLessThan(t0 + (second[0]!.ts / 960) * 20 + 20 + 1.5);
    // Over the idle gap the timestamps kept advancing with the clock.
    const gapTicks = (second[0]!.ts - first[19]!.ts) / 960;
    const gapMs = second[0]!.at - first[19]!.at;
    expect(gapTicks).toBeGreaterThan(7);
    expect(Math.abs(gapTicks - gapMs / 20)).toBeLessThanOrEqual(2);
    expect(sent.map((s) => s.marker)).toEqual(sent.map((_, i) => i === 0 || i === 20));
    expect(first.every((s) => s.frame.samples[0] === 1)).toBe(true);
    // The 16 kHz reply: flat level 2 after resampling (away from its edges).
    expect(second[5]!.frame.samples[480]).toBe(2);

    const st = out.stats();
    expect(st.framesSent).toBe(30);
    expect(st.silentTicks).toBeGreaterThanOrEqual(gapTicks - 1);
    expect(st.droppedMs).toBe(0);
    expect(st.latenessMs.count).toBeGreaterThanOrEqual(30);
    expect(st.latenessMs.max).toBeGreaterThanOrEqual(st.latenessMs.p99);
    expect(st.latenessMs.p99).toBeGreaterThanOrEqual(st.latenessMs.p50);
  });

  it('mid-stream, a frame that arrives just after its tick waits for the next tick (no send on arrival)', async () => {
    let onIdle: (() => void) | undefined;
    const { out, sent } = make({ onIdle: () => onIdle?.() });
    out.start();
    out.push(tagged(20, 1)); // a talkspurt from silence: out at once, as tick 0
    // Tick 1 finds nothing (the stream's next frame is "just late"): it comes right after.
    const pushed = new Promise<number>((resolve) => {
      onIdle = () => {
        onIdle = undefined;
        out.push(tagged(20, 2));
        resolve(performance.now());
      };
    });
    const pushedAt = await pushed;
    while (sent.length < 2) await sleep(2);
    // It went out with tick 2, ~20 ms after it came, not at once as tick 1.
    expect(sent[1]!.ts).toBe(2 * 960);
    expect(sent[1]!.at - pushedAt).toBeGreaterThan(10);
    expect(sent[1]!.marker).toBe(true);
    // After a whole silent tick, audio is a new talkspurt again: at once.
    await sleep(70);
    const again = performance.now();
    out.push(tagged(20, 3));
    while (sent.length < 3) await sleep(1);
    expect(sent[2]!.at - again).toBeLessThan(5);
  });

  it('with sendSilence, sends a frame every tick: count matches elapsed time, marker at talkspurt start', async () => {
    const { out, sent } = make({ sendSilence: true, initialRtpTimestamp: 2 ** 32 - 960 * 3 });
    const t0 = performance.now();
    out.start();
    await sleep(300);
    out.push(tagged(100, 7));
    await sleep(400);
    out.stop();
    const elapsed = performance.now() - t0;
    const st = out.stats();
    // Every tick produced exactly one packet, timestamps +960 each, wrapping at 2^32.
    expect(sent.length).toBe(st.framesSent + st.silentTicks);
    expect(st.skippedTicks).toBe(0);
    for (let i = 1; i < sent.length; i++) expect((sent[i]!.ts - sent[i - 1]!.ts + 2 ** 32) % 2 ** 32).toBe(960);
    expect(sent[3]!.ts).toBe(0);
    // About one packet per 20 ms (+-1, widened only by ticks this machine delivered late).
    const slack = 1 + Math.ceil(st.latenessMs.max / 20);
    expect(Math.abs(sent.length - elapsed / 20)).toBeLessThanOrEqual(slack);
    const audio = sent.filter((s) => s.frame.samples[0] === 7);
    expect(audio.length).toBe(5);
    // Marker: first packet overall, and the first audio packet after silence.
    expect(sent.filter((s) => s.marker).map((s) => sent.indexOf(s))).toEqual([0, sent.indexOf(audio[0]!)]);
    // Idle ticks reuse one silence frame (no per-tick allocation).
    const silent = sent.filter((s) => s.frame.samples[0] === 0);
    expect(new Set(silent.map((s) => s.frame)).size).toBe(1);
  });

  it('clear() drops the queue at once and returns the ms of the reply sent', async () => {
    let cleared = -1;
    const { out, sent, idle } = make({
      send: (frame, ts, marker) => {
        sent.push({ frame, ts, marker, at: performance.now() });
        if (sent.length === 12) cleared = out.clear(); // barge-in right after the 12th frame left
      },
    });
    out.push(tagged(100, 9)); // an earlier reply, not counted
    out.start();
    await idle();
    out.markReplyStart();
    out.push(tagged(1000, 3));
    out.push(tagged(5, 3)); // partial tail, dropped too
    const idleAfterClear = idle();
    await idleAfterClear;
    expect(cleared).toBe(7 * 20);
    expect(out.queuedMs()).toBe(0);
    await sleep(80);
    expect(sent.length).toBe(12);
    expect(out.stats().clearedMs).toBeCloseTo(1005 - 140, 6);
    // The count belongs to the reply until the next markReplyStart().
    expect(out.clear()).toBe(140);
    out.markReplyStart();
    expect(out.clear()).toBe(0);
    // Audio after the clear starts a new talkspurt.
    out.push(tagged(20, 4));
    await idle();
    expect(sent.length).toBe(13);
    expect(sent[12]!.marker).toBe(true);
    expect(sent[12]!.frame.samples[0]).toBe(4);
  });

  it('bounds the queue by dropping the oldest audio', async () => {
    const { out, sent, idle } = make({ maxQueueMs: 100 });
    for (let i = 1; i <= 15; i++) out.push(tagged(20, i)); // 300 ms into a 100 ms queue
    expect(out.queuedMs()).toBe(100);
    expect(out.stats().droppedMs).toBe(200);
    out.start();
    await idle();
    expect(sent.map((s) => s.frame.samples[0])).toEqual([11, 12, 13, 14, 15]);
  });

  it('pads the tail on flushReply and converts channels', async () => {
    const { out, sent, idle } = make();
    out.push(tagged(30, 5, 48000, 2)); // stereo in, mono out; 1.5 frames
    expect(out.queuedMs()).toBe(30);
    out.start();
    await sleep(60);
    expect(sent.length).toBe(1); // the half frame waits for more audio
    out.flushReply();
    await idle();
    expect(sent.length).toBe(2);
    expect(sent[1]!.frame.samples[479]).toBe(5);
    expect(sent[1]!.frame.samples[480]).toBe(0);
  });

  it('drains the resampler when the input rate changes, keeping every sample', () => {
    const { out } = make();
    out.push(tagged(30, 1, 16000));
    expect(out.queuedMs()).toBeLessThan(30); // the resampler holds back its filter delay
    out.push(tagged(20, 2)); // back to the output rate: the 16 kHz tail is flushed first
    expect(out.queuedMs()).toBeCloseTo(50, 6);
    out.push(tagged(10, 3, 8000));
    out.flushReply();
    expect(out.queuedMs()).toBe(60);
  });

  it('skips ahead after a stall instead of bursting', async () => {
    let offset = 0;
    const { out, sent } = make({ now: () => performance.now() + offset, maxLagFrames: 5 });
    out.push(tagged(2000, 1));
    out.start();
    while (sent.length < 5) await sleep(10);
    offset += 500; // the clock jumps 500 ms: as if the event loop had been blocked
    const before = sent.length;
    await sleep(70);
    out.stop();
    const st = out.stats();
    expect(st.skippedTicks).toBeGreaterThanOrEqual(24);
    const jump = sent.findIndex((s, i) => i > 0 && s.ts - sent[i - 1]!.ts > 960);
    expect(jump).toBeGreaterThanOrEqual(before);
    expect((sent[jump]!.ts - sent[jump - 1]!.ts) / 960).toBe(st.skippedTicks + 1);
    expect(sent[jump]!.marker).toBe(true);
    // No burst: after the jump, frames keep to about one per tick (at most the ~3.5 ticks slept, +2).
    expect(sent.length - jump).toBeLessThanOrEqual(6);
    expect(st.latenessMs.max).toBeGreaterThanOrEqual(400);
    // Every tick that ran sent a frame (audio stayed queued); the stalled one counts as late. The
    // first frame went out at start(), not on a clock tick, so it has no lateness to count.
    expect(st.ticksRun).toBe(sent.length - 1);
    expect(st.lateTicks).toBeGreaterThanOrEqual(1);
  });

  it('stop() leaves no timer behind, whether sending or idle', async () => {
    // Counts are compared synchronously around each call: other timers of the test runner come and go.
    const { out } = make({ sendSilence: true });
    let before = timeouts();
    out.start();
    expect(timeouts()).toBe(before + 1);
    await sleep(50);
    before = timeouts();
    out.stop();
    expect(timeouts()).toBe(before - 1);
    expect(out.running).toBe(false);

    // Idle (nothing queued), an output stays on its clock until stop().
    const quiet = make().out;
    before = timeouts();
    quiet.start();
    expect(timeouts()).toBe(before + 1);
    await sleep(50);
    before = timeouts();
    quiet.stop();
    expect(timeouts()).toBe(before - 1);
    quiet.start();
    quiet.push(tagged(200, 1));
    await sleep(30);
    before = timeouts();
    quiet.stop();
    expect(timeouts()).toBe(before - 1);
  });

  it('follows the reply rate when idle (no resampling), keeping 48 kHz RTP timestamps; resamples while audio is queued', async () => {
    const { out, sent, idle } = make({ followRates: [16000, 24000, 48000], rtpClockRate: 48000 });
    out.push(tagged(100, 3, 16000));
    out.start();
    await idle();
    expect(sent.length).toBe(5);
    for (const [i, s] of sent.entries()) {
      expect(s.frame.sampleRate).toBe(16000);
      expect(s.frame.samples.length).toBe(320);
      expect([...new Set(s.frame.samples)]).toEqual([3]); // untouched: no resampler ran
      expect(s.ts).toBe(i * 960);
    }
    // A 24 kHz reply while nothing is queued: it switches again.
    out.push(tagged(40, 4, 24000));
    // Pushed while that reply is still queued: 16 kHz audio is resampled to 24 kHz, in order.
    out.push(tagged(40, 5, 16000));
    out.flushReply();
    await idle();
    const after = sent.slice(5);
    expect(after.length).toBe(4);
    for (const s of after) expect(s.frame.sampleRate).toBe(24000);
    expect([...new Set(after[0]!.frame.samples)]).toEqual([4]);
    after.forEach((s, i) => i > 0 && expect(s.ts - after[i - 1]!.ts).toBe(960));
    // A rate not followed is resampled to the current one.
    out.push(tagged(20, 6, 22050));
    out.flushReply();
    await idle();
    expect(sent.at(-1)!.frame.sampleRate).toBe(24000);
    out.stop();
  });

  it('prepares each frame once, in order, one ahead of the sends, never inside a tick; cleared frames are not sent', async () => {
    const log: string[] = [];
    let inTick = false;
    const tagOf = (f: AudioFrame) => f.samples[0]!;
    const { out, idle } = make({
      prepare: (f) => log.push(`p${tagOf(f)}${inTick ? '!' : ''}`),
      send: (f) => {
        inTick = true;
        log.push(`s${tagOf(f)}`);
        queueMicrotask(() => (inTick = false)); // still "in the tick" for anything it calls synchronously
      },
    });
    out.start();
    // Five frames at once: only the head is prepared on the push (a whole reply is not encoded in one go).
    out.push(audioFrame(Int16Array.from({ length: 5 * 960 }, (_, i) => 1 + Math.floor(i / 960)), 48000, 1));
    expect(log).toEqual(['p1']);
    await idle();
    expect(log).toEqual(['p1', 's1', 'p2', 's2', 'p3', 's3', 'p4', 's4', 'p5', 's5']);
    // A cleared reply: its prepared head is never sent; the next reply's head is prepared on its push.
    log.length = 0;
    out.push(tagged(60, 7));
    out.clear();
    out.push(tagged(20, 9));
    await idle();
    expect(log).toEqual(['p7', 'p9', 's9']);
  });

  it('rejects a frame length that is not whole RTP ticks, and follow rates it cannot frame', () => {
    expect(() => make({ frameMs: 20, rtpClockRate: 44_100.5 })).toThrow(/RTP ticks/);
    expect(() => make({ frameMs: 20, followRates: [11_025.5] })).toThrow();
  });
});

describe('PacedOutput on a shared FrameClock', () => {
  it('outputs on one clock send in the same timer turn, each still starting its talkspurt at once', async () => {
    const clock = new FrameClock({ frameMs: 20 });
    let turn = 0;
    const bump = setInterval(() => turn++, 1);
    try {
      const turns: number[][] = [[], []];
      const outs = [0, 1].map((i) => {
        const made = make({
          clock,
          send: (frame, ts, marker) => {
            turns[i]!.push(turn);
            made.sent.push({ frame, ts, marker, at: performance.now() });
          },
        });
        return made;
      });
      outs[0]!.out.start();
      outs[1]!.out.start();
      outs[0]!.out.push(tagged(200, 1));
      await sleep(7); // the second reply comes mid-tick
      const pushedAt = performance.now();
      outs[1]!.out.push(tagged(200, 2));
      await Promise.all([outs[0]!.idle(), outs[1]!.idle()]);
      const [a, b] = [outs[0]!.sent, outs[1]!.sent];
      expect(a.length).toBe(10);
      expect(b.length).toBe(10);
      // The second reply's first frame went out when it came, not with the next shared tick.
      expect(b[0]!.at - pushedAt).toBeLessThan(5);
      // After their first frames, both ride the same ticks: same timer turn, same grid.
      const shared = b.slice(1).filter((s) => a.some((x) => x.ts % 960 === s.ts % 960 && Math.abs(x.at - s.at) < 1));
      expect(shared.length).toBeGreaterThanOrEqual(7);
      const common = turns[1]!.slice(1).filter((t) => turns[0]!.includes(t));
      expect(common.length).toBeGreaterThanOrEqual(7);
      // One timer serves both, idle or not, until they stop.
      expect(clock.listeners).toBe(2);
      const timers = timeouts();
      outs[0]!.out.stop();
      expect(timeouts()).toBe(timers);
      outs[1]!.out.stop();
      expect(clock.listeners).toBe(0);
      expect(timeouts()).toBe(timers - 1);
    } finally {
      clearInterval(bump);
    }
  });

  it('rejects clock options beside a clock, and a clock of another frame length', () => {
    const clock = new FrameClock({ frameMs: 20 });
    const base = { sampleRate: 48000, channels: 1, send: () => {} };
    expect(() => new PacedOutput({ ...base, clock, now: () => 0 })).toThrow(/belong to the clock/);
    expect(() => new PacedOutput({ ...base, clock, maxLagFrames: 3 })).toThrow(/belong to the clock/);
    expect(() => new PacedOutput({ ...base, clock, frameMs: 10 })).toThrow(/ticks every 20 ms/);
  });
});
