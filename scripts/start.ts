import { startEdge, type LocalEdge } from './stack/edge.ts';
import { edgeVarsFromEnv, localRecordingVars } from './stack/config.ts';
import { startLocalProviderApis, type LocalProviderApis } from './stack/local-provider-apis.ts';
import { startLocalSqs, type LocalSqs } from './stack/local-sqs.ts';
import { startWorkers, workerPlan, type WorkerPlan } from './stack/workers.ts';

/**
 * `npm start`: the whole stack on this machine. A local SQS-compatible queue (fauxqs, unless
 * SQS_QUEUE_URL points elsewhere), the edge under wrangler dev on 127.0.0.1:8787, and WORKERS
 * media workers (default 1, health on 9090, 9091, ...) running HANDLER (the echo demo by default).
 */
let plan: WorkerPlan;
try {
  plan = workerPlan(process.env);
} catch (err) {
  console.error(`npm start: ${(err as Error).message}`);
  process.exit(1);
}
const edgePort = Number(process.env['EDGE_PORT'] ?? 8787);
const { sqs, providerApis, edge, vars } = await startServices().catch((err: unknown) => {
  console.error(`npm start: ${startupError(err)}`);
  process.exit(1);
});
const recording = localRecordingVars(process.env);
const workers = await startWorkers(plan, { ...vars, ...recording.vars, ...pick(process.env) }).catch(async (err: unknown) => {
  console.error(`npm start: ${startupError(err)}`);
  await edge.stop();
  await sqs?.stop();
  await providerApis.stop();
  process.exit(1);
});
const workerLines = workers.workers.map(
  (w, i) =>
    `  media worker ${String(i + 1).padEnd(9)}${w.url}/healthz${plan.rtcRanges ? `   RTC ports ${plan.rtcRanges[i]?.join('-')}` : plan.udpPorts?.[i] ? `   RTC UDP port ${plan.udpPorts[i]}` : ''}`,
);

console.log(`
Switchboard is running. Open ${edge.url}/ and press Call.
  edge (wrangler dev)   ${edge.url}        (up in ${edge.startupMs} ms)
${workerLines.join('\n')}
  handler               ${process.env['HANDLER'] ?? 'echo'}   (WORKERS=${plan.count})
  job queue (fauxqs)    ${vars['SQS_QUEUE_URL']}
  recordings            ${recording.where}   (sessions created with ?record=true${process.env['RECORD_ALL'] === 'true' ? '; RECORD_ALL=true: every session' : ''})
  WHIP endpoint         POST ${edge.url}/v1/sessions
  WebSocket audio       GET  ${edge.url.replace(/^http/, 'ws')}/v1/stream
  voice webhooks        POST ${edge.url}/twilio/voice, /telnyx/voice, /plivo/voice
${providerApis.started.length ? `  provider APIs (fake)  ${providerApis.started.join(', ')}\n` : ''}Call it as a phone would: npm run phone -- <speech.wav> [--provider twilio|telnyx|plivo]
Answer a call it dials (demo page "Add to this call"): npm run phone -- <speech.wav> --answer [--provider P]
Press Ctrl-C to stop.`);

/**
 * The queue (fauxqs, unless SQS_QUEUE_URL points elsewhere), the provider API fakes and the edge;
 * if one fails, those already started are stopped before the error goes on.
 */
async function startServices(): Promise<{ sqs: LocalSqs | null; providerApis: LocalProviderApis; edge: LocalEdge; vars: Record<string, string> }> {
  let sqs: LocalSqs | null = null;
  let providerApis: LocalProviderApis | null = null;
  try {
    const overrides: Record<string, string> = {};
    if (!process.env['SQS_QUEUE_URL']) {
      sqs = await startLocalSqs({ port: Number(process.env['LOCAL_SQS_PORT'] ?? 4566) });
      overrides['SQS_QUEUE_URL'] = sqs.queueUrl;
      overrides['SQS_ENDPOINT'] = sqs.endpoint;
    }
    if (!process.env['PUBLIC_BASE_URL']) overrides['PUBLIC_BASE_URL'] = `http://127.0.0.1:${edgePort}`;
    // Providers with no account configured get their local fakes: calls dialled from the demo page go there.
    providerApis = await startLocalProviderApis(process.env);
    Object.assign(overrides, providerApis.vars);
    const vars = edgeVarsFromEnv(process.env, overrides);
    const edge = await startEdge({ port: edgePort, vars, quiet: false });
    return { sqs, providerApis, edge, vars };
  } catch (err) {
    await providerApis?.stop();
    await sqs?.stop();
    throw err;
  }
}

/** A listen on a taken port as one line saying which and how to move the stack; other errors as they are. */
function startupError(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { port?: number };
  if (e?.code === 'EADDRINUSE') {
    return `port ${e.port ?? '?'} on 127.0.0.1 is in use (another \`npm start\`?): stop what holds it, or move this stack's queue (LOCAL_SQS_PORT, default 4566) or edge (EDGE_PORT, default 8787); the provider API fakes take 8791-8793`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** Worker settings from the environment (the README's worker variables). */
function pick(env: NodeJS.ProcessEnv): Record<string, string> {
  const keys = ['HANDLER', 'MAX_SESSIONS', 'TIME_LIMIT_MS', 'DRAIN_TIMEOUT_MS', 'PUBLIC_IP', 'ICE_POLICY', 'RTC_INTERFACE', 'WORKER_ID'];
  return Object.fromEntries(keys.filter((k) => env[k]).map((k) => [k, env[k]!]));
}

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await workers.stop();
  await edge.stop();
  await sqs?.stop();
  await providerApis.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
