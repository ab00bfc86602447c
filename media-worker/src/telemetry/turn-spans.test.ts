/**
 * Reply-on-pause turns through the real pipeline (Silero VAD, committed speech fixtures,
 * in-memory transport) with tracing on against the fake OTLP collector: one root `turn` span
 * per turn, carrying the turn's metrics and timed by the same timestamps as its events.
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { audioFrame, type AudioFrame } from '../audio/frame.ts';
import { readWav } from '../audio/pcm.ts';
import { initResampler } from '../audio/resampler.ts';
import echo from '../handlers/echo.ts';
import { replyOnPause } from '../handlers/reply-on-pause.ts';
import type { Handler } from '../handlers/types.ts';
import type { InterruptedEvent, TurnMetricsEvent, VadEndEvent } from '../pipeline/events.ts';
import { MemoryTransport } from '../pipeline/memory-transport.test-helper.ts';
import { runPipeline } from '../pipeline/session-pipeline.ts';
import { SileroModel } from '../vad/silero-model.ts';
import { StreamingVad } from '../vad/streaming-vad.ts';
import { FakeOtlpCollector } from './fake-otlp-collector.test-helper.ts';
import { startTracing, tracingConfigFromEnv } from './tracing.ts';

const FIXTURES = new URL('../../../test/fixtures/audio/', import.meta.url);
const wav = (name: string): AudioFrame => readWav(readFileSync(new URL(name, FIXTURES)));

let model: SileroModel;
beforeAll(async () => {
  model = await SileroModel.load();
  await initResampler();
});
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(handler: Handler, mode: 'ok' | 'hang' = 'ok') {
  const c = await FakeOtlpCollector.start(mode);
  const tracing = startTracing(tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: c.endpoint, OTEL_BSP_SCHEDULE_DELAY: '10' }), { log: () => {} })!;
  const t = new MemoryTransport();
  const p = runPipeline({ handler, transport: t, session: { id: 'sess-1', kind: 'webrtc' }, vad: () => new StreamingVad(model.createStream()), log: { warn: () => {}, error: () => {} } });
  cleanups.push(async () => {
    p.stop('test over');
    await p.done;
    await tracing.shutdown(300);
    await c.close();
  });
  return { c, t };
}

const at = (t: MemoryTransport, type: string, i = 0): number => (t.eventsOf(type)[i] as { at: number } | undefined)?.at ?? NaN;

describe('turn spans (real pipeline)', { timeout: 20_000 }, () => {
  it('echo: a root turn span per turn, from vad.end to the reply played out, with the metrics', async () => {
    const { c, t } = await start(echo);
    await t.feed(wav('short-utterance.wav'), { speed: 8 });
    await t.waitForEvent('reply.end');
    const [span] = await c.waitForSpans((s) => s.length >= 1, 'the turn span');
    const m = t.eventsOf<TurnMetricsEvent>('metrics')[0]!;
    expect(span!.name).toBe('turn');
    expect(span!.parentSpanId).toBe('');
    expect(span!.attributes).toEqual({
      'switchboard.session.id': 'sess-1',
      'switchboard.session.kind': 'webrtc',
      'switchboard.turn': 1,
      'switchboard.interrupted': false,
      'switchboard.end_of_speech_to_first_frame_ms': m.endOfSpeechToFirstFrameMs,
      'switchboard.handler_first_frame_ms': m.handlerFirstFrameMs,
      'switchboard.played_ms': expect.any(Number),
    });
    // The echo played out whole: what was heard is the reply's length (the turn's own audio).
    expect(span!.attributes['switchboard.played_ms']).toBeGreaterThan(1000);
    expect(span!.attributes['switchboard.played_ms']).toBeLessThanOrEqual(span!.durationMs);
    // Starts exactly at the vad.end event's time (the metrics' end of speech); ends after reply.end.
    expect(Math.abs(span!.startMs - t.eventsOf<VadEndEvent>('vad.end')[0]!.at)).toBeLessThan(0.001);
    expect(span!.endMs).toBeGreaterThanOrEqual(at(t, 'reply.end'));
    expect(span!.endMs - at(t, 'reply.end')).toBeLessThan(50);
    // The reply (~1143 ms of audio) played in simulated real time inside the span.
    expect(span!.durationMs).toBeGreaterThan(1000);
    expect(span!.durationMs).toBeGreaterThanOrEqual(m.endOfSpeechToFirstFrameMs);
  });

  it('barge-in: the interrupted turn ends at the interruption with played_ms', async () => {
    const long = replyOnPause(async function* () {
      for (let i = 0; i < 100; i++) yield audioFrame(new Int16Array(1600).fill(500), 16_000);
    });
    const { c, t } = await start(long);
    await t.feed(wav('hello-pause-question.wav'), { speed: 2 });
    await t.waitForEvent('interrupted');
    const spans = await c.waitForSpans((s) => s.some((x) => x.attributes['switchboard.turn'] === 1), 'turn 1');
    const one = spans.find((x) => x.attributes['switchboard.turn'] === 1)!;
    const intr = t.eventsOf<InterruptedEvent>('interrupted')[0]!;
    expect(one.attributes['switchboard.interrupted']).toBe(true);
    expect(one.attributes['switchboard.played_ms']).toBeCloseTo(t.clears[0]!.playedMs, 6);
    // The event carries playedMs to 0.1 ms; the span, unrounded.
    expect(Math.abs((one.attributes['switchboard.played_ms'] as number) - intr.playedMs)).toBeLessThanOrEqual(0.05 + 1e-9);
    expect(Math.abs(one.endMs - intr.at)).toBeLessThan(0.001);
    expect(Math.abs(one.startMs - t.eventsOf<VadEndEvent>('vad.end')[0]!.at)).toBeLessThan(0.001);
  });

  it('a hanging collector does not delay the turn', async () => {
    const { c, t } = await start(echo, 'hang');
    await t.feed(wav('short-utterance.wav'), { speed: 8 });
    await t.waitForEvent('metrics');
    await c.waitForSpans((s) => s.length >= 1, 'an export attempt');
    await t.feed(wav('short-utterance.wav'), { speed: 8 }); // the next turn while that export hangs
    await t.waitForEvent('metrics', 2);
    for (const m of t.eventsOf<TurnMetricsEvent>('metrics')) expect(m.endOfSpeechToFirstFrameMs).toBeLessThan(100);
  });
});
