/**
 * cascade() end to end through the real pipeline (in-memory transport), with the protocol-level
 * fakes of Deepgram (energy-driven "recognition") and OpenAI, and an in-memory TTS double.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { audioFrame, type AudioFrame } from '../../audio/frame.ts';
import { initResampler } from '../../audio/resampler.ts';
import { MemoryTransport } from '../../pipeline/memory-transport.test-helper.ts';
import type { PipelineLogger } from '../../pipeline/session-context.ts';
import { runPipeline, type Pipeline } from '../../pipeline/session-pipeline.ts';
import { deepgramStt } from '../deepgram/deepgram-stt.ts';
import { FakeDeepgramServer } from '../fakes/deepgram-live-server.ts';
import { FakeOpenAiServer, type FakeChatReply } from '../fakes/openai-chat-server.ts';
import { openaiChat } from '../openai-chat/openai-chat.ts';
import { cascade, type CascadeOptions } from './cascade.ts';
import { ToneTts } from './tone-tts.test-helper.ts';

const log: PipelineLogger = { warn: () => {}, error: () => {} };
beforeAll(() => initResampler());

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** `ms` of loud tone (speech to the fake's detector) or silence at 16 kHz. */
function speech(ms: number, loud = true): AudioFrame {
  const n = (16_000 * ms) / 1000;
  return audioFrame(Int16Array.from({ length: n }, (_, i) => (loud ? Math.round(8000 * Math.sin((2 * Math.PI * 220 * i) / 16_000)) : 0)), 16_000);
}

async function start(
  o: { transcripts?: string[]; respond?: (i: number) => FakeChatReply; tts?: ToneTts } & Partial<CascadeOptions> = {},
): Promise<{ t: MemoryTransport; p: Pipeline; dg: FakeDeepgramServer; llmServer: FakeOpenAiServer; tts: ToneTts }> {
  const { transcripts, respond, tts = new ToneTts(), ...rest } = o;
  const dg = await FakeDeepgramServer.start({ transcripts: transcripts ?? ['hello there'] });
  const llmServer = await FakeOpenAiServer.start({ respond: respond ? (_r, i) => respond(i) : undefined });
  const handler = cascade({
    stt: deepgramStt({ apiKey: 'test-key', url: dg.url, endpointingMs: 300 }),
    llm: openaiChat({ apiKey: 'test-key', baseURL: llmServer.baseURL, model: 'fake' }),
    tts,
    ...rest,
  });
  const t = new MemoryTransport();
  const p = runPipeline({ handler, transport: t, session: { id: 's', kind: 'webrtc' }, log });
  cleanups.push(async () => {
    p.stop('test over');
    await p.done;
    await dg.close();
    await llmServer.close();
  });
  await dg.waitForConnection();
  return { t, p, dg, llmServer, tts };
}

/** One caller utterance: speech then enough silence for the fake's endpointing (300 ms). */
async function say(t: MemoryTransport, ms = 400): Promise<void> {
  await t.feed(speech(ms), { speed: Infinity });
  await t.feed(speech(400, false), { speed: Infinity });
}

type Ev = { type: string; [k: string]: unknown };

describe('cascade', { timeout: 15_000 }, () => {
  it('a turn: user transcript, LLM with instructions, spoken sentences, reply.start/end, metrics, assistant transcript', async () => {
    const { t, llmServer, tts } = await start({ transcripts: ['what time is it'], respond: () => ({ text: 'It is noon. Anything else?' }), instructions: 'Be brief.' });
    await say(t);
    await t.waitForEvent('reply.end');
    expect(t.eventsOf<Ev>('transcript').filter((e) => e.final !== false)).toEqual([
      { type: 'transcript', role: 'user', text: 'what time is it', final: true, turn: 1 },
      { type: 'transcript', role: 'assistant', text: 'It is noon. Anything else?', final: true, turn: 1 },
    ]);
    expect(llmServer.requests[0]!.body.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'what time is it' },
    ]);
    expect(tts.pushed).toEqual(['It is noon. ', 'Anything else? ']);
    // 5 words × 100 ms of 24 kHz audio, handed over as the TTS made it.
    expect(t.playedMs()).toBeCloseTo(500, 0);
    expect(t.played.every((p) => p.frame.sampleRate === 24_000)).toBe(true);
    expect(t.types(['reply.start', 'metrics.stages', 'reply.end'])).toEqual(['reply.start', 'metrics.stages', 'reply.end']);
    const m = t.eventsOf<Ev>('metrics.stages')[0]!;
    for (const k of ['sttToLlmMs', 'llmFirstTokenMs', 'sentenceToTtsMs', 'ttsFirstAudioMs', 'ttsToOutputMs', 'totalMs']) expect(m[k]).toBeGreaterThanOrEqual(0);
    expect(m.totalMs).toBeGreaterThanOrEqual((m.sttToLlmMs as number) + (m.llmFirstTokenMs as number));
    expect(m.sttFinalMs).toBeGreaterThanOrEqual(0); // audio fed faster than real time: see the next test
  });

  it("measures the STT's own time: from where its words end in the audio it was sent to its final (in real time: its 300 ms endpointing)", async () => {
    const { t } = await start({ respond: () => ({ text: 'Yes.' }) });
    await t.feed(speech(400), { speed: 1 });
    await t.feed(speech(600, false), { speed: 1 });
    await t.waitForEvent('metrics.stages');
    const m = t.eventsOf<Ev>('metrics.stages')[0]!;
    expect(m.sttFinalMs).toBeGreaterThanOrEqual(280);
    expect(m.sttFinalMs).toBeLessThan(600);
  });

  it('resamples the TTS audio explicitly to sampleRate', async () => {
    const { t } = await start({ respond: () => ({ text: 'Two words.' }), sampleRate: 16_000 });
    await say(t);
    await t.waitForEvent('reply.end');
    expect(t.played.every((p) => p.frame.sampleRate === 16_000)).toBe(true);
    expect(t.playedMs()).toBeCloseTo(200, 0);
  });

  it('the greeting is spoken at the start and is in the history', async () => {
    const { t, llmServer } = await start({ greeting: 'Hi, how can I help?', respond: () => ({ text: 'OK.' }) });
    await t.waitForEvent('reply.end');
    expect(t.eventsOf<Ev>('transcript')[0]).toMatchObject({ role: 'assistant', text: 'Hi, how can I help?', turn: 1 });
    await new Promise((r) => setTimeout(r, 700)); // let the greeting's 500 ms play out (else the caller barges in)
    await say(t);
    await t.waitForEvent('reply.end', 2);
    expect(llmServer.requests[0]!.body.messages).toEqual([
      { role: 'assistant', content: 'Hi, how can I help?' },
      { role: 'user', content: 'hello there' },
    ]);
  });

  it('barge-in cuts the history to the words heard (TTS word timings)', async () => {
    const long = 'One two three four five six seven eight nine ten eleven twelve.';
    const { t, llmServer } = await start({ transcripts: ['tell me a story', 'stop'], respond: (i) => ({ text: i === 0 ? long : 'Sorry.' }) });
    await say(t);
    await t.waitForEvent('reply.start');
    await new Promise((r) => setTimeout(r, 350));
    await say(t, 200);
    await t.waitForEvent('interrupted');
    const played = t.eventsOf<Ev>('interrupted')[0]!.playedMs as number;
    expect(played).toBeGreaterThan(300);
    expect(played).toBeLessThan(1000);
    const heardWords = long.split(' ').slice(0, Math.floor(played / 100)).join(' ');
    expect(t.eventsOf<Ev>('transcript').find((e) => e.interrupted)).toMatchObject({ role: 'assistant', text: heardWords, interrupted: true, turn: 1 });
    expect(t.clears.length).toBe(1);
    await t.waitFor(() => llmServer.requests.length === 2, 'the second LLM call');
    expect(llmServer.requests[1]!.body.messages).toEqual([
      { role: 'user', content: 'tell me a story' },
      { role: 'assistant', content: heardWords },
      { role: 'user', content: 'stop' },
    ]);
    // reply.end comes when a reply's audio is all handed over (it closes the playout segment), so
    // turn 1 has one, though the caller cut its playback afterwards.
    await t.waitForEvent('reply.end', 2);
    expect(t.eventsOf<Ev>('reply.end')).toMatchObject([{ turn: 1 }, { turn: 2 }]);
    expect(t.eventsOf<Ev>('interrupted')).toMatchObject([{ turn: 1 }]);
  });

  it('barge-in without word timings cuts by the share of audio heard, at a word boundary', async () => {
    const long = 'Alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu.';
    const { t, llmServer } = await start({ tts: new ToneTts({ withWords: false }), respond: (i) => ({ text: i === 0 ? long : 'OK.' }) });
    await say(t);
    await t.waitForEvent('reply.start');
    await new Promise((r) => setTimeout(r, 500));
    await say(t, 200);
    await t.waitForEvent('interrupted');
    const played = t.eventsOf<Ev>('interrupted')[0]!.playedMs as number;
    const cut = t.eventsOf<Ev>('transcript').find((e) => e.interrupted)!.text as string;
    // 12 words × 100 ms = 1200 ms: the heard share of the characters, back to a word end.
    const chars = Math.floor((long.length * played) / 1200);
    expect(long.startsWith(cut)).toBe(true);
    expect(cut.length).toBeLessThanOrEqual(chars);
    expect(cut.length).toBeGreaterThan(chars - 9);
    await t.waitFor(() => llmServer.requests.length === 2, 'the second LLM call');
    expect(llmServer.requests[1]!.body.messages?.[1]).toEqual({ role: 'assistant', content: cut });
  });

  it('a tool call round: the tool runs, its call and result go to the next LLM call, the answer is spoken', async () => {
    const calls: unknown[] = [];
    const { t, llmServer, tts } = await start({
      transcripts: ['weather in Paris'],
      respond: (i) => (i === 0 ? { text: 'Let me check.', toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }] } : { text: 'It is sunny in Paris.' }),
      tools: [{ name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, run: (args) => (calls.push(args), { sky: 'sunny' }) }],
    });
    await say(t);
    await t.waitForEvent('reply.end');
    expect(calls).toEqual([{ city: 'Paris' }]);
    expect(llmServer.requests[0]!.body.tools).toHaveLength(1);
    expect(llmServer.requests[1]!.body.messages).toEqual([
      { role: 'user', content: 'weather in Paris' },
      { role: 'assistant', content: 'Let me check.', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: '{"sky":"sunny"}' },
    ]);
    expect(tts.pushed).toEqual(['Let me check. ', 'It is sunny in Paris. ']);
    expect(t.eventsOf<Ev>('transcript').at(-1)).toMatchObject({ role: 'assistant', text: 'Let me check. It is sunny in Paris.' });
  });

  it('tool rounds are bounded: the last call goes without tools', async () => {
    const { t, llmServer } = await start({
      maxToolRounds: 2,
      respond: (i) => (i < 5 ? { toolCalls: [{ name: 'again', arguments: '{}' }] } : { text: 'never' }),
      tools: [{ name: 'again', parameters: { type: 'object' }, run: () => 'more' }],
    });
    await say(t);
    await t.waitFor(() => llmServer.requests.length === 3 && llmServer.requests[2]!.completed, 'three LLM calls');
    await new Promise((r) => setTimeout(r, 50));
    expect(llmServer.requests).toHaveLength(3);
    expect(llmServer.requests.map((r) => r.body.tools?.length ?? 0)).toEqual([1, 1, 0]);
  });

  it('an LLM error becomes an error event and the session goes on', async () => {
    const { t, p } = await start({ respond: (i) => (i === 0 ? { error: { status: 429, message: 'Rate limit reached' } } : { text: 'Back.' }) });
    await say(t);
    await t.waitForEvent('error');
    expect(t.eventsOf<Ev>('error')[0]!.message).toMatch(/^cascade: openai-chat failed: .*HTTP 429: Rate limit reached$/);
    await say(t);
    await t.waitForEvent('reply.end');
    expect(p.reason).toBeUndefined();
  });

  it('an STT failure ends the handler with a clear error', async () => {
    const { t, p, dg } = await start();
    (await dg.waitForConnection()).close(1011, 'NET-0000: internal error');
    await p.done;
    expect(p.reason).toBe('handler-failed');
    expect(t.eventsOf<Ev>('error')[0]!.message).toBe(
      'handler failed: cascade: deepgram STT failed: deepgram closed the live connection unexpectedly (close code 1011 NET-0000: internal error)',
    );
  });

  it('rejects bad options clearly', () => {
    const tts = new ToneTts();
    const stt = deepgramStt({ apiKey: 'k' });
    const llm = openaiChat({ apiKey: 'k' });
    expect(() => cascade({ stt, llm } as unknown as CascadeOptions)).toThrow(/"tts" must be a TtsService/);
    expect(() => cascade({ stt, llm, tts, sampleRate: 5 })).toThrow(/sampleRate/);
    expect(() => cascade({ stt, llm, tts, voice: 'x' } as unknown as CascadeOptions)).toThrow(/unknown option "voice"/);
  });
});
