import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { inject } from '../support/inject.ts';
import { readWav } from '../../media-worker/src/audio/pcm.ts';
import { resampleOnce } from '../../media-worker/src/audio/resampler.ts';
import { loadHandler } from '../../media-worker/src/handlers/load.ts';
import { createMetrics } from '../../media-worker/src/http/metrics.ts';
import { createVadFactory } from '../../media-worker/src/vad/factory.ts';
import { MediaWorker } from '../../media-worker/src/worker.ts';
import { bestCorrelation, envelope, sliceMs } from '../support/correlate.ts';
import { RtcTestClient } from '../support/rtc-client.ts';
import { e2eWorkerConfig } from '../support/worker-config.ts';

const edge = inject('edgeUrl');
const fixture = (name: string) => readWav(readFileSync(new URL(`../fixtures/audio/${name}`, import.meta.url)));

let worker: MediaWorker;

beforeAll(async () => {
  // A UDP socket per call (RTC_UDP_PORT unset): the port-range mode's path, which every other
  // e2e test leaves for the worker's one shared socket.
  const config = e2eWorkerConfig({ MAX_SESSIONS: '4', WORKER_ID: 'w-in-process', RTC_UDP_PORT: '' });
  worker = new MediaWorker(config, await loadHandler('echo'), await createVadFactory(), createMetrics(), (m) => console.log('[worker]', m));
  worker.start();
});

afterAll(async () => {
  await worker.drain(2000);
});

describe('a WebRTC call through edge, queue and an in-process worker (werift client peer)', () => {
  it('answers quickly, echoes each turn after the pause, and reports the turn events', async () => {
    const speech = fixture('hello-pause-question.wav');
    const phrase1 = sliceMs(speech, 0, 3100);
    const client = await RtcTestClient.connect(edge);
    expect(client.answerMs).toBeGreaterThan(0);
    const sentAt = performance.now();
    await client.play(phrase1);
    await client.silence(800);
    await client.waitForEvents('reply.end', 1, 20_000);
    await client.play(fixture('short-utterance.wav'));
    await client.silence(800);
    const metrics = await client.waitForEvents('metrics', 2, 20_000);
    await client.waitForEvents('reply.end', 2, 20_000);

    const pipelineEvents = client.events.map((e) => e.type).filter((t) => ['vad.start', 'vad.end', 'reply.start', 'reply.end', 'interrupted'].includes(t));
    expect(pipelineEvents).toEqual(['vad.start', 'vad.end', 'reply.start', 'reply.end', 'vad.start', 'vad.end', 'reply.start', 'reply.end']);
    for (const m of metrics) {
      expect(m['silenceMs']).toBe(600);
      expect(m['endOfSpeechToFirstFrameMs']).toBeGreaterThanOrEqual(0);
      expect(m['endOfSpeechToFirstFrameMs']).toBeLessThan(500);
    }

    // The echo of the first phrase correlates with what was said.
    const firstReply = client.events.find((e) => e.type === 'reply.start')!;
    const firstEnd = client.events.find((e) => e.type === 'reply.end')!;
    const echoed = await resampleOnce(client.receivedBetween(firstReply.receivedAt - 100, firstEnd.receivedAt + 100), 16000);
    const { r } = bestCorrelation(envelope(echoed), envelope(sliceMs(speech, 500, 2933)));
    expect(r).toBeGreaterThan(0.7);
    // The reply came after the user stopped: the phrase ends at 2933 ms, then 600 ms of silence.
    expect(firstReply.receivedAt - sentAt).toBeGreaterThan(2933 + 600 - 100);
    expect(await client.hangup()).toBe(200);
  });

  it('stops the reply when the user speaks over it: interrupted, then silence within 200 ms', async () => {
    const speech = fixture('hello-pause-question.wav');
    const client = await RtcTestClient.connect(edge);
    // A failed expectation still hangs up, so the next test finds the worker's slots free.
    onTestFinished(async () => void (await client.hangup()));
    await client.play(sliceMs(speech, 0, 3100));
    await client.silence(700);
    await client.waitForEvents('reply.start', 1, 20_000);
    await new Promise((r) => setTimeout(r, 300));
    // short-utterance.wav: 500 ms of silence, then speech. The onset counts from the first packet
    // sent, which follows the resampling and encoding play() does first.
    const onset = (await client.play(fixture('short-utterance.wav'))) + 500;
    const [interrupted] = await client.waitForEvents('interrupted', 1, 5000);
    expect(interrupted!['playedMs']).toBeGreaterThan(200);
    expect(interrupted!['playedMs']).toBeLessThan(2433);
    // Reply audio stops: nothing loud arrives later than 200 ms after the speech onset, until the
    // reply to the interrupting turn starts. That reply's first packets travel on RTP, its
    // reply.start event on the data channel: the audio can arrive a moment before the event, so
    // the window ends 60 ms (three frames) before the event.
    const nextReply = client.events.filter((e) => e.type === 'reply.start')[1]?.receivedAt ?? performance.now();
    const late = client.receivedBetween(onset + 200, nextReply - 60);
    const loud = Array.from(late.samples).filter((x) => Math.abs(x) > 1000).length;
    expect(loud).toBe(0);
    expect(interrupted!.receivedAt - onset).toBeLessThan(200);
  });

  it('frees the slot and reports the session ended after DELETE', async () => {
    const client = await RtcTestClient.connect(edge);
    const id = client.sessionUrl.split('/').pop()!;
    await expect.poll(async () => (await (await fetch(`${edge}/v1/sessions/${id}/status`)).json()).state).toBe('live');
    expect(worker.activeSessions).toBe(1);
    await client.hangup();
    await expect.poll(() => worker.activeSessions, { timeout: 5000 }).toBe(0);
    const st = await (await fetch(`${edge}/v1/sessions/${id}/status`)).json();
    expect(st).toMatchObject({ state: 'ended', reason: 'client_hangup', workerId: 'w-in-process' });
  });
});
