import { startEdge } from './stack/edge.ts';
import { edgeVarsFromEnv } from './stack/config.ts';
import { startLocalSqs, type LocalSqs } from './stack/local-sqs.ts';

/**
 * `npm start`: the whole stack on this machine. A local SQS-compatible queue (fauxqs, unless
 * SQS_QUEUE_URL points elsewhere) and the edge under wrangler dev on 127.0.0.1:8787.
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

console.log(`
Switchboard is running.
  edge (wrangler dev)   ${edge.url}        health: ${edge.url}/healthz   (up in ${edge.startupMs} ms)
  job queue (fauxqs)    ${vars['SQS_QUEUE_URL']}
  WHIP endpoint         POST ${edge.url}/v1/sessions
  Twilio voice webhook  POST ${edge.url}/twilio/voice
Press Ctrl-C to stop.`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await edge.stop();
  await sqs?.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
