import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from '../support/inject.ts';
import { concatFrames, silence } from '../../media-worker/src/audio/pcm.ts';
import { say } from '../../media-worker/src/voice/say.ts';
import type { LocalWorker } from '../../scripts/stack/media-worker.ts';
import { rmsBetween } from '../support/phone-audio.ts';
import { streamCall } from '../support/stream-call.ts';
import { killE2eWorkers, startE2eWorker } from '../support/worker-config.ts';

/**
 * The offline assistant (HANDLER=assistant) through the whole stack: a worker process with
 * pocketsphinx and Flite, a WebSocket audio client through the edge. The caller's question is
 * spoken by Flite in the test (another voice than the assistant's), after the greeting.
 */

const edge = inject('edgeUrl');
const workers: LocalWorker[] = [];
/** The greeting ends well before this (about 7 s of speech). */
const GREETING_MS = 9000;

beforeAll(async () => {
  workers.push(await startE2eWorker({ HANDLER: 'assistant', MAX_SESSIONS: '2' }));
});
afterAll(async () => {
  await killE2eWorkers(workers);
});

async function spoken(text: string, voice: 'rms' | 'awb'): Promise<Int16Array> {
  const frames = [];
  for await (const f of say(text, { voice, sampleRate: 16_000 })) frames.push(f);
  return concatFrames(frames).samples;
}

describe('HANDLER=assistant, offline, through the edge', () => {
  it('greets, hears "what time is it" and answers it in speech, with transcripts and turn metrics', async () => {
    const question = await spoken('What time is it?', 'rms');
    // The caller's line carries silence after the question too: a turn ends on heard silence.
    const audio = concatFrames([silence(16_000, 1, GREETING_MS), { samples: question, sampleRate: 16_000, channels: 1 }, silence(16_000, 1, 4000)]).samples;
    const r = await streamCall({ edge, audio, rate: 16_000, tailMs: 500 });
    const transcripts = r.events.filter((e) => e.type === 'transcript').map((e) => ({ at: e.atMs, role: e.event['role'], text: String(e.event['text']) }));
    expect(transcripts[0]).toMatchObject({ role: 'assistant', text: expect.stringMatching(/^Hi, I'm the Switchboard assistant/) });
    const heardQuestion = transcripts.find((t) => t.role === 'user');
    expect(heardQuestion?.text).toBe('what time is it');
    const reply = transcripts.find((t) => t.role === 'assistant' && t.at > heardQuestion!.at);
    expect(reply?.text).toMatch(/^It's \d{1,2}:\d{2} [AP]M\.$/);

    // The answer is heard: speech after the question, where the caller's line was silent.
    const questionEndMs = GREETING_MS + (question.length / 16_000) * 1000;
    const metrics = r.events.find((e) => e.type === 'metrics' && e.atMs > GREETING_MS);
    expect(metrics).toBeDefined();
    const latency = Number(metrics!.event['endOfSpeechToFirstFrameMs']);
    console.log(`[assistant] the turn's end (600 ms of silence after the question) to the first reply frame: ${latency.toFixed(0)} ms`);
    expect(latency).toBeGreaterThan(0);
    const replyFrom = questionEndMs + 600;
    expect(rmsBetween(r.heard, r.rate, replyFrom, replyFrom + 1500)).toBeGreaterThan(0.02);
    expect(r.close.code).toBe(1000);
  }, 45_000);
});
