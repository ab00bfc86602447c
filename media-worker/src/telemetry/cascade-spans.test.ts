/**
 * cascade() through the real pipeline (in-memory transport, the protocol-level Deepgram and
 * OpenAI fakes, the tone TTS double) with tracing on against the fake OTLP collector: the turn
 * and its stt / llm / tool / tts children, timed from the same timestamps as `metrics.stages`.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { audioFrame, type AudioFrame } from '../audio/frame.ts';
import { initResampler } from '../audio/resampler.ts';
import { ToneTts } from '../adapters/cascade/tone-tts.test-helper.ts';
import { cascade, type CascadeOptions } from '../adapters/cascade/cascade.ts';
import { deepgramStt } from '../adapters/deepgram/deepgram-stt.ts';
import { FakeDeepgramServer } from '../adapters/fakes/deepgram-live-server.ts';
import { FakeOpenAiServer, type FakeChatReply } from '../adapters/fakes/openai-chat-server.ts';
import { openaiChat } from '../adapters/openai-chat/openai-chat.ts';
import { MemoryTransport } from '../pipeline/memory-transport.test-helper.ts';
import type { InterruptedEvent } from '../pipeline/events.ts';
import { runPipeline } from '../pipeline/session-pipeline.ts';
import { FakeOtlpCollector, type ReceivedSpan } from './fake-otlp-collector.test-helper.ts';
import { startTracing, tracingConfigFromEnv } from './tracing.ts';

beforeAll(() => initResampler());
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function speech(ms: number, loud = true): AudioFrame {
  const n = (16_000 * ms) / 1000;
  return audioFrame(Int16Array.from({ length: n }, (_, i) => (loud ? Math.round(8000 * Math.sin((2 * Math.PI * 220 * i) / 16_000)) : 0)), 16_000);
}
async function say(t: MemoryTransport, ms = 400): Promise<void> {
  await t.feed(speech(ms), { speed: Infinity });
  await t.feed(speech(400, false), { speed: Infinity });
}

async function start(o: { transcripts: string[]; respond: (i: number) => FakeChatReply } & Partial<CascadeOptions>) {
  const { transcripts, respond, ...rest } = o;
  const c = await FakeOtlpCollector.start();
  const tracing = startTracing(tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: c.endpoint, OTEL_BSP_SCHEDULE_DELAY: '10' }), { log: () => {} })!;
  const dg = await FakeDeepgramServer.start({ transcripts });
  const llmServer = await FakeOpenAiServer.start({ respond: (_r, i) => respond(i) });
  const llm = openaiChat({ apiKey: 'test-key', baseURL: llmServer.baseURL, model: 'fake-model' });
  const handler = cascade({ stt: deepgramStt({ apiKey: 'test-key', url: dg.url, endpointingMs: 300 }), llm, tts: new ToneTts(), ...rest });
  const t = new MemoryTransport();
  const p = runPipeline({ handler, transport: t, session: { id: 'sess-c', kind: 'phone' }, log: { warn: () => {}, error: () => {} } });
  cleanups.push(async () => {
    p.stop('test over');
    await p.done;
    await tracing.shutdown(300);
    await Promise.all([dg.close(), llmServer.close(), c.close()]);
  });
  await dg.waitForConnection();
  return { c, t };
}

type Ev = { type: string; [k: string]: unknown };
const named = (spans: readonly ReceivedSpan[], name: string): ReceivedSpan[] => spans.filter((s) => s.name === name).sort((a, b) => a.startMs - b.startMs);

describe('cascade spans', { timeout: 15_000 }, () => {
  it('a turn with a tool call: turn ⊃ stt, llm ×2, tool, tts; the numbers of metrics.stages', async () => {
    const { c, t } = await start({
      transcripts: ['weather in Paris'],
      respond: (i) => (i === 0 ? { text: 'Let me check.', toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }] } : { text: 'It is sunny in Paris.' }),
      tools: [{ name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, run: () => ({ sky: 'sunny' }) }],
    });
    await say(t);
    await t.waitForEvent('reply.end');
    const spans = await c.waitForSpans((s) => s.some((x) => x.name === 'turn'), 'the turn span');
    const [turn] = named(spans, 'turn');
    const [stt] = named(spans, 'stt');
    const llm = named(spans, 'llm');
    const [tool] = named(spans, 'tool');
    const [tts] = named(spans, 'tts');
    expect(llm).toHaveLength(2);
    for (const s of [stt, ...llm, tool, tts]) {
      expect(s?.parentSpanId).toBe(turn!.spanId);
      expect(s?.traceId).toBe(turn!.traceId);
    }
    expect(turn!.parentSpanId).toBe('');
    const m = t.eventsOf<Ev>('metrics.stages')[0]! as Record<string, number>;
    expect(turn!.attributes).toMatchObject({
      'switchboard.session.id': 'sess-c',
      'switchboard.session.kind': 'phone',
      'switchboard.turn': 1,
      'switchboard.interrupted': false,
      'switchboard.end_of_speech_to_first_frame_ms': m.totalMs,
    });
    // 8 words × 100 ms handed over, what the transport got.
    expect(turn!.attributes['switchboard.played_ms']).toBeCloseTo(t.playedMs(), 3);
    expect(t.playedMs()).toBeCloseTo(800, 0);
    expect(llm[0]!.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'fake-model',
      'gen_ai.conversation.id': 'sess-c',
      'switchboard.first_token_ms': m.llmFirstTokenMs,
    });
    expect(llm[0]!.attributes['gen_ai.response.time_to_first_chunk']).toBeCloseTo(m.llmFirstTokenMs! / 1000, 5);
    expect(tool!.attributes).toMatchObject({ 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'get_weather', 'gen_ai.tool.call.id': 'call_1' });
    expect(tts!.attributes).toMatchObject({ 'switchboard.service': 'tone-tts', 'switchboard.first_audio_ms': m.ttsFirstAudioMs });
    expect(stt!.attributes).toMatchObject({ 'switchboard.service': 'deepgram' });
    // The same timestamps as the stage metrics: the turn starts at the final, the LLM request follows by sttToLlmMs.
    expect(llm[0]!.startMs - turn!.startMs).toBeCloseTo(m.sttToLlmMs!, 2);
    expect(Math.abs(stt!.endMs - turn!.startMs)).toBeLessThan(0.001);
    // In order: LLM round 1, the tool, LLM round 2; the TTS until its last audio; all inside the turn but the STT.
    expect(tool!.startMs).toBeGreaterThanOrEqual(llm[0]!.endMs);
    expect(llm[1]!.startMs).toBeGreaterThanOrEqual(tool!.endMs);
    for (const s of [...llm, tool!, tts!]) expect(s.endMs).toBeLessThanOrEqual(turn!.endMs);
    expect(tts!.endMs).toBeGreaterThanOrEqual(llm[1]!.startMs);
    // The turn lasts until its 800 ms of audio has played (estimated).
    expect(turn!.durationMs).toBeGreaterThan(800);
  });

  it('barge-in: the turn ends at the interruption, with what was heard', async () => {
    const long = 'One two three four five six seven eight nine ten eleven twelve.';
    const { c, t } = await start({ transcripts: ['tell me a story', 'stop'], respond: (i) => ({ text: i === 0 ? long : 'Sorry.' }) });
    await say(t);
    await t.waitForEvent('reply.start');
    await new Promise((r) => setTimeout(r, 350));
    await say(t, 200);
    await t.waitForEvent('interrupted');
    const spans = await c.waitForSpans((s) => s.some((x) => x.name === 'turn' && x.attributes['switchboard.turn'] === 1), 'turn 1');
    const one = spans.find((x) => x.name === 'turn' && x.attributes['switchboard.turn'] === 1)!;
    const intr = t.eventsOf<InterruptedEvent>('interrupted')[0]!;
    expect(one.attributes['switchboard.interrupted']).toBe(true);
    // The same measurement: the event carries it to 0.1 ms (pipeline/events.ts), the span unrounded.
    expect(Math.abs((one.attributes['switchboard.played_ms'] as number) - intr.playedMs)).toBeLessThanOrEqual(0.05 + 1e-9);
    expect(Math.abs(one.endMs - intr.at)).toBeLessThan(0.001);
  });
});
