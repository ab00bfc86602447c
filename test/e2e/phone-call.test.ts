import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from '../support/inject.ts';
import { BATCH_FRAMES } from '../../media-worker/src/transport/socket/socket-sink.ts';
import WebSocket from 'ws';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';
import type { AudioFrame } from '../../media-worker/src/audio/frame.ts';
import { readWav } from '../../media-worker/src/audio/pcm.ts';
import { loadHandler } from '../../media-worker/src/handlers/load.ts';
import type { Handler } from '../../media-worker/src/handlers/types.ts';
import { createMetrics } from '../../media-worker/src/http/metrics.ts';
import type { VadFactory } from '../../media-worker/src/pipeline/session-pipeline.ts';
import { createVadFactory } from '../../media-worker/src/vad/factory.ts';
import { MediaWorker } from '../../media-worker/src/worker.ts';
import { simulateCall, type CallResult, type SimulateCallOptions } from '../../scripts/phone/caller.ts';
import { concat, onsets, rmsBetween, silenceOf } from '../support/phone-audio.ts';
import { KEY_HZ, seen, toneHandler } from '../support/tone-handler.ts';
import { e2eWorkerConfig } from '../support/worker-config.ts';

/**
 * Phone calls end to end: the caller simulator (scripts/phone, Twilio's documented webhook and
 * Media Streams formats, signed with twilio's own helper) through the edge under workerd to an
 * in-process media worker, so the handler's view (keypresses, interruptions) can be checked.
 * Fixture timings: hello-pause-question.wav has phrase 1 at 500-2933 ms, phrase 2 at 4133-5269 ms;
 * short-utterance.wav has speech at 500-1243 ms.
 */

const edge = inject('edgeUrl');
const authToken = inject('twilioAuthToken');
const wav = (name: string): AudioFrame => readWav(readFileSync(new URL(`../fixtures/audio/${name}`, import.meta.url)));
const status = async (id: string): Promise<Record<string, unknown>> => (await fetch(`${edge}/v1/sessions/${id}/status`)).json();
const call = (o: Omit<SimulateCallOptions, 'baseUrl' | 'authToken'> & Partial<SimulateCallOptions>): Promise<CallResult> =>
  simulateCall({ baseUrl: edge, authToken, ...o });

let vad: VadFactory;
const workers: MediaWorker[] = [];
async function startWorker(handler: Handler, id: string): Promise<MediaWorker> {
  const w = new MediaWorker(e2eWorkerConfig({ WORKER_ID: id, MAX_SESSIONS: '4' }), handler, vad, createMetrics(), (m) => console.log("W", m));
  w.start();
  workers.push(w);
  return w;
}
beforeAll(async () => {
  vad = await createVadFactory();
});
afterAll(async () => {
  for (const w of workers) await w.drain(1000);
});

/** Stops every worker started so far (each test runs its own). */
async function stopWorkers(): Promise<void> {
  for (const w of workers.splice(0)) await w.drain(1000);
}

describe('phone calls through the edge to a media worker', { timeout: 60_000 }, () => {
  it('a full call: TwiML connect, echo of each turn, marks acknowledged, hang-up ends the session at edge and worker', async () => {
    const worker = await startWorker(await loadHandler('echo'), 'w-phone-echo');
    const short = wav('short-utterance.wav');
    const twice = concat(short.samples, silenceOf(2500, short.sampleRate), short.samples);
    const r = await call({ audio: { samples: twice, sampleRate: short.sampleRate }, tailMs: 2500 });
    expect(r.connected).toBe(true);
    expect(r.protocolErrors).toEqual([]);
    expect(r.holds).toBe(0);
    expect(r.webhookMs).toHaveLength(1);
    // Two turns (speech ends ~1.24 s and ~4.99 s), each answered by its echo after the 600 ms silence.
    expect(r.turns).toHaveLength(2);
    for (const t of r.turns) {
      expect(t.latencyMs).not.toBeNull();
      expect(t.latencyMs!).toBeGreaterThan(550);
      expect(t.latencyMs!).toBeLessThan(1200);
    }
    // The echo is the caller's speech: as long as the utterance (plus pre-roll and tail), and loud.
    const first = r.turns[0]!.firstReplyMs!;
    expect(rmsBetween(r.heard, 8000, first, first + 600)).toBeGreaterThan(0.01);
    expect(rmsBetween(r.heard, 8000, first + 1400, first + 2000)).toBeLessThan(0.002);
    // A mark for every batch of at most BATCH_FRAMES chunks (about 45 a turn), every mark
    // acknowledged; nothing was cleared.
    expect(r.marksReceived).toBeGreaterThanOrEqual((2 * 45) / BATCH_FRAMES);
    expect(r.marksEchoed).toBe(r.marksReceived);
    expect(r.clears).toEqual([]);
    expect(r.statusCallback.status).toBe(204);
    expect(r.closedBy).toBe('caller');
    await expect.poll(async () => status(r.sessionId)).toMatchObject({ state: 'ended', reason: 'phone_hangup', workerId: 'w-phone-echo' });
    await expect.poll(() => worker.activeSessions).toBe(0);
    await stopWorkers();
  });

  it('barge-in: the caller speaking over a reply gets Twilio `clear` within 200 ms of speech onset, the reply stops, the handler learns what was heard', async () => {
    await startWorker(toneHandler, 'w-phone-barge');
    seen.interruptions.length = 0;
    seen.aborted.length = 0;
    const hello = wav('hello-pause-question.wav');
    const r = await call({ audio: { samples: hello.samples, sampleRate: hello.sampleRate }, tailMs: 1500 });
    expect(r.connected).toBe(true);
    expect(r.protocolErrors).toEqual([]);
    // The greeting (0-400 ms) is not interrupted: the caller starts at 500 ms. The reply to phrase 1
    // starts ~600 ms after it ends (2933 ms); phrase 2 starts at 4133 ms, during the reply.
    const replyAt = r.turns[0]!.firstReplyMs!;
    expect(replyAt).toBeGreaterThan(3400);
    expect(replyAt).toBeLessThan(4000);
    expect(r.clears).toHaveLength(1);
    const clearAt = r.clears[0]!;
    const PHRASE_2_ONSET = 4133;
    expect(clearAt).toBeGreaterThan(PHRASE_2_ONSET);
    expect(clearAt - PHRASE_2_ONSET).toBeLessThan(200);
    // The caller heard the reply until the clear, then nothing until the reply to phrase 2 (its
    // turn ends at 5269 + 600 ms).
    expect(rmsBetween(r.heard, 8000, replyAt + 20, clearAt - 20)).toBeGreaterThan(0.1);
    expect(rmsBetween(r.heard, 8000, clearAt + 20, 5800)).toBe(0);
    // What the handler was told was heard: the marks Twilio acknowledged before the clear, so at
    // most what played until it arrived, and at most the 200 ms lead (plus a chunk) less.
    await expect.poll(() => seen.interruptions.length, { timeout: 5000 }).toBe(1);
    const heard = seen.interruptions[0]!;
    expect(heard.turn).toBe(1);
    expect(heard.playedMs).toBeLessThanOrEqual(clearAt - replyAt + 20);
    expect(heard.playedMs).toBeGreaterThanOrEqual(clearAt - replyAt - 260);
    expect(seen.aborted.some((m) => /interrupted the reply after \d+ ms/.test(m))).toBe(true);
    await stopWorkers();
  });

  it('keypresses reach the handler as dtmf events in order, and its reply plays', async () => {
    await startWorker(toneHandler, 'w-phone-dtmf');
    seen.digits.length = 0;
    const r = await call({
      audio: { samples: silenceOf(2500, 8000), sampleRate: 8000 },
      dtmf: [
        { atMs: 1000, digit: '4' },
        { atMs: 1600, digit: '#' },
      ],
      tailMs: 800,
    });
    expect(r.connected).toBe(true);
    expect(seen.digits).toEqual(['4', '#']);
    // The greeting, then one 200 ms tone per key.
    const starts = onsets(r.heard, 8000);
    expect(starts).toHaveLength(3);
    expect(starts[1]! - 1000).toBeGreaterThan(0);
    expect(starts[1]! - 1000).toBeLessThan(300);
    expect(starts[2]! - 1600).toBeLessThan(300);
    await stopWorkers();
  });

  it('the caller hanging up mid-reply (`stop`) ends the session at edge and worker, and aborts the reply', async () => {
    const worker = await startWorker(toneHandler, 'w-phone-stop');
    seen.signals.length = 0;
    const short = wav('short-utterance.wav');
    // The reply starts at ~1.85 s and would last 3 s: hang up 1 s into it.
    const r = await call({ audio: { samples: short.samples, sampleRate: short.sampleRate }, hangupAtMs: 2900 });
    expect(r.connected).toBe(true);
    expect(r.closedBy).toBe('caller');
    expect(rmsBetween(r.heard, 8000, 2200, 2800)).toBeGreaterThan(0.1);
    await expect.poll(async () => status(r.sessionId)).toMatchObject({ state: 'ended', reason: 'phone_hangup' });
    await expect.poll(() => worker.activeSessions, { timeout: 3000 }).toBe(0);
    // The reply (generated ahead, still playing) was aborted by the end of the session.
    const reply = seen.signals.at(-1)!;
    expect(reply.aborted).toBe(true);
    expect(String((reply.reason as Error).message)).toMatch(/session ended/);
    await stopWorkers();
  });

  it('an outbound call (POST /v1/calls) reaches the same handler; the greeting plays as the callee answers', async () => {
    await startWorker(toneHandler, 'w-phone-out');
    seen.sessions.length = 0;
    const placed = await fetch(`${edge}/v1/calls`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ to: '+15550100009' }) });
    expect(placed.status).toBe(201);
    const { sessionId, callSid } = (await placed.json()) as { sessionId: string; callSid: string };
    // Twilio was asked to fetch the voice webhook when the callee answers.
    const asked = (await (await fetch(`${inject('twilioApiBase')}/__requests`)).json()) as Array<{ form: [string, string][] }>;
    expect(Object.fromEntries(asked.at(-1)!.form)).toMatchObject({ To: '+15550100009', From: '+15550100000', Url: `${edge}/twilio/voice` });
    // The worker claims at once; the callee answers a little later.
    await expect.poll(async () => (await status(sessionId))['state']).toBe('claimed');
    await new Promise((r) => setTimeout(r, 500));
    const short = wav('short-utterance.wav');
    const r = await call({ callSid, direction: 'outbound-api', from: '+15550100000', to: '+15550100009', audio: { samples: short.samples, sampleRate: short.sampleRate }, tailMs: 1000, hangupAtMs: 2200 });
    expect(r.connected).toBe(true);
    expect(r.sessionId).toBe(sessionId);
    // Greeting from the first ticks of the stream.
    const [greetingAt] = onsets(r.heard, 8000);
    expect(greetingAt).toBeLessThan(150);
    expect(rmsBetween(r.heard, 8000, greetingAt! + 20, greetingAt! + 380)).toBeGreaterThan(0.1);
    await expect.poll(async () => seen.sessions.length, { timeout: 5000 }).toBeGreaterThan(0);
    expect(seen.sessions.at(-1)).toMatchObject({ id: sessionId, kind: 'phone', call: { callSid, direction: 'outbound', to: '+15550100009' } });
    await stopWorkers();
  });

  it('refuses a webhook and a media upgrade with a bad signature', async () => {
    await expect(call({ authToken: 'not-the-token', audio: { samples: silenceOf(100, 8000), sampleRate: 8000 } })).rejects.toThrow(/signature/i);
    // The stream URL names the session; this one does not exist.
    const streamUrl = `${edge.replace(/^http/, 'ws')}/twilio/media/c_CA${'0'.repeat(32)}`;
    const upgrade = (signature: string) =>
      new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(streamUrl, { headers: { 'X-Twilio-Signature': signature } });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => {
          ws.close();
          resolve(101);
        });
        ws.on('error', reject);
      });
    expect(await upgrade(getExpectedTwilioSignature('not-the-token', streamUrl, {}))).toBe(403);
    expect(await upgrade('')).toBe(403);
    // Signed right, the upgrade reaches the session's object, which knows no such call.
    expect(await upgrade(getExpectedTwilioSignature(authToken, streamUrl, {}))).toBe(404);
  });
});
