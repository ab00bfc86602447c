import { startEdge } from './stack/edge.ts';
import { edgeVarsFromEnv } from './stack/config.ts';
import { startLocalSqs, type LocalSqs } from './stack/local-sqs.ts';
import { startMediaWorker } from './stack/media-worker.ts';

/**
 * `npm start`: the whole stack on this machine. A local SQS-compatible queue (fauxqs, unless
 * SQS_QUEUE_URL points elsewhere), the edge under wrangler dev on 127.0.0.1:8787, and one media
 * worker running HANDLER (the echo demo by default).
 */
const edgePort = Number(process.env['EDGE_PORT'] ?? 8787);
let sqs: LocalSqs | null = null;
const overrides: Record<string, string> = {};
if (!process.env['SQS_QUEUE_URL']) {
  sqs = await startLocalSqs({ port: Number(process.env['LOCAL_SQS_PORT'] ?? 4566) });
  overrides['SQS_QUEUE_URL'] = sqs.queueUrl;
  overrides['SQS_ENDPOINT'] = sqs.endpoint;
}
if (!process.env['PUBLIC_BASE_URL']) overrides['PUBLIC_BASE_URL'] = `http://127.0.0.1:${edgePort}`;
const vars = edgeVarsFromEnv(process.env, overrides);
const edge = await startEdge({ port: edgePort, vars, quiet: false });
const worker = await startMediaWorker({
  env: { ...vars, ...pick(process.env), WORKER_HTTP_PORT: process.env['WORKER_HTTP_PORT'] ?? '9090' },
});

console.log(`
Switchboard is running. Open ${edge.url}/ and press Call.
  edge (wrangler dev)   ${edge.url}        (up in ${edge.startupMs} ms)
  media worker          ${worker.url}/healthz   handler: ${process.env['HANDLER'] ?? 'echo'}
  job queue (fauxqs)    ${vars['SQS_QUEUE_URL']}
  WHIP endpoint         POST ${edge.url}/v1/sessions
  Twilio voice webhook  POST ${edge.url}/twilio/voice
Call it as a phone would: npm run phone -- <speech.wav>
Press Ctrl-C to stop.`);

/** Worker settings from the environment (ARCHITECTURE.md's worker variables). */
function pick(env: NodeJS.ProcessEnv): Record<string, string> {
  const keys = ['HANDLER', 'MAX_SESSIONS', 'TIME_LIMIT_MS', 'DRAIN_TIMEOUT_MS', 'RTC_PORT_MIN', 'RTC_PORT_MAX', 'PUBLIC_IP', 'ICE_POLICY', 'RTC_INTERFACE'];
  return Object.fromEntries(keys.filter((k) => env[k]).map((k) => [k, env[k]!]));
}

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await worker.stop();
  await edge.stop();
  await sqs?.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
