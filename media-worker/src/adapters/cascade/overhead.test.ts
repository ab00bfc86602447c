/**
 * The platform's own time at the cascade's three hand-offs (STT final → LLM request, first
 * complete sentence → TTS request, first TTS audio → first frame handed to the transport), over
 * 50 turns through the real pipeline with both fakes at zero latency and the in-memory TTS, so
 * only our time shows. Prints median and max; asserts only that every turn was measured (timing
 * on a shared 2-core machine is too noisy to gate on).
 */
import { afterEach, beforeAll, expect, it } from 'vitest';
import { audioFrame, type AudioFrame } from '../../audio/frame.ts';
import { initResampler } from '../../audio/resampler.ts';
import { MemoryTransport } from '../../pipeline/memory-transport.test-helper.ts';
import { runPipeline } from '../../pipeline/session-pipeline.ts';
import { deepgramStt } from '../deepgram/deepgram-stt.ts';
import { FakeDeepgramServer } from '../fakes/deepgram-live-server.ts';
import { FakeOpenAiServer } from '../fakes/openai-chat-server.ts';
import { openaiChat } from '../openai-chat/openai-chat.ts';
import { cascade } from './cascade.ts';
import { ToneTts } from './tone-tts.test-helper.ts';

const TURNS = 50;

/** `ms` of loud tone (speech to the fake's detector) or silence at 16 kHz. */
function speech(ms: number, loud = true): AudioFrame {
  const n = (16_000 * ms) / 1000;
  return audioFrame(Int16Array.from({ length: n }, (_, i) => (loud ? Math.round(8000 * Math.sin((2 * Math.PI * 220 * i) / 16_000)) : 0)), 16_000);
}
const cleanups: Array<() => Promise<void>> = [];
beforeAll(() => initResampler());
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

it(`prints the hand-off overheads over ${TURNS} turns`, { timeout: 60_000 }, async () => {
  const dg = await FakeDeepgramServer.start({ transcripts: ['hi'] });
  const llm = await FakeOpenAiServer.start({ respond: () => ({ text: 'Sure. Done.' }) });
  const t = new MemoryTransport();
  const handler = cascade({
    stt: deepgramStt({ apiKey: 'test-key', url: dg.url, endpointingMs: 100 }),
    llm: openaiChat({ apiKey: 'test-key', baseURL: llm.baseURL }),
    tts: new ToneTts({ wordMs: 20 }),
  });
  const p = runPipeline({ handler, transport: t, session: { id: 's', kind: 'webrtc' }, log: { warn: () => {}, error: () => {} } });
  cleanups.push(async () => {
    p.stop('done');
    await p.done;
    await dg.close();
    await llm.close();
  });
  await dg.waitForConnection();
  for (let i = 1; i <= TURNS; i++) {
    await t.feed(speech(100), { speed: Infinity });
    await t.feed(speech(200, false), { speed: Infinity });
    await t.waitForEvent('reply.end', i);
    await new Promise((r) => setTimeout(r, 50)); // its 40 ms play out before the next utterance
  }
  const m = t.eventsOf<{ type: string; [k: string]: number | string }>('metrics.stages');
  expect(m).toHaveLength(TURNS);
  expect(t.eventsOf('interrupted')).toHaveLength(0);
  const stat = (k: string): string => {
    const v = m.map((x) => Number(x[k])).sort((a, b) => a - b);
    return `median ${v[Math.floor(v.length / 2)]!.toFixed(3)} ms, max ${v.at(-1)!.toFixed(3)} ms`;
  };
  console.log(
    [
      `cascade hand-off overhead over ${TURNS} turns (fakes at zero latency):`,
      `  STT final -> LLM request:        ${stat('sttToLlmMs')}`,
      `  sentence complete -> TTS request: ${stat('sentenceToTtsMs')}`,
      `  first TTS audio -> first frame:   ${stat('ttsToOutputMs')}`,
      `  (LLM request -> first token over local HTTP: ${stat('llmFirstTokenMs')}; final -> first frame: ${stat('totalMs')})`,
    ].join('\n'),
  );
});
