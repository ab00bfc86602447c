import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readWav } from '../media-worker/src/audio/pcm.ts';
import { simulateCall } from '../scripts/phone/caller.ts';
import { LOCAL_DEFAULTS, edgeVarsFromEnv } from '../scripts/stack/config.ts';
import { startEdge } from '../scripts/stack/edge.ts';
import { startLocalSqs } from '../scripts/stack/local-sqs.ts';
import { startMediaWorker } from '../scripts/stack/media-worker.ts';

/**
 * Phone-call latencies through the whole local stack (fauxqs, the edge under wrangler dev, one
 * worker process), measured by the caller simulator as a caller hears them: K sequential calls of
 * the two-phrase fixture (phrase 1 at 500-2933 ms, phrase 2 at 4133-5269 ms) to a handler that
 * answers each turn with 3 s of tone, so phrase 2 barges in on the first reply.
 *   webhook: voice webhook POST -> TwiML (the worker has claimed by then)
 *   turn: end of the caller's speech (energy) -> first reply audio heard, minus the 600 ms of
 *         silence the turn detector waits for (the platform's own cost, VAD hang-over included)
 *   bargeIn: onset of phrase 2 -> Twilio `clear` received
 * Usage: node bench/phone-latency.ts [calls=10]
 */
const calls = Number(process.argv[2] ?? 10);
const SILENCE_MS = 600;
const PHRASE_2_ONSET_MS = 4133;
const speech = readWav(readFileSync(new URL('../test/fixtures/audio/hello-pause-question.wav', import.meta.url)));
const handler = fileURLToPath(new URL('../test/fixtures/handlers/phone-tone.ts', import.meta.url));

const sqs = await startLocalSqs({});
const edge = await startEdge({ vars: edgeVarsFromEnv({}, { SQS_QUEUE_URL: sqs.queueUrl, SQS_ENDPOINT: sqs.endpoint }), quiet: true });
const worker = await startMediaWorker({ quiet: true, env: { PUBLIC_BASE_URL: edge.url, SQS_QUEUE_URL: sqs.queueUrl, SQS_ENDPOINT: sqs.endpoint, SQS_WAIT_S: '1', HANDLER: handler } });
const webhook: number[] = [];
const turn: number[] = [];
const bargeIn: number[] = [];
try {
  for (let i = 0; i < calls; i++) {
    const r = await simulateCall({
      baseUrl: edge.url,
      publicBaseUrl: LOCAL_DEFAULTS['PUBLIC_BASE_URL'],
      authToken: LOCAL_DEFAULTS['TWILIO_AUTH_TOKEN']!,
      audio: { samples: speech.samples, sampleRate: speech.sampleRate },
      tailMs: 500,
    });
    if (!r.connected) throw new Error(`call ${i} did not connect: ${r.goodbye ?? ''}`);
    webhook.push(r.webhookMs.at(-1)!);
    const first = r.turns[0]?.latencyMs;
    if (first != null) turn.push(first - SILENCE_MS);
    if (r.clears[0] !== undefined) bargeIn.push(r.clears[0] - PHRASE_2_ONSET_MS);
  }
} finally {
  await worker.stop();
  await edge.stop();
  await sqs.stop();
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
};
const row = (name: string, xs: number[]) => ({ metric: name, n: xs.length, medianMs: Math.round(median(xs)), minMs: Math.round(Math.min(...xs)), maxMs: Math.round(Math.max(...xs)) });
console.table([row('webhook -> TwiML', webhook), row('end of speech -> reply heard, minus 600 ms silence', turn), row('speech onset -> clear received', bargeIn)]);
