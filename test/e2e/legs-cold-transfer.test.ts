import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from '../support/inject.ts';
import type { TransferResult } from '../../media-worker/src/conference/transfer.ts';
import { stream } from '../../media-worker/src/handlers/stream.ts';
import { createMetrics } from '../../media-worker/src/http/metrics.ts';
import { createVadFactory } from '../../media-worker/src/vad/factory.ts';
import { MediaWorker } from '../../media-worker/src/worker.ts';
import { simulateCall } from '../../scripts/phone/caller.ts';
import { rmsBetween, silenceOf, tone } from '../support/phone-audio.ts';
import { e2eWorkerConfig } from '../support/worker-config.ts';

/**
 * Cold transfer through the real edge and worker, for each provider: the caller presses 2, the
 * handler calls `ctx.transfer(HUMAN, {mode: 'cold'})`, the edge has the provider's REST API (the
 * stack's protocol-level fakes) redirect the live call, and the caller simulator plays the
 * provider: the stream ends, the redirect's markup is a `<Dial>` of the human, and the dial's
 * outcome goes to its action URL. Answered: the session ends as `transferred`. Busy: the caller
 * comes back on a new stream of the same session and the handler, told why, speaks to them.
 */

const edge = inject('edgeUrl');
const authToken = inject('twilioAuthToken');
const apis = { twilio: inject('twilioApiBase'), telnyx: inject('telnyxApiBase'), plivo: inject('plivoApiBase') } as const;
const HUMAN = '+15550100666';

const results: TransferResult[] = [];
/** Silent; a keypress 2 transfers the caller cold; a failed transfer plays a 600 Hz tone to them. */
const agent = stream(async function* (input) {
  for await (const _frame of input) {
    // listening
  }
}, {
  onEvent: (event, ctx) => {
    if (event.type !== 'dtmf' || event['digit'] !== '2') return;
    void ctx.transfer(HUMAN, { mode: 'cold' }).then(async (r) => {
      results.push(r);
      if (!r.ok) await ctx.legs.say(ctx.session.id, [{ samples: tone(800, 600, 8000), sampleRate: 8000, channels: 1 }]);
    });
  },
});

let worker: MediaWorker;
beforeAll(async () => {
  worker = new MediaWorker(e2eWorkerConfig({ WORKER_ID: 'w-cold' }), agent, await createVadFactory(), createMetrics(), (m) => console.log('[worker]', m));
  worker.start();
});
afterAll(async () => {
  await worker.drain(2000);
});

const cases = [
  { provider: 'twilio', outcome: 'completed' },
  { provider: 'twilio', outcome: 'busy' },
  { provider: 'telnyx', outcome: 'no-answer' },
  { provider: 'plivo', outcome: 'completed' },
] as const;

describe('cold transfer to a human', { timeout: 60_000 }, () => {
  for (const { provider, outcome } of cases) {
    it(`${provider}: the call is redirected to dial the human; ${outcome}`, async () => {
      results.length = 0;
      const r = await simulateCall({
        baseUrl: edge,
        authToken,
        provider,
        providerApiUrl: apis[provider],
        dialOutcome: outcome,
        dialTalkMs: 300,
        audio: { samples: silenceOf(3000, 8000), sampleRate: 8000 },
        dtmf: [{ digit: '2', atMs: 300 }],
        tailMs: 2500,
      });
      expect(r.protocolErrors).toEqual([]);
      expect(r.redirects.length).toBe(1);
      expect(r.dials).toMatchObject([{ outcome }]);
      expect(r.dials[0]!.to.replace(/^\+/, '')).toBe(HUMAN.slice(1));
      const status = (await (await fetch(`${edge}/v1/sessions/${sessionIdOf(provider, r.callSid)}/status`)).json()) as { state: string; reason?: string };
      if (outcome === 'completed') {
        expect(results).toMatchObject([{ ok: true, mode: 'cold' }]);
        expect(status).toMatchObject({ state: 'ended', reason: 'transferred' });
        expect(r.streams).toBe(1);
      } else {
        expect(results).toMatchObject([{ ok: false, mode: 'cold', reason: 'call_failed', detail: outcome }]);
        // Back on a second stream of the same call, where the handler's tone reached the caller.
        expect(r.streams).toBe(2);
        const back = r.redirects[0]!.resumedAtMs!;
        expect(back).toBeGreaterThan(0);
        expect(rmsBetween(r.heard, r.heardSampleRate, back, back + 1500)).toBeGreaterThan(0.05);
      }
    });
  }
});

/** The edge's session id of a call (the contract's: `c_` + a Twilio CallSid, else a hash of the provider's call id). */
function sessionIdOf(provider: 'twilio' | 'telnyx' | 'plivo', callSid: string): string {
  if (provider === 'twilio') return `c_${callSid}`;
  return `c_${provider === 'telnyx' ? 'tx' : 'pv'}_${createHash('sha256').update(callSid).digest('hex').slice(0, 32)}`;
}
