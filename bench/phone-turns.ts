import { readFileSync } from 'node:fs';
import { readWav } from '../media-worker/src/audio/pcm.ts';
import { simulateCall } from '../scripts/phone/caller.ts';
import { summary } from './stack/percentiles.ts';

const SILENCE_MS = 600;
const PHRASE_2_ONSET_MS = 4133;
const speech = readWav(readFileSync(new URL('../test/fixtures/audio/hello-pause-question.wav', import.meta.url)));

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

/**
 * Phone-call latencies as a caller hears them (the caller simulator, through the whole stack):
 * `calls` sequential calls of the two-phrase fixture (phrase 1 at 500-2933 ms, phrase 2 at
 * 4133-5269 ms) to a handler answering each turn with 3 s of tone, so phrase 2 barges in.
 */
export async function measurePhoneTurns(o: { edgeUrl: string; publicBaseUrl: string; authToken: string; calls: number }): Promise<PhoneTurnResult> {
  const webhook: number[] = [];
  const turn: number[] = [];
  const bargeIn: number[] = [];
  const failures: string[] = [];
  for (let i = 0; i < o.calls; i++) {
    const r = await simulateCall({
      baseUrl: o.edgeUrl,
      publicBaseUrl: o.publicBaseUrl,
      authToken: o.authToken,
      audio: { samples: speech.samples, sampleRate: speech.sampleRate },
      tailMs: 500,
    });
    if (!r.connected) {
      failures.push(`call ${i} did not connect: ${r.goodbye ?? ''}`);
      continue;
    }
    const w = r.webhookMs.at(-1);
    if (w !== undefined) webhook.push(w);
    const first = r.turns[0]?.latencyMs;
    if (first != null) turn.push(first - SILENCE_MS);
    if (r.clears[0] !== undefined) bargeIn.push(r.clears[0] - PHRASE_2_ONSET_MS);
  }
  return { calls: o.calls, webhook: summary(webhook), turnMinusSilence: summary(turn), bargeInToClear: summary(bargeIn), failures };
}
