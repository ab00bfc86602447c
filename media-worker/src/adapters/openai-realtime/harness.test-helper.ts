/**
 * Runs `openaiRealtime` through the real session pipeline (stream runner, memory transport with
 * simulated real-time playout) against the protocol-level fake of the Realtime API.
 */
import { afterEach } from 'vitest';
import { initResampler } from '../../audio/resampler.ts';
import type { SessionInfo } from '../../handlers/types.ts';
import { MemoryTransport } from '../../pipeline/memory-transport.test-helper.ts';
import type { PipelineLogger } from '../../pipeline/session-context.ts';
import { runPipeline, type Pipeline } from '../../pipeline/session-pipeline.ts';
import { FakeRealtimeServer, type FakeOptions } from '../fakes/openai-realtime-server.ts';
import { openaiRealtime } from './openai-realtime.ts';
import type { OpenAIRealtimeOptions } from './options.ts';

const log: PipelineLogger = { warn: () => {}, error: () => {} };
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

export interface Harness {
  fake: FakeRealtimeServer;
  t: MemoryTransport;
  p: Pipeline;
}

export async function startCall(
  options: OpenAIRealtimeOptions = {},
  { fake: fakeOptions, session, state }: { fake?: FakeOptions; session?: Partial<SessionInfo>; state?: Record<string, unknown> } = {},
): Promise<Harness> {
  await initResampler();
  const fake = await FakeRealtimeServer.start(fakeOptions);
  cleanups.push(() => fake.close());
  const handler = openaiRealtime({ url: fake.url, apiKey: 'sk-test', ...options });
  const t = new MemoryTransport();
  const p = runPipeline({ handler, transport: t, session: { id: 's', kind: 'webrtc', ...session }, log, ...(state && { state }) });
  cleanups.push(async () => {
    p.stop('test over');
    await p.done;
  });
  return { fake, t, p };
}

/** The fake's tone: sample `i` of a 440 Hz sine at 24 kHz, amplitude 8000 (computed here, independently). */
export function expectedTone(n: number): Int16Array {
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 24_000));
  return out;
}
