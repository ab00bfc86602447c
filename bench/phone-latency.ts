import { fileURLToPath } from 'node:url';
import { LOCAL_DEFAULTS, edgeVarsFromEnv } from '../scripts/stack/config.ts';
import { startEdge } from '../scripts/stack/edge.ts';
import { startLocalSqs } from '../scripts/stack/local-sqs.ts';
import { startMediaWorker } from '../scripts/stack/media-worker.ts';
import { measurePhoneTurns } from './phone-turns.ts';

/**
 * `npm run bench:phone [calls=10]`: phone-call latencies through the whole local stack (fauxqs,
 * the edge under wrangler dev, one worker process), as the caller simulator hears them.
 */
const calls = Number(process.argv[2] ?? 10);
const handler = fileURLToPath(new URL('../test/fixtures/handlers/phone-tone.ts', import.meta.url));
const sqs = await startLocalSqs({});
const edge = await startEdge({ vars: edgeVarsFromEnv({}, { SQS_QUEUE_URL: sqs.queueUrl, SQS_ENDPOINT: sqs.endpoint }), quiet: true });
const worker = await startMediaWorker({ quiet: true, env: { PUBLIC_BASE_URL: edge.url, SQS_QUEUE_URL: sqs.queueUrl, SQS_ENDPOINT: sqs.endpoint, SQS_WAIT_S: '1', HANDLER: handler } });
try {
  const r = await measurePhoneTurns({ edgeUrl: edge.url, publicBaseUrl: LOCAL_DEFAULTS['PUBLIC_BASE_URL']!, calls });
  console.table({ 'webhook -> TwiML': r.webhook, 'end of speech -> reply heard, minus 600 ms silence': r.turnMinusSilence, 'speech onset -> clear received': r.bargeInToClear });
  if (r.failures.length) console.error(r.failures.join('\n'));
} finally {
  await worker.stop();
  await edge.stop();
  await sqs.stop();
}
