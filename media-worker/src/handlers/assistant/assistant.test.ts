/**
 * HANDLER=assistant end to end: the real pipeline (Silero VAD, in-memory transport), real
 * pocketsphinx and Flite. The caller's speech is Flite's too (say()), 16 kHz, with silence after
 * it so the VAD ends the turn.
 */
import type { TranscriptEvent } from '@switchboard/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AudioFrame } from '../../audio/frame.ts';
import { concatFrames, silence } from '../../audio/pcm.ts';
import { initResampler } from '../../audio/resampler.ts';
import type { TurnMetricsEvent } from '../../pipeline/events.ts';
import { MemoryTransport } from '../../pipeline/memory-transport.test-helper.ts';
import { runPipeline, type Pipeline } from '../../pipeline/session-pipeline.ts';
import { SileroModel } from '../../vad/silero-model.ts';
import { StreamingVad } from '../../vad/streaming-vad.ts';
import { say } from '../../voice/say.ts';
import assistant from './index.ts';
import { closeAssistantRecognizer } from './recognizer.ts';
import { GREETING, JOKES } from './replies.ts';

let model: SileroModel;
beforeAll(async () => {
  model = await SileroModel.load();
  await initResampler();
});
afterAll(closeAssistantRecognizer);

const running: Pipeline[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) {
    p.stop('test over');
    await p.done;
  }
});

/** takeover: a resumed session, which skips the greeting (so turn tests need not wait it out). */
function start(takeover = false) {
  const t = new MemoryTransport();
  const metrics: TurnMetricsEvent[] = [];
  const p = runPipeline({
    handler: assistant,
    transport: t,
    session: { id: 'sess-a', kind: 'webrtc', takeover },
    vad: () => new StreamingVad(model.createStream()),
    log: { warn: () => {}, error: () => {} },
    onMetrics: (m) => metrics.push(m),
  });
  running.push(p);
  return { t, metrics };
}

async function caller(text: string): Promise<AudioFrame> {
  const frames = [silence(16_000, 1, 300)];
  for await (const f of say(text, { voice: 'rms', sampleRate: 16_000 })) frames.push(f);
  frames.push(silence(16_000, 1, 1000));
  return concatFrames(frames);
}

const transcripts = (t: MemoryTransport) => t.eventsOf<TranscriptEvent>('transcript');

describe('assistant handler (real VAD, pocketsphinx, Flite)', { timeout: 60_000 }, () => {
  it('greets in speech with a transcript (turn 0)', async () => {
    const { t } = start();
    await t.waitFor(() => t.playedMs() > 1000, '1 s of greeting audio');
    expect(transcripts(t)[0]).toEqual({ type: 'transcript', role: 'assistant', text: GREETING, turn: 0 });
    expect(t.played[0]!.frame.sampleRate).toBe(16_000);
  });

  it('answers a spoken "what time is it" in speech, with user and assistant transcripts', async () => {
    const { t } = start(true);
    await t.feed(await caller('what time is it'), { speed: 2 });
    await t.waitForEvent('reply.end', 1, 20_000);
    const [heard, said] = transcripts(t);
    expect(heard).toEqual({ type: 'transcript', role: 'user', text: 'what time is it', turn: 1 });
    expect(said?.role).toBe('assistant');
    expect(said?.text).toMatch(/^It's \d{1,2}:\d\d [AP]M\.$/);
    expect(said?.turn).toBe(1);
    expect(t.playedMs()).toBeGreaterThan(800); // "It's 2:15 AM." spoken
    expect(t.eventsOf('assistant.asr')[0]).toMatchObject({ text: 'what time is it', accepted: true });
  });

  it('out-of-grammar speech gets "Sorry, I didn\'t catch that" and no user transcript', async () => {
    const { t } = start(true);
    await t.feed(await caller('I would like to order a pizza'), { speed: 2 });
    await t.waitForEvent('transcript', 1, 20_000);
    expect(transcripts(t).map((e) => [e.role, e.text.slice(0, 30)])).toEqual([['assistant', "Sorry, I didn't catch that. Yo"]]);
    expect(t.eventsOf('assistant.asr')[0]).toMatchObject({ accepted: false });
  });

  it('DTMF 2 gets a joke; typed text is understood; an unknown key gets a hint', async () => {
    const { t } = start(true);
    t.clientEvent({ type: 'dtmf', digit: '2' });
    await t.waitForEvent('transcript', 2);
    expect(transcripts(t)).toEqual([
      { type: 'transcript', role: 'user', text: '(pressed 2)', turn: 1 },
      { type: 'transcript', role: 'assistant', text: JOKES[0], turn: 1 },
    ]);
    await t.waitFor(() => t.playedMs() > 1000, 'joke audio');
    t.clientEvent({ type: 'input', text: 'Who are you?' });
    await t.waitForEvent('transcript', 4);
    expect(transcripts(t)[3]?.text).toMatch(/^I'm the Switchboard assistant/);
    t.clientEvent({ type: 'dtmf', digit: '7' });
    await t.waitForEvent('transcript', 6);
    expect(transcripts(t)[5]).toMatchObject({ text: 'That key does nothing here. Press 0 for help.', turn: 3 });
  });

  it('end of speech to first reply audio over 10 turns (logs median and max)', async () => {
    const { t, metrics } = start(true);
    // Requests with short answers (~1.3 s of speech each), so the test is not mostly playout.
    const phrases = ['what time is it', 'repeat that', "what's the time", 'tell me the time', 'repeat that'];
    const audio = await Promise.all(phrases.map(caller));
    for (let i = 0; i < 10; i++) {
      await t.feed(audio[i % audio.length]!, { speed: 4 });
      // The pipeline reports a turn's metrics when its reply has finished.
      await t.waitForEvent('metrics', i + 1, 20_000);
    }
    const heard = transcripts(t).filter((e) => e.role === 'user').map((e) => e.text);
    expect(heard).toEqual([...phrases, ...phrases]);
    const ms = metrics.map((m) => m.endOfSpeechToFirstFrameMs).sort((a, b) => a - b);
    expect(ms).toHaveLength(10);
    const median = (ms[4]! + ms[5]!) / 2;
    console.log(`assistant end of speech → first reply frame: median ${median.toFixed(0)} ms, max ${ms.at(-1)!.toFixed(0)} ms (${ms.map((x) => x.toFixed(0)).join(', ')})`);
    expect(median).toBeLessThan(500);
  });
});
