import { fileURLToPath } from 'node:url';
import { LOCAL_DEFAULTS, edgeVarsFromEnv } from '../scripts/stack/config.ts';
import type { EdgeOptions, LocalEdge } from '../scripts/stack/edge.ts';
import type { LocalSqs } from '../scripts/stack/local-sqs.ts';
import { startMediaWorker, type LocalWorker } from '../scripts/stack/media-worker.ts';
import { freePort } from '../scripts/stack/ports.ts';
import { startFakeTwilioApi } from '../scripts/stack/twilio-api-fake.ts';
import { measureLegsCpu, type LegsCpuRow } from './legs-cpu.ts';
import { JITTER_TARGET_MS, measureLegsLatency, type LegsLatency } from './legs-latency.ts';

/**
 * `legs`: a session's added phone legs mixed by the worker's conference. Its own edge (the same
 * kind as the run's, with the Twilio REST API pointed at the local fake so that legs can be
 * dialled) on the run's queue, and one worker process with a silent handler.
 */
export interface LegsParams {
  /** Parties per call (the primary plus its legs) to measure CPU at. */
  sizes: number[];
  rounds: number;
  warmupMs: number;
  windowMs: number;
  latencyCalls: number;
  bursts: number;
}

export interface LegsResult {
  cpu: LegsCpuRow[];
  latency: LegsLatency;
}

const SILENT = fileURLToPath(new URL('../test/support/legs-silent-handler.ts', import.meta.url));

export async function runLegsSection(sqs: LocalSqs, startEdgeAs: (o: EdgeOptions) => Promise<LocalEdge>, p: LegsParams): Promise<LegsResult> {
  const api = await startFakeTwilioApi();
  let edge: LocalEdge | undefined;
  let worker: LocalWorker | undefined;
  try {
    const port = await freePort();
    const authToken = LOCAL_DEFAULTS['TWILIO_AUTH_TOKEN']!;
    edge = await startEdgeAs({
      port,
      quiet: true,
      vars: edgeVarsFromEnv({}, {
        PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
        SQS_QUEUE_URL: sqs.queueUrl,
        SQS_ENDPOINT: sqs.endpoint,
        TWILIO_API_BASE: api.url,
        TWILIO_FROM: '+15550100000',
        CLAIM_TIMEOUT_MS: '20000',
        MAX_SESSIONS_PER_CLIENT: '10000',
      }),
    });
    worker = await startMediaWorker({ quiet: true, env: { PUBLIC_BASE_URL: edge.url, SQS_QUEUE_URL: sqs.queueUrl, SQS_ENDPOINT: sqs.endpoint, SQS_WAIT_S: '1', HANDLER: SILENT, MAX_SESSIONS: '16' } });
    const target = { edgeUrl: edge.url, apiBase: api.url, authToken, workerPid: worker.pid, warmupMs: p.warmupMs, windowMs: p.windowMs };
    const cpu = await measureLegsCpu(target, p.sizes, p.rounds);
    const latency = await measureLegsLatency(edge.url, api.url, authToken, p.latencyCalls, p.bursts);
    return { cpu, latency };
  } finally {
    await worker?.stop().catch(() => {});
    await edge?.stop().catch(() => {});
    await new Promise((r) => api.server.close(r));
  }
}

export function printLegsSection(r: LegsResult, p: LegsParams): void {
  console.log(`  worker CPU per party, % of one core, median of ${p.rounds} round(s) of ${p.windowMs} ms after ${p.warmupMs} ms warm-up; everyone talking:`);
  console.table(
    Object.fromEntries(
      r.cpu.map((row) => [`${row.parties} parties`, { 'conference (1 caller + legs)': row.conferencePctPerParty, 'as many plain calls': row.plainPctPerParty, 'conference / plain': row.ratio }]),
    ),
  );
  const l = r.latency;
  console.log(`  mouth-to-ear through the conference, ms, over ${l.bursts} bursts each way (jitter-buffer targets: web leg ${JITTER_TARGET_MS.web} ms, phone leg ${JITTER_TARGET_MS.phone} ms):`);
  console.table({
    'web -> phone': { ...l.webToPhone, 'p50 beyond the jitter target': l.beyondJitterTargetP50.webToPhone },
    'phone -> web': { ...l.phoneToWeb, 'p50 beyond the jitter target': l.beyondJitterTargetP50.phoneToWeb },
  });
}
