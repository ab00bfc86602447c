/**
 * The cost of tracing per turn, on the calling (media) path: a reply-on-pause turn (1 span) and
 * a cascade turn with a tool round (6 spans: turn, stt, llm ×2, tool, tts), without a provider
 * (the no-op path) and with one exporting to the fake collector (batch serialisation included,
 * amortised: the processor serialises a batch inline when 512 spans are queued). Prints µs per
 * turn; the bounds are loose (a shared 2-core machine), there to catch an order-of-magnitude slip.
 */
import { afterEach, expect, it } from 'vitest';
import { CascadeTurnTrace } from './cascade-spans.ts';
import { FakeOtlpCollector } from './fake-otlp-collector.test-helper.ts';
import { recordPipelineTurn, type PipelineTurn } from './spans.ts';
import { startTracing, tracingConfigFromEnv } from './tracing.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const T0 = 1_700_000_000_000;
const session = { id: 'sess-bench', kind: 'webrtc' as const };
const pipelineTurn = (i: number): PipelineTurn => ({
  session,
  turn: i,
  decidedAt: T0 + i,
  endAt: T0 + i + 900,
  interruption: undefined,
  metrics: { endOfSpeechToFirstFrameMs: 12.3, handlerFirstFrameMs: 11.1 },
  failed: false,
});

function cascadeTurn(i: number): void {
  const at = T0 + i;
  const trace = CascadeTurnTrace.start({ session, turn: i, finalAt: at, stt: { service: 'deepgram', startAt: at - 800 }, llm: { name: 'openai-chat' }, tts: { name: 'tone-tts' } });
  if (!trace) return;
  const a = trace.llmCall(at + 1);
  a.firstTokenAt = at + 200;
  a.lastTokenAt = at + 300;
  trace.tool('get_weather', 'call_1', at + 301, at + 350, '{"sky":"sunny"}');
  const b = trace.llmCall(at + 351);
  b.firstTokenAt = at + 500;
  b.lastTokenAt = at + 700;
  trace.finish({ endAt: at + 2000, interrupted: false, playedMs: 800, ttsRequestAt: at + 210, firstAudioAt: at + 260, lastAudioAt: at + 900, firstFrameAt: at + 261 });
}

/** µs per call of `fn`, over `n` calls after `n / 10` warm-up calls. */
function usPer(n: number, fn: (i: number) => void): number {
  for (let i = 0; i < n / 10; i++) fn(i);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  return ((performance.now() - t0) * 1000) / n;
}

it('prints the per-turn cost of tracing, off and on', { timeout: 30_000 }, async () => {
  const offPipeline = usPer(20_000, (i) => recordPipelineTurn(pipelineTurn(i)));
  const offCascade = usPer(20_000, cascadeTurn);

  const c = await FakeOtlpCollector.start();
  cleanups.push(() => c.close());
  const tracing = startTracing(tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: c.endpoint, OTEL_BSP_MAX_QUEUE_SIZE: '65536' }), { log: () => {} })!;
  cleanups.push(() => tracing.shutdown(1000));
  const onPipeline = usPer(3000, (i) => recordPipelineTurn(pipelineTurn(i)));
  const onCascade = usPer(1000, cascadeTurn);
  await tracing.flush();
  // Every span recorded went out (warm-up included): nothing was dropped on the way.
  expect(c.spans.length).toBe(3300 + 1100 * 6);

  console.log(
    [
      'tracing cost per turn on the media path (µs):',
      `  off: reply-on-pause ${offPipeline.toFixed(3)}, cascade ${offCascade.toFixed(3)}`,
      `  on:  reply-on-pause ${onPipeline.toFixed(1)} (1 span), cascade ${onCascade.toFixed(1)} (6 spans)`,
    ].join('\n'),
  );
  expect(offPipeline).toBeLessThan(5);
  expect(offCascade).toBeLessThan(5);
  expect(onPipeline).toBeLessThan(500);
  expect(onCascade).toBeLessThan(2000);
});
