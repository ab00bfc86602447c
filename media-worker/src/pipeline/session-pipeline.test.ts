/**
 * The reply-on-pause pipeline end to end on the real Silero VAD and the committed speech fixtures
 * (timings in test/fixtures/audio: hello-pause-question.wav has phrase 1 at 500-2933 ms and phrase
 * 2 at 4133-5269 ms; short-utterance.wav has speech at 500-1243 ms), over the in-memory transport.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { audioFrame, durationMs, type AudioFrame } from '../audio/frame.ts';
import { readWav } from '../audio/pcm.ts';
import { initResampler } from '../audio/resampler.ts';
import echo from '../handlers/echo.ts';
import { InterruptedError } from '../handlers/interrupted-error.ts';
import { replyOnPause } from '../handlers/reply-on-pause.ts';
import type { Handler, HandlerContext, ReplyChunk, TurnFn } from '../handlers/types.ts';
import { SileroModel } from '../vad/silero-model.ts';
import { StreamingVad } from '../vad/streaming-vad.ts';
import type { InterruptedEvent, TurnMetricsEvent, VadEndEvent } from './events.ts';
import { MemoryTransport } from './memory-transport.test-helper.ts';
import { runPipeline, type Pipeline } from './session-pipeline.ts';
import type { PipelineLogger } from './session-context.ts';

const FIXTURES = new URL('../../../test/fixtures/audio/', import.meta.url);
const wav = (name: string): AudioFrame => readWav(readFileSync(new URL(name, FIXTURES)));

let model: SileroModel;
let hello: AudioFrame;
let short: AudioFrame;
beforeAll(async () => {
  model = await SileroModel.load();
  await initResampler();
  hello = wav('hello-pause-question.wav');
  short = wav('short-utterance.wav');
});

const logged: string[] = [];
const log: PipelineLogger = { warn: (m) => logged.push(m), error: (m) => logged.push(m) };

const running: Pipeline[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) {
    p.stop('test over');
    await p.done;
  }
  logged.length = 0;
});

function start(handler: Handler, extra: { onMetrics?: (m: TurnMetricsEvent) => void } = {}) {
  const t = new MemoryTransport();
  const p = runPipeline({
    handler,
    transport: t,
    session: { id: 'sess-1', kind: 'webrtc' },
    vad: () => new StreamingVad(model.createStream()),
    log,
    ...extra,
  });
  running.push(p);
  return { t, p };
}

/** A reply of `ms` of constant-valued 100 ms frames (the value tags the turn), ignoring its signal. */
function longReply(
  ms: number,
  value: (turn: number) => number,
  seen: { signals: AbortSignal[]; closed: number[]; lastInterruption?: Array<HandlerContext['lastInterruption']> },
): TurnFn {
  let turn = 0;
  return async function* (_t: AudioFrame, ctx: HandlerContext): AsyncGenerator<ReplyChunk> {
    const n = ++turn;
    seen.signals.push(ctx.signal);
    seen.lastInterruption?.push(ctx.lastInterruption);
    try {
      for (let at = 0; at < ms; at += 100) yield audioFrame(new Int16Array(1600).fill(value(n)), 16_000);
    } finally {
      seen.closed.push(n);
    }
  };
}

const PIPELINE_EVENTS = ['vad.start', 'vad.end', 'reply.start', 'reply.end', 'interrupted', 'metrics', 'error'];

describe('replyOnPause pipeline (real Silero VAD)', { timeout: 20_000 }, () => {
  it('echo replies once per turn with the turn audio; events in order with metrics', async () => {
    const metrics: TurnMetricsEvent[] = [];
    const { t, p } = start(echo, { onMetrics: (m) => metrics.push(m) });
    await t.feed(short, { speed: 8 });
    await t.waitForEvent('metrics', 1);
    await t.feed(short, { speed: 8 });
    await t.waitForEvent('metrics', 2);

    const one = ['vad.start', 'vad.end', 'reply.start', 'reply.end', 'metrics'];
    expect(t.types(PIPELINE_EVENTS)).toEqual([...one, ...one]);
    expect(t.eventsOf('reply.start').map((e) => e['turn'])).toEqual([1, 2]);
    expect(t.eventsOf('reply.end').map((e) => e['turn'])).toEqual([1, 2]);
    expect(p.stats.turns).toBe(2);

    // Each reply is the turn: one 16 kHz frame, speech (~743 ms) plus pre-roll and tail.
    expect(t.played).toHaveLength(2);
    const speechMs = t.eventsOf<VadEndEvent>('vad.end').map((e) => e.speechMs);
    t.played.forEach((pl, i) => {
      expect(pl.frame.sampleRate).toBe(16_000);
      const ms = durationMs(pl.frame);
      expect(ms).toBeGreaterThanOrEqual((speechMs[i] ?? 0) + 200 - 1);
      expect(ms).toBeLessThanOrEqual((speechMs[i] ?? 0) + 400 + 1);
      expect(Math.abs(ms - 1143)).toBeLessThan(200);
    });

    // reply.end only after the reply was played out in (simulated) real time.
    const start1 = t.events.find((e) => e.event.type === 'reply.start')?.at ?? 0;
    const end1 = t.events.find((e) => e.event.type === 'reply.end')?.at ?? 0;
    expect(end1 - start1).toBeGreaterThanOrEqual(durationMs(t.played[0]!.frame) - 5);

    expect(metrics).toHaveLength(2);
    expect(t.eventsOf('metrics')).toEqual(metrics);
    for (const m of metrics) {
      expect(m.silenceMs).toBe(600);
      expect(m.endOfSpeechToFirstFrameMs).toBeGreaterThanOrEqual(0);
      expect(m.endOfSpeechToFirstFrameMs).toBeLessThan(100);
      expect(m.handlerFirstFrameMs).toBeGreaterThanOrEqual(0);
      expect(m.handlerFirstFrameMs).toBeLessThanOrEqual(m.endOfSpeechToFirstFrameMs);
    }
  });

  it('takes 48 kHz stereo caller audio and gives the handler its inputSampleRate', async () => {
    const turns: AudioFrame[] = [];
    const h = replyOnPause(
      async function* (turn) {
        turns.push(turn);
        yield { type: 'got', ms: durationMs(turn) };
      },
      { inputSampleRate: 24_000 },
    );
    const { t } = start(h);
    const s48 = wav('speech-48k.wav'); // speech at 250-2683 ms
    const stereo = new Int16Array(s48.samples.length * 2);
    s48.samples.forEach((v, i) => {
      stereo[2 * i] = v;
      stereo[2 * i + 1] = v;
    });
    await t.feed(audioFrame(stereo, 48_000, 2), { speed: 8 });
    await t.feed(audioFrame(new Int16Array(48_000), 48_000, 1), { speed: 8 }); // then 1 s of mono silence
    await t.waitForEvent('got');
    expect(turns).toHaveLength(1);
    expect(turns[0]!.sampleRate).toBe(24_000);
    expect(turns[0]!.channels).toBe(1);
    expect(Math.abs(durationMs(turns[0]!) - (2433 + 400))).toBeLessThan(250);
    // No audio yielded: no reply.start / reply.end / metrics.
    expect(t.types(PIPELINE_EVENTS)).toEqual(['vad.start', 'vad.end']);
  });

  it('barge-in: speech during a long reply aborts it, clears playback and reports playedMs', async () => {
    const seen = { signals: [] as AbortSignal[], closed: [] as number[], lastInterruption: [] as Array<HandlerContext['lastInterruption']> };
    const { t, p } = start(replyOnPause(longReply(10_000, (n) => n * 1000, seen)));
    await t.feed(hello, { speed: 2 });
    await t.waitForEvent('reply.start', 2);

    // (turn 1's metrics follow its interruption asynchronously: checked below)
    expect(t.types(PIPELINE_EVENTS.filter((x) => x !== 'metrics')).slice(0, 7)).toEqual([
      'vad.start',
      'vad.end',
      'reply.start',
      'vad.start',
      'interrupted',
      'vad.end',
      'reply.start',
    ]);
    const [intr] = t.eventsOf<InterruptedEvent>('interrupted');
    expect(intr?.turn).toBe(1);
    // Phrase 2 starts 1200 ms after phrase 1 ends, 600 of which decided the turn: fed at 2x, ~300 ms were heard.
    expect(intr?.playedMs).toBeGreaterThan(100);
    expect(intr?.playedMs).toBeLessThan(1000);
    expect(t.clears).toHaveLength(1);
    expect(t.clears[0]!.playedMs).toBeCloseTo(intr!.playedMs, 0);
    expect(seen.signals[0]?.aborted).toBe(true);
    expect(seen.signals[1]?.aborted).toBe(false);
    // The handler learns how much was heard: from the abort reason, and in the next turn's context.
    const reason: unknown = seen.signals[0]?.reason;
    expect(reason).toBeInstanceOf(InterruptedError);
    expect((reason as InterruptedError).interruption).toEqual({ turn: 1, playedMs: t.clears[0]!.playedMs, at: intr!.at });
    expect(seen.lastInterruption).toEqual([undefined, { turn: 1, playedMs: t.clears[0]!.playedMs, at: intr!.at }]);
    // The old generator was closed (its finally ran) and none of its frames were played after the clear.
    await t.waitFor(() => seen.closed.includes(1), 'generator 1 closed');
    const clearAt = t.clears[0]!.at;
    expect(t.played.filter((x) => x.frame.samples[0] === 1000 && x.at > clearAt)).toEqual([]);
    expect(t.played.some((x) => x.frame.samples[0] === 2000)).toBe(true);
    expect(p.stats.interruptions).toBe(1);
    // The interrupted turn still reports its latency.
    expect(t.eventsOf<TurnMetricsEvent>('metrics').map((m) => m.turn)).toContain(1);
  });

  it('barge-in aborts a handler stuck before its first frame (signal-aware await)', async () => {
    let signal: AbortSignal | undefined;
    let turn = 0;
    const h = replyOnPause(async function* (_t, ctx) {
      if (++turn === 1) {
        signal = ctx.signal;
        await new Promise((r) => setTimeout(r, 60_000).unref()); // ignores the signal entirely
      }
      yield { type: 'answered', turn };
    });
    const { t } = start(h);
    await t.feed(hello, { speed: 4 });
    await t.waitForEvent('answered');
    expect(signal?.aborted).toBe(true);
    expect(t.eventsOf('interrupted')).toEqual([expect.objectContaining({ turn: 1, playedMs: 0 })]);
    expect(t.eventsOf('answered')).toEqual([{ type: 'answered', turn: 2 }]);
  });

  it('canInterrupt: false ignores caller speech during a reply (no new turn)', async () => {
    const seen = { signals: [] as AbortSignal[], closed: [] as number[] };
    // Phrase 2 (fed at 2x) starts ~200 ms into this 2 s reply and ends ~1200 ms into it.
    const { t, p } = start(replyOnPause(longReply(2000, () => 500, seen), { canInterrupt: false }));
    await t.feed(hello, { speed: 2 });
    await t.waitForEvent('metrics');
    await sleep(100);
    expect(t.types(PIPELINE_EVENTS)).toEqual(['vad.start', 'vad.end', 'reply.start', 'reply.end', 'metrics']);
    expect(t.clears).toEqual([]);
    expect(seen.signals).toHaveLength(1);
    expect(seen.signals[0]?.aborted).toBe(false);
    expect(p.stats.turns).toBe(1);
    expect(t.playedMs()).toBeCloseTo(2000, 0);
  });

  it('a handler error sends an error event and the next turn still works', async () => {
    let turn = 0;
    const h = replyOnPause(async function* (t) {
      if (++turn === 1) throw new Error('model unavailable');
      yield t;
    });
    const { t, p } = start(h);
    await t.feed(short, { speed: 8 });
    await t.waitForEvent('error');
    expect(t.eventsOf('error')).toEqual([{ type: 'error', message: 'handler failed: model unavailable' }]);
    expect(logged.some((m) => m.includes('handler failed'))).toBe(true);
    await t.feed(short, { speed: 8 });
    await t.waitForEvent('metrics');
    expect(t.types(PIPELINE_EVENTS)).toEqual(['vad.start', 'vad.end', 'error', 'vad.start', 'vad.end', 'reply.start', 'reply.end', 'metrics']);
    expect(t.eventsOf('reply.end')).toEqual([expect.objectContaining({ turn: 2 })]);
    expect(p.stats.handlerErrors).toBe(1);
  });

  it('a handler yielding garbage gets an error; audio already yielded still plays and ends', async () => {
    const h = replyOnPause(async function* () {
      yield audioFrame(new Int16Array(1600), 16_000);
      yield 42 as never;
    });
    const { t } = start(h);
    await t.feed(short, { speed: 8 });
    await t.waitForEvent('metrics');
    expect(t.types(PIPELINE_EVENTS)).toEqual(['vad.start', 'vad.end', 'reply.start', 'error', 'reply.end', 'metrics']);
    expect(t.eventsOf('error')[0]?.['message']).toMatch(/handler yielded number 42: expected an AudioFrame or an event/);
  });

  it('plays the greeting first (turn 0), then answers turns', async () => {
    const greeting = async function* (ctx: HandlerContext): AsyncGenerator<ReplyChunk> {
      yield { type: 'greeting', session: ctx.session.id };
      yield audioFrame(new Int16Array(4800).fill(9), 24_000);
    };
    const { t } = start(replyOnPause(async function* (turn) { yield turn; }, { greeting }));
    await t.waitForEvent('reply.end');
    expect(t.events.map((e) => e.event)).toEqual([
      { type: 'greeting', session: 'sess-1' },
      expect.objectContaining({ type: 'reply.start', turn: 0 }),
      expect.objectContaining({ type: 'reply.end', turn: 0 }),
    ]);
    expect(t.played[0]?.frame.samples[0]).toBe(9);
    await t.feed(short, { speed: 8 });
    await t.waitForEvent('metrics');
    expect(t.eventsOf('reply.start').map((e) => e['turn'])).toEqual([0, 1]);
    expect(t.eventsOf('metrics')).toHaveLength(1); // none for the greeting
  });

  it('ctx.inputs holds the latest client event per type; ctx.send reaches the client', async () => {
    const h = replyOnPause(async function* (_turn, ctx) {
      ctx.send({ type: 'seen', input: ctx.inputs.get('input') ?? null, other: ctx.inputs.get('mode') ?? null });
    });
    const { t } = start(h);
    t.clientEvent({ type: 'input', text: 'first' });
    t.clientEvent({ type: 'input', text: 'second' });
    t.clientEvent({ type: 'mode', value: 'x' });
    await t.feed(short, { speed: 8 });
    await t.waitForEvent('seen');
    expect(t.eventsOf('seen')).toEqual([{ type: 'seen', input: { type: 'input', text: 'second' }, other: { type: 'mode', value: 'x' } }]);
  });

  it('stop() mid-reply aborts the reply, resolves done, removes listeners and leaves no timers', async () => {
    const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const seen = { signals: [] as AbortSignal[], closed: [] as number[] };
    const { t, p } = start(replyOnPause(longReply(20_000, () => 1, seen)));
    expect(t.listenerCount()).toBe(3);
    await t.feed(short, { speed: 8 });
    await t.waitForEvent('reply.start');
    p.stop('time_limit');
    p.stop('again'); // idempotent
    await p.done;
    expect(p.reason).toBe('time_limit');
    expect(seen.signals[0]?.aborted).toBe(true);
    expect(t.listenerCount()).toBe(0);
    expect(t.types(PIPELINE_EVENTS)).toEqual(['vad.start', 'vad.end', 'reply.start']);
    await sleep(0);
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBeLessThanOrEqual(timersBefore);
    // Audio after stop is ignored.
    await t.feed(short, { speed: Infinity });
    expect(t.eventsOf('vad.start')).toHaveLength(1);
  });

  it('ends when the transport closes', async () => {
    const { t, p } = start(echo);
    t.close('bye');
    await p.done;
    expect(p.reason).toBe('transport closed: bye');
    expect(t.listenerCount()).toBe(0);
  });

  it('ends at once on a transport that is already closed', async () => {
    const t = new MemoryTransport();
    t.close('gone');
    const p = runPipeline({ handler: echo, transport: t, session: { id: 's', kind: 'webrtc' }, vad: () => new StreamingVad(model.createStream()), log });
    await p.done;
    expect(p.reason).toBe('transport closed: gone');
    expect(t.listenerCount()).toBe(0);
  });

  it('a VAD that cannot start ends the session with an error event', async () => {
    const t = new MemoryTransport();
    const p = runPipeline({
      handler: echo,
      transport: t,
      session: { id: 's', kind: 'webrtc' },
      vad: () => Promise.reject(new Error('no model')),
      log,
    });
    await p.done;
    expect(p.reason).toBe('vad-failed');
    expect(t.eventsOf('error')).toHaveLength(1);
  });

  it('requires a vad factory for replyOnPause handlers', () => {
    expect(() => runPipeline({ handler: echo, transport: new MemoryTransport(), session: { id: 's', kind: 'webrtc' } })).toThrow(/needs the `vad` factory/);
  });
});
