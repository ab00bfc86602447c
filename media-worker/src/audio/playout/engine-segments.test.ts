import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { SegmentResult } from './types.ts';
import { advance, settle, setup, tagged, useFakePlayoutTime } from './engine.test-helper.ts';

useFakePlayoutTime();

/** A sink like a provider's socket: a playout buffer of `leadMs`, playback reported by acks. */
const phone = { sampleRate: 8000, leadMs: 200, acknowledges: true } as const;

describe('PlayoutEngine segments', () => {
  it('clear() drops the queue at once and returns what was heard of the open segment', async () => {
    let cleared: SegmentResult | undefined;
    const { engine, sent } = setup({
      send: (frame, meta) => {
        sent.push({ frame, ...meta, at: Date.now() });
        if (sent.length === 12) cleared = engine.clear(); // barge-in right after the 12th frame left
      },
    });
    engine.push(tagged(100, 9)); // an earlier segment, not counted
    const earlier = engine.finish();
    engine.start();
    await advance(100);
    expect(await earlier).toEqual({ playedMs: 100, interrupted: false });
    engine.push(tagged(1000, 3));
    engine.push(tagged(5, 3)); // partial tail, dropped too
    const reply = engine.finish();
    await advance(200);
    expect(cleared).toEqual({ playedMs: 7 * 20, interrupted: true });
    expect(await reply).toEqual(cleared);
    expect(engine.queuedMs()).toBe(0);
    expect(sent.length).toBe(12);
    expect(engine.stats().clearedMs).toBe(1020 - 140); // the 5 ms tail was padded to a frame by finish()
    // With no segment open, clear() reports the newest one again; finish() resolves with it at once.
    expect(engine.clear()).toEqual(cleared);
    expect(await engine.finish()).toEqual(cleared);
    // Audio after the clear opens a new segment and starts a new talkspurt.
    engine.push(tagged(20, 4));
    await settle();
    expect(sent[12]).toMatchObject({ marker: true });
    expect(sent[12]!.frame.samples[0]).toBe(4);
    expect(await engine.finish()).toEqual({ playedMs: 20, interrupted: false });
  });

  it('reports each segment end to observers, in order, and finish() twice gives the same result', async () => {
    const { engine } = setup();
    const ends: [number, SegmentResult][] = [];
    const off = engine.onSegmentEnd((id, r) => ends.push([id, r]));
    engine.start();
    engine.push(tagged(40, 1));
    const a = engine.finish();
    expect(engine.finish()).toBe(a);
    engine.push(tagged(60, 2));
    const b = engine.finish();
    await advance(200);
    expect(await a).toEqual({ playedMs: 40, interrupted: false });
    expect(await b).toEqual({ playedMs: 60, interrupted: false });
    engine.push(tagged(40, 3));
    engine.clear();
    off();
    engine.push(tagged(20, 4));
    await engine.finish().then(() => undefined, () => undefined);
    await advance(40);
    expect(ends).toEqual([
      [1, { playedMs: 40, interrupted: false }],
      [2, { playedMs: 60, interrupted: false }],
      [3, { playedMs: 0, interrupted: true }],
    ]);
  });

  it('stop() resolves every pending finish() as interrupted, and later ones at once', async () => {
    const { engine } = setup();
    engine.push(tagged(200, 1));
    const reply = engine.finish();
    engine.start();
    await advance(60);
    engine.stop();
    expect(await reply).toEqual({ playedMs: 80, interrupted: true });
    engine.push(tagged(20, 2));
    expect(await engine.finish()).toEqual({ playedMs: 0, interrupted: true });
  });
});

describe('PlayoutEngine with a far-end buffer (leadMs > 0)', () => {
  it('sends one frame per tick plus a catch-up frame until the far end holds leadMs, never more than 2 per tick', async () => {
    const { engine, sent } = setup(phone);
    engine.push(tagged(2000, 1, 8000));
    engine.start();
    await advance(400);
    const perTick = new Map<number, number>();
    for (const s of sent) perTick.set(s.at, (perTick.get(s.at) ?? 0) + 1);
    expect(Math.max(...perTick.values())).toBe(2);
    // Ahead of real time by (frames sent x 20 ms) - elapsed: it reaches leadMs and stays there.
    const aheadAt = (t: number) => sent.filter((s) => s.at <= t).length * 20 - t;
    expect(aheadAt(0)).toBe(40);
    expect(aheadAt(100)).toBe(140);
    expect(aheadAt(200)).toBe(200);
    expect(aheadAt(400)).toBe(200);
    expect(sent.every((s) => s.frame.sampleRate === 8000 && s.frame.samples.length === 160)).toBe(true);
  });

  it('a segment ends when the far end acknowledges its last frame; an ack covers every frame before it', async () => {
    const { engine, sent } = setup(phone);
    engine.push(tagged(100, 1, 8000));
    let result: SegmentResult | undefined;
    void engine.finish().then((r) => (result = r));
    engine.start();
    await advance(40);
    expect(sent.length).toBe(5);
    expect(engine.queuedMs()).toBe(100); // all sent, none acknowledged
    engine.acknowledge(3);
    expect(engine.queuedMs()).toBe(40);
    await settle();
    expect(result).toBeUndefined();
    engine.acknowledge(5);
    await settle();
    expect(result).toEqual({ playedMs: 100, interrupted: false });
    expect(engine.stats()).toMatchObject({ heardMs: 100, acks: 2, queuedMs: 0 });
  });

  it('clear() tells the far end once, and acks for frames sent before it are flush echoes, not playback', async () => {
    const { engine, sent, clears } = setup(phone);
    engine.push(tagged(200, 1, 8000));
    engine.start();
    await advance(40);
    engine.acknowledge(2);
    expect(engine.clear()).toEqual({ playedMs: 40, interrupted: true });
    expect(clears.length).toBe(1);
    for (const s of sent) engine.acknowledge(s.seq); // the far end echoes every outstanding mark
    expect(engine.stats()).toMatchObject({ heardMs: 40, acks: 1, clears: 1, queuedMs: 0 });
    engine.clear(); // nothing sent since: the far end is not told again
    expect(clears.length).toBe(1);
    // The next segment's frames count again.
    engine.push(tagged(20, 2, 8000));
    const next = engine.finish();
    await advance(20);
    engine.acknowledge(sent.at(-1)!.seq);
    expect(await next).toEqual({ playedMs: 20, interrupted: false });
  });

  it('a far end that never acknowledges cannot hang a segment: it is heard once the play clock plus the slack has passed', async () => {
    const { engine } = setup(phone, { markSlackMs: 1000 });
    engine.push(tagged(100, 1, 8000));
    let result: SegmentResult | undefined;
    void engine.finish().then((r) => (result = r));
    engine.start();
    await advance(1000); // sent by t=40, played by the clock at t=100
    expect(engine.queuedMs()).toBe(100); // unacknowledged, within the slack
    expect(result).toBeUndefined();
    await advance(100);
    expect(result).toEqual({ playedMs: 100, interrupted: false });
    expect(engine.queuedMs()).toBe(0);
  });

  it('while unacknowledged, audio counts as queued until the play clock plus the slack says it played', async () => {
    const { engine } = setup({ ...phone, leadMs: 3000 }, { markSlackMs: 1000 });
    engine.push(tagged(3000, 1, 8000));
    engine.start();
    await advance(1000); // 2 frames per tick: 2040 ms sent by t=1000, the play clock 1040 ms ahead
    expect(engine.stats().framesSent).toBe(102);
    expect(engine.queuedMs()).toBe(960 + 2040); // local + unacknowledged (within the slack)
    await advance(200); // 2440 ms sent; what should have played by t=200 is past the slack
    expect(engine.stats().heardMs).toBe(200);
    expect(engine.queuedMs()).toBe(560 + 1240 + 1000); // local + the play clock's figure + the slack
  });

  it('whenQueuedAtMost() resolves on the ack that brings the queue down, and false on abort without a listener left', async () => {
    const { engine, sent } = setup(phone);
    engine.push(tagged(200, 1, 8000));
    void engine.finish();
    engine.start();
    await advance(100);
    const ac = new AbortController();
    let reached: boolean | undefined;
    void engine.whenQueuedAtMost(60, ac.signal).then((r) => (reached = r));
    await settle();
    expect(reached).toBeUndefined();
    engine.acknowledge(sent[6]!.seq); // 140 ms heard: 60 left
    await settle();
    expect(reached).toBe(true);
    const ac2 = new AbortController();
    const waiting = engine.whenQueuedAtMost(0, ac2.signal);
    expect(getEventListeners(ac2.signal, 'abort').length).toBe(1);
    ac2.abort();
    expect(await waiting).toBe(false);
    expect(getEventListeners(ac2.signal, 'abort').length).toBe(0);
    expect(await engine.whenQueuedAtMost(0, ac2.signal)).toBe(false); // already aborted
    expect(await engine.whenQueuedAtMost(1000, new AbortController().signal)).toBe(true); // already there
  });

  it('pause() holds queued audio until resume(); farBufferLost() forgets what the far end held', async () => {
    const { engine, sent } = setup(phone);
    engine.pause(); // before the provider's start
    engine.push(tagged(100, 1, 8000));
    const reply = engine.finish();
    engine.start();
    await advance(100);
    expect(sent.length).toBe(0);
    engine.resume();
    await settle();
    expect(sent.length).toBe(2); // at once, catching up
    await advance(20);
    engine.acknowledge(sent[1]!.seq);
    engine.pause(); // the stream is lost
    engine.farBufferLost();
    expect(engine.queuedMs()).toBe(20); // 40 ms heard, 40 ms lost with the far end, 20 ms still queued here
    engine.acknowledge(sent[3]!.seq); // from the old stream: ignored
    engine.resume(); // a new stream
    await advance(20);
    engine.acknowledge(sent.at(-1)!.seq);
    expect(await reply).toEqual({ playedMs: 60, interrupted: false });
    expect(sent.length).toBe(5);
  });
});
