import { createHash, createPrivateKey, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from '../support/inject.ts';
import { BATCH_FRAMES } from '../../media-worker/src/transport/socket/socket-sink.ts';
import type { AudioFrame } from '../../media-worker/src/audio/frame.ts';
import { readWav } from '../../media-worker/src/audio/pcm.ts';
import type { Handler } from '../../media-worker/src/handlers/types.ts';
import { createMetrics } from '../../media-worker/src/http/metrics.ts';
import type { VadFactory } from '../../media-worker/src/pipeline/session-pipeline.ts';
import { createVadFactory } from '../../media-worker/src/vad/factory.ts';
import { MediaWorker } from '../../media-worker/src/worker.ts';
import { simulateCall, type CallResult, type SimulateCallOptions } from '../../scripts/phone/caller.ts';
import { LOCAL_TELNYX_SIGNING_KEY } from '../../scripts/stack/config.ts';
import { onsets, rmsBetween, silenceOf } from '../support/phone-audio.ts';
import { seen, toneHandler } from '../support/tone-handler.ts';
import { e2eWorkerConfig } from '../support/worker-config.ts';

/**
 * Telnyx (TeXML) and Plivo calls end to end, as phone-call.test.ts does for Twilio: the caller
 * simulator speaks each provider's documented webhooks and media protocol (scripts/phone/providers)
 * through the edge under workerd to an in-process media worker. Each provider gets the same
 * features: a full call with its acknowledgements, barge-in with the provider's clear, DTMF, an
 * outbound call through its REST API (a protocol-level fake), and forged or stale signatures refused.
 */

const edge = inject('edgeUrl');
const wav = (name: string): AudioFrame => readWav(readFileSync(new URL(`../fixtures/audio/${name}`, import.meta.url)));
const status = async (id: string): Promise<Record<string, unknown>> => (await fetch(`${edge}/v1/sessions/${id}/status`)).json();
/** The edge keys a Telnyx or Plivo call's session by the SHA-256 of the provider's call id. */
const sessionOf = (provider: 'telnyx' | 'plivo', callId: string) => `c_${provider === 'telnyx' ? 'tx' : 'pv'}_${createHash('sha256').update(callId).digest('hex').slice(0, 32)}`;

let vad: VadFactory;
const workers: MediaWorker[] = [];
async function startWorker(handler: Handler, id: string): Promise<MediaWorker> {
  const w = new MediaWorker(e2eWorkerConfig({ WORKER_ID: id, MAX_SESSIONS: '4' }), handler, vad, createMetrics(), () => {});
  w.start();
  workers.push(w);
  return w;
}
async function stopWorkers(): Promise<void> {
  for (const w of workers.splice(0)) await w.drain(1000);
}
beforeAll(async () => {
  vad = await createVadFactory();
});
afterAll(stopWorkers);

describe.each(['telnyx', 'plivo'] as const)('%s calls through the edge to a media worker', { timeout: 60_000 }, (provider) => {
  const call = (o: Omit<SimulateCallOptions, 'baseUrl' | 'provider'>): Promise<CallResult> => simulateCall({ baseUrl: edge, provider, ...o });

  it('a full call: stream connect, the greeting and a reply heard, every mark acknowledged, keypresses, hang-up ends the session', async () => {
    const worker = await startWorker(toneHandler, `w-${provider}-full`);
    seen.digits.length = 0;
    const short = wav('short-utterance.wav');
    const r = await call({ audio: { samples: short.samples, sampleRate: short.sampleRate }, dtmf: [{ atMs: 5000, digit: '7' }], tailMs: 4500 });
    const rate = r.heardSampleRate;
    expect(r.connected).toBe(true);
    expect(r.protocolErrors).toEqual([]);
    // Wideband where the provider streams it: L16 at 16 kHz both ways.
    expect(rate).toBe(16000);
    // The greeting from the first ticks, the reply ~600 ms after the speech ends (1243 ms), the key's tone after 5 s.
    const heardAt = onsets(r.heard, rate);
    expect(heardAt[0]).toBeLessThan(150);
    const replyAt = r.turns[0]!.firstReplyMs!;
    expect(replyAt - 1243).toBeGreaterThan(550);
    expect(replyAt - 1243).toBeLessThan(1200);
    expect(rmsBetween(r.heard, rate, replyAt + 20, replyAt + 2900)).toBeGreaterThan(0.1);
    expect(seen.digits).toEqual(['7']);
    expect(heardAt.some((t) => t > 5000 && t < 5400)).toBe(true);
    // A mark (Plivo: checkpoint) per batch of at most BATCH_FRAMES 20 ms frames; all acknowledged
    // but the few in the buffer at hang-up (up to 240 ms).
    expect(r.marksReceived).toBeGreaterThanOrEqual(((400 + 3000 + 200) / 20 - 5) / BATCH_FRAMES);
    expect(r.marksEchoed).toBeGreaterThanOrEqual(r.marksReceived - Math.ceil(12 / BATCH_FRAMES) - 1);
    expect(r.clears).toEqual([]);
    expect(r.statusCallback.status).toBe(200);
    await expect.poll(async () => status(sessionOf(provider, r.callSid))).toMatchObject({ state: 'ended', reason: 'phone_hangup', workerId: `w-${provider}-full` });
    await expect.poll(() => worker.activeSessions).toBe(0);
    await stopWorkers();
  });

  it("barge-in: the caller speaking over a reply gets the provider's clear within 200 ms of speech onset, then silence", async () => {
    await startWorker(toneHandler, `w-${provider}-barge`);
    seen.interruptions.length = 0;
    const hello = wav('hello-pause-question.wav');
    const r = await call({ audio: { samples: hello.samples, sampleRate: hello.sampleRate }, tailMs: 1500 });
    const rate = r.heardSampleRate;
    expect(r.connected).toBe(true);
    expect(r.protocolErrors).toEqual([]);
    const replyAt = r.turns[0]!.firstReplyMs!;
    expect(r.clears).toHaveLength(1);
    const clearAt = r.clears[0]!;
    const PHRASE_2_ONSET = 4133;
    expect(clearAt).toBeGreaterThan(PHRASE_2_ONSET);
    expect(clearAt - PHRASE_2_ONSET).toBeLessThan(200);
    expect(rmsBetween(r.heard, rate, replyAt + 20, clearAt - 20)).toBeGreaterThan(0.1);
    expect(rmsBetween(r.heard, rate, clearAt + 20, 5800)).toBe(0);
    // The handler is told what the acknowledgements confirmed before the clear.
    await expect.poll(() => seen.interruptions.length, { timeout: 5000 }).toBe(1);
    const heard = seen.interruptions[0]!;
    expect(heard.playedMs).toBeLessThanOrEqual(clearAt - replyAt + 20);
    expect(heard.playedMs).toBeGreaterThanOrEqual(clearAt - replyAt - 260);
    await stopWorkers();
  });

  it('an outbound call (POST /v1/calls with the provider) is placed through its REST API and greets the callee as it answers', async () => {
    await startWorker(toneHandler, `w-${provider}-out`);
    const placed = await fetch(`${edge}/v1/calls`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ to: '+15550100009', provider }) });
    expect(placed.status).toBe(201);
    const { sessionId, callSid } = (await placed.json()) as { sessionId: string; callSid: string };
    const asked = (await (await fetch(`${inject(provider === 'telnyx' ? 'telnyxApiBase' : 'plivoApiBase')}/__requests`)).json()) as Array<{ body: unknown }>;
    const request = asked.at(-1)!.body as Record<string, string>;
    if (provider === 'telnyx') expect(request).toMatchObject({ To: '+15550100009', From: '+15550100100', Url: `${edge}/telnyx/voice`, StatusCallback: `${edge}/telnyx/status` });
    else expect(request).toMatchObject({ to: '15550100009', from: '15550100200', answer_url: `${edge}/plivo/voice`, hangup_url: `${edge}/plivo/status` });
    await expect.poll(async () => (await status(sessionId))['state']).toBe('claimed');
    await new Promise((r) => setTimeout(r, 300));
    const r = await call({
      ...(provider === 'telnyx' ? { callSid } : { plivoRequestUuid: callSid }),
      direction: 'outbound-api',
      audio: { samples: silenceOf(1000, 8000), sampleRate: 8000 },
      tailMs: 200,
    });
    expect(r.connected).toBe(true);
    expect(sessionOf(provider, provider === 'telnyx' ? r.callSid : callSid)).toBe(sessionId);
    expect(onsets(r.heard, r.heardSampleRate)[0]).toBeLessThan(150);
    await expect.poll(async () => status(sessionId)).toMatchObject({ state: 'ended', reason: 'phone_hangup' });
    await stopWorkers();
  });

  it('refuses forged webhooks with 403', async () => {
    const forged = provider === 'telnyx' ? { telnyxSigningKey: otherEd25519Key() } : { plivoAuthToken: 'not-the-token' };
    await expect(call({ ...forged, audio: { samples: silenceOf(100, 8000), sampleRate: 8000 } })).rejects.toThrow(/403/);
  });
});

describe('Telnyx signatures', () => {
  it('a webhook signed more than 300 s ago is refused; a fresh one is not', async () => {
    const body = new URLSearchParams({ AccountSid: randomUUID(), CallSid: `v3:${randomUUID()}`, From: '+15550100001', To: '+15550100002', CallStatus: 'completed' }).toString();
    const post = (ts: number) =>
      fetch(`${edge}/telnyx/status`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          'telnyx-timestamp': String(ts),
          'telnyx-signature-ed25519': sign(null, Buffer.from(`${ts}|${body}`), createPrivateKey({ key: Buffer.from(LOCAL_TELNYX_SIGNING_KEY, 'base64'), format: 'der', type: 'pkcs8' })).toString('base64'),
        },
        body,
      });
    const now = Math.floor(Date.now() / 1000);
    const stale = await post(now - 301);
    expect(stale.status).toBe(403);
    expect(await stale.text()).toMatch(/signature/i);
    expect((await post(now)).status).toBe(200);
  });
});

/** An Ed25519 key that is not the one the edge trusts (PKCS#8 DER, base64). */
function otherEd25519Key(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
}
