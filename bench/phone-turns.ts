import { simulateCall } from '../scripts/phone/caller.ts';
import type { Provider } from '../scripts/phone/providers/types.ts';
import { PHRASE_2_ONSET_MS, SILENCE_MS, speech } from './speech-fixture.ts';
import { failedSample, summarizeTurns, turnSample, type TurnSample } from './turn-samples.ts';
import type { summary } from './stack/percentiles.ts';

/**
 * One phone call as the caller hears it (the caller simulator, through the whole stack, signed
 * with the local default keys of `provider`): the two-phrase fixture, then `tailMs` of silence.
 * Stream time 0 is when the stream opened, so phrase 2 begins at its label in stream time.
 */
export async function phoneSession(o: { edgeUrl: string; publicBaseUrl: string; provider: Provider; tailMs: number }): Promise<TurnSample> {
  try {
    const r = await simulateCall({
      baseUrl: o.edgeUrl,
      publicBaseUrl: o.publicBaseUrl,
      provider: o.provider,
      audio: { samples: speech.samples, sampleRate: speech.sampleRate },
      tailMs: o.tailMs,
    });
    if (!r.connected) return failedSample(`did not connect: ${r.goodbye ?? ''}`);
    return turnSample({
      webhookMs: r.webhookMs.at(-1),
      turnLatencyMs: r.turns[0]?.latencyMs,
      firstClearMs: r.clears[0],
      silenceMs: SILENCE_MS,
      phrase2OnsetMs: PHRASE_2_ONSET_MS,
      protocolErrors: r.protocolErrors,
    });
  } catch (err) {
    return failedSample(`call failed: ${(err as Error).message}`);
  }
}

export interface PhoneTurnResult {
  calls: number;
  /** Voice webhook POST -> TwiML. */
  webhook: ReturnType<typeof summary>;
  /** End of the caller's speech -> first reply audio heard, minus the 600 ms the turn detector waits. */
  turnMinusSilence: ReturnType<typeof summary>;
  /** Onset of phrase 2 -> Twilio `clear` received. */
  bargeInToClear: ReturnType<typeof summary>;
  failures: string[];
}

/** `calls` sequential Twilio calls (phone-latency.ts, `npm run bench:phone`). */
export async function measurePhoneTurns(o: { edgeUrl: string; publicBaseUrl: string; calls: number }): Promise<PhoneTurnResult> {
  const samples: TurnSample[] = [];
  for (let i = 0; i < o.calls; i++) samples.push(await phoneSession({ edgeUrl: o.edgeUrl, publicBaseUrl: o.publicBaseUrl, provider: 'twilio', tailMs: 500 }));
  const s = summarizeTurns(samples);
  return { calls: o.calls, webhook: s.webhook, turnMinusSilence: s.turnMinusSilence, bargeInToClear: s.bargeIn, failures: s.failures };
}
