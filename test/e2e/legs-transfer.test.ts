import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from '../support/inject.ts';
import type { AudioFrame } from '../../media-worker/src/audio/frame.ts';
import { readWav } from '../../media-worker/src/audio/pcm.ts';
import type { TransferResult } from '../../media-worker/src/conference/transfer.ts';
import { stream } from '../../media-worker/src/handlers/stream.ts';
import { createMetrics } from '../../media-worker/src/http/metrics.ts';
import { createVadFactory } from '../../media-worker/src/vad/factory.ts';
import { MediaWorker } from '../../media-worker/src/worker.ts';
import { readApiLog } from '../../scripts/phone/api-log.ts';
import { simulateCall, type CallResult } from '../../scripts/phone/caller.ts';
import { placedCall } from '../../scripts/phone/providers/api-requests.ts';
import { twilioSignature } from '../../scripts/phone/signed-webhook.ts';
import { bestCorrelation, envelope, sliceMs } from '../support/correlate.ts';
import { concat, rmsBetween, silenceOf, tone } from '../support/phone-audio.ts';
import { e2eWorkerConfig } from '../support/worker-config.ts';

/**
 * Warm transfer to a human through the real edge and worker, with the caller simulator on both
 * ends (the human's call through each provider): the caller presses a key, the handler calls `ctx.transfer(HUMAN, {brief})`, which
 * dials the human as a new leg; the human hears the brief alone, then the handler leaves and the
 * caller and the human talk through the conference. A human who does not answer: the transfer
 * resolves `{ok: false}` with the provider's reason and the handler speaks to the caller again.
 */

const edge = inject('edgeUrl');
const apis = { twilio: inject('twilioApiBase'), telnyx: inject('telnyxApiBase'), plivo: inject('plivoApiBase') } as const;
type Provider = keyof typeof apis;
/** The keypress that asks for a human through each provider. */
const DIGIT: Record<Provider, string> = { twilio: '1', telnyx: '2', plivo: '3' };
const authToken = inject('twilioAuthToken');
const fixture = (name: string): AudioFrame => readWav(readFileSync(new URL(`../fixtures/audio/${name}`, import.meta.url)));
const HUMAN = '+15550100555';

const results: TransferResult[] = [];
/** Listens, and on a keypress 1 hands the call to HUMAN; a failed transfer plays a 600 Hz tone to the caller. */
const agent = stream(async function* (input) {
  for await (const _frame of input) {
    // silent until the caller asks for a human
  }
}, {
  onEvent: (event, ctx) => {
    const provider = (Object.keys(DIGIT) as Provider[]).find((p) => DIGIT[p] === event['digit']);
    if (event.type !== 'dtmf' || !provider) return;
    void ctx.transfer(HUMAN, { brief: 'A caller for you.', provider }).then(async (r) => {
      results.push(r);
      if (!r.ok) await ctx.legs.say(ctx.session.id, [{ samples: tone(800, 600, 8000), sampleRate: 8000, channels: 1 }]);
    });
  },
});

let worker: MediaWorker;
beforeAll(async () => {
  worker = new MediaWorker(e2eWorkerConfig({ WORKER_ID: 'w-transfer' }), agent, await createVadFactory(), createMetrics(), (m) => console.log('[worker]', m));
  worker.start();
});
afterAll(async () => {
  await worker.drain(2000);
});

/** The next call the edge places through `provider`'s fake API after `seen` log entries: its Url, status URL and id. */
async function nextPlacedCall(provider: Provider, seen: number): Promise<{ url: string; statusUrl: string; sid: string }> {
  for (let i = 0; i < 200; i++) {
    const placed = (await readApiLog(apis[provider])).slice(seen).map((r) => (r ? placedCall(provider, r) : null)).find((p) => p?.id);
    if (placed?.id && placed.statusCallbackUrl) return { url: placed.url, statusUrl: placed.statusCallbackUrl, sid: placed.id };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no call was placed through ${provider}`);
}
const requestCount = async (provider: Provider) => (await readApiLog(apis[provider])).length;

const heardOf = (r: CallResult): AudioFrame => ({ samples: r.heard, sampleRate: r.heardSampleRate, channels: 1 });

describe('warm transfer to a human', { timeout: 60_000 }, () => {
  it.each(['twilio', 'telnyx', 'plivo'] as const)('%s: dials the human, briefs them alone, then bridges the caller and leaves', async (provider) => {
    results.length = 0;
    const before = await requestCount(provider);
    const callerSpeech = fixture('hello-pause-question.wav');
    const humanSpeech = fixture('short-utterance.wav');
    // The caller presses a key at 300 ms and asks its question from 3 s (the bridge is up by then).
    const question = sliceMs(callerSpeech, 0, 3000);
    const caller = simulateCall({
      baseUrl: edge,
      authToken,
      audio: { samples: concat(silenceOf(3000, 16000), readAt16k(question)), sampleRate: 16000 },
      dtmf: [{ digit: DIGIT[provider], atMs: 300 }],
      tailMs: 1200,
    });
    const placed = await nextPlacedCall(provider, before);
    expect(placed.url).toMatch(new RegExp(`/${provider}/voice\\?leg=l_[0-9a-f]{32}$`));
    // The human answers and speaks from 3.5 s of their stream (after the brief).
    const human = await simulateCall({
      baseUrl: edge,
      authToken,
      provider,
      voiceUrl: placed.url,
      statusCallbackUrl: placed.statusUrl,
      callSid: placed.sid,
      direction: 'outbound-api',
      from: '+15550100000',
      to: HUMAN,
      audio: { samples: humanSpeech.samples, sampleRate: humanSpeech.sampleRate },
      leadSilenceMs: 3500,
      tailMs: 1200,
    });
    const c = await caller;
    expect(human.connected).toBe(true);
    expect(results).toMatchObject([{ ok: true, mode: 'warm', legId: placed.url.split('leg=')[1] }]);
    // The human heard the brief first (the caller was silent then), and the caller did not.
    const humanHeard = heardOf(human);
    expect(rmsBetween(human.heard, human.heardSampleRate, 100, 1500)).toBeGreaterThan(0.02);
    const callerHeard = heardOf(c);
    // The caller's question reaches the human, the human's words reach the caller.
    const toHuman = bestCorrelation(envelope(humanHeard), envelope(sliceMs(callerSpeech, 400, 2950)));
    const toCaller = bestCorrelation(envelope(callerHeard), envelope(sliceMs(humanSpeech, 400, 1400)));
    console.log(`transfer: caller->human r=${toHuman.r.toFixed(2)}, human->caller r=${toCaller.r.toFixed(2)}`);
    expect(toHuman.r).toBeGreaterThan(0.6);
    expect(toCaller.r).toBeGreaterThan(0.6);
    // The brief went to the human only: the caller heard nothing before the human spoke (from 3.5 s
    // of the human's stream, which started after the caller's).
    expect(rmsBetween(c.heard, c.heardSampleRate, 200, 3300)).toBeLessThan(0.02);
  });

  it('a human who does not answer: the transfer fails with the reason and the handler has the caller back', async () => {
    results.length = 0;
    const before = await requestCount('twilio');
    const caller = simulateCall({
      baseUrl: edge,
      authToken,
      audio: { samples: silenceOf(4000, 8000), sampleRate: 8000 },
      dtmf: [{ digit: '1', atMs: 300 }],
      tailMs: 1500,
    });
    const placed = await nextPlacedCall('twilio', before);
    // The provider reports no answer on the leg's status callback (signed as Twilio signs it).
    const form = { AccountSid: 'AC00000000000000000000000000000000', CallSid: placed.sid, CallStatus: 'no-answer', Direction: 'outbound-api', From: '+15550100000', To: HUMAN, ApiVersion: '2010-04-01' };
    const statusPath = placed.statusUrl.slice(placed.statusUrl.indexOf('/twilio/'));
    const res = await fetch(`${edge}${statusPath}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': twilioSignature(authToken, placed.statusUrl, form) },
      body: new URLSearchParams(form).toString(),
    });
    expect(res.status).toBe(204);
    const c = await caller;
    expect(results).toMatchObject([{ ok: false, mode: 'warm', reason: 'call_failed', detail: 'no-answer' }]);
    // The handler's tone after the failure reached the caller.
    expect(rmsBetween(c.heard, c.heardSampleRate, 500, 3500)).toBeGreaterThan(0.05);
  });
});

function readAt16k(f: AudioFrame): Int16Array {
  if (f.sampleRate !== 16000) throw new Error(`fixture is ${f.sampleRate} Hz, expected 16000`);
  return f.samples;
}
