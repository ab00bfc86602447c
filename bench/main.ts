/**
 * `npm run bench`: every benchmark on this machine in one run (bench/options.ts: USAGE, or
 * `npm run bench -- --help`, says what each section measures and which flags it takes).
 * The edge runs as deployed (wrangler's bundle under workerd, scripts/stack/edge-bundle.ts);
 * --edge wrangler-dev runs it as `npm start` does, behind wrangler dev's reload proxy.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { LOCAL_DEFAULTS, edgeVarsFromEnv } from '../scripts/stack/config.ts';
import { startEdge, type LocalEdge } from '../scripts/stack/edge.ts';
import { startEdgeBundle } from '../scripts/stack/edge-bundle.ts';
import { startLocalSqsProcess, type LocalSqs } from '../scripts/stack/local-sqs.ts';
import { startMediaWorker, type LocalWorker } from '../scripts/stack/media-worker.ts';
import { measureDispatch } from './dispatch.ts';
import { edgeCostSessions, edgeCostVoiceWebhook } from './edge-cost.ts';
import { printMediaSection, runMediaSection } from './media/media-section.ts';
import { EDGE_PID, WORKER_PID, measurePhoneRows, phoneRowsTable } from './phone-rows.ts';
import { measureSetup } from './setup-latency.ts';
import { measureWebRtcTurns } from './webrtc-turns.ts';
import { printAgentSection, runAgentSection } from './agent-turns.ts';
import { printLegsSection, runLegsSection } from './legs-section.ts';
import { runMinuteSection } from './phone-minute.ts';
import { printMinuteSection } from './phone-minute-report.ts';
import { cpuWindow } from './media/proc-cpu.ts';
import { edgeProcesses } from './stack/edge-processes.ts';
import { parseBenchOptions, USAGE, UsageError, type BenchOptions, type Section } from './options.ts';

let options: BenchOptions;
try {
  options = parseBenchOptions(process.argv.slice(2), availableParallelism());
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  console.error(`bench: ${err.message}\n\n${USAGE}`);
  process.exit(2);
}
if (options.help) {
  console.log(USAGE);
  process.exit(0);
}
const { quick, P, minute, machineWorkers, withBaseline } = options;
const wants = (s: Section) => options.only.has(s);
const startEdgeAs = options.edge === 'bundle' ? startEdgeBundle : startEdge;

const handlerPath = (name: string) => fileURLToPath(new URL(`../test/fixtures/handlers/${name}.ts`, import.meta.url));
const results: Record<string, unknown> = { startedAt: new Date().toISOString(), quick, params: { ...P, minute } };

let sqs: LocalSqs | undefined;
let edge: LocalEdge | undefined;
const workers: LocalWorker[] = [];

async function withWorkers<T>(count: number, env: Record<string, string>, fn: (ws: LocalWorker[]) => Promise<T>): Promise<T> {
  const started: LocalWorker[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const w = await startMediaWorker({
        quiet: true,
        env: { PUBLIC_BASE_URL: edge!.url, SQS_QUEUE_URL: sqs!.queueUrl, SQS_ENDPOINT: sqs!.endpoint, SQS_WAIT_S: '1', ...env },
      });
      started.push(w);
      workers.push(w);
    }
    return await fn(started);
  } finally {
    for (const w of started) {
      await w.stop().catch(() => {});
      workers.splice(workers.indexOf(w), 1);
    }
  }
}

let sectionStart = performance.now();
const elapsed: Record<string, number> = {};
let current = 'stack start';
const section = (name: string) => {
  elapsed[current] = Math.round(performance.now() - sectionStart);
  current = name.split(':')[0] ?? name;
  sectionStart = performance.now();
  console.log(`\n== ${name} ${'='.repeat(Math.max(0, 70 - name.length))}`);
};

try {
  // The queue in a process of its own, as in a deployment: the bench's client peers do not slow it.
  sqs = await startLocalSqsProcess({ wrap: [] });
  // Every load peer calls from this machine, one client address: the per-client session limit
  // (MAX_SESSIONS_PER_CLIENT, 5 by default) would refuse all but five.
  edge = await startEdgeAs({
    vars: edgeVarsFromEnv({}, { SQS_QUEUE_URL: sqs.queueUrl, SQS_ENDPOINT: sqs.endpoint, CLAIM_TIMEOUT_MS: '20000', MAX_SESSIONS_PER_CLIENT: '10000' }),
    quiet: true,
  });

  if (wants('media')) {
    section('media: two-way Opus echo, worker CPU per session vs aiortc; the agent path by stage');
    const r = await runMediaSection(edge, sqs, {
      sizes: P.mediaSizes,
      warmupMs: P.warmupMs,
      windowMs: P.windowMs,
      rounds: P.mediaRounds,
      withBaseline,
      agentSizes: P.agentSizes,
      agentOnly: options.agentOnly,
      echoStageTiming: options.echoStageTiming,
      machine: { sizes: P.machineSizes, workers: machineWorkers, single: !options.machineNoSingle },
      machineOnly: options.machineOnly,
      echoOnly: options.echoOnly,
    });
    printMediaSection(r);
    const slim = <T extends { load: { loadGen: unknown; setupFailures: unknown } }>({ load, ...run }: T) => ({ ...run, loadGen: load.loadGen, setupFailures: load.setupFailures });
    results['media'] = { runs: r.runs.map(slim), ratios: r.ratios, agent: r.agent.map(slim), machine: r.machine };
  }

  if (wants('setup')) {
    section('setup: WHIP POST -> 201 (edge, Durable Object, queue, claim, werift answer)');
    const r = await withWorkers(1, { MAX_SESSIONS: '50' }, async ([w]) => {
      const e = edgeProcesses(edge!.port);
      const pids: Record<string, number> = { 'media worker': w!.pid, 'edge (workerd)': e.runtime };
      if (e.proxy !== undefined) pids['wrangler dev proxy (workerd)'] = e.proxy;
      pids[e.proxy !== undefined ? 'wrangler (node)' : 'miniflare (node)'] = e.wrangler;
      pids['bench clients'] = process.pid;
      if (sqs!.pid !== undefined) pids['queue (fauxqs)'] = sqs!.pid;
      const run = async (concurrency: number) => {
        let window: ReturnType<typeof cpuWindow> | undefined;
        let cpu: ReturnType<NonNullable<typeof window>['stop']> | undefined;
        const res = await measureSetup(edge!.url, P.setupSessions, concurrency, { onClockStart: () => (window = cpuWindow(pids)), onClockStop: () => (cpu = window!.stop()) });
        const { cpuMs } = cpu!;
        const cpuMsPerSession = Object.fromEntries(Object.entries(cpuMs).map(([k, ms]) => [k, Math.round((ms / P.setupSessions) * 100) / 100]));
        return { ...res, cpuMsPerSession };
      };
      const out = { sequential: await run(1), concurrent: await run(P.setupConcurrency) };
      // A failed setup is worth its worker's side of the story (the bench runs workers quiet).
      if (out.sequential.failures.length + out.concurrent.failures.length > 0) console.log(`  worker output (last 3000 chars):\n${w!.output().slice(-3000)}`);
      return out;
    });
    console.table({ sequential: { ...r.sequential.whip, failures: r.sequential.failures.length }, [`${P.setupConcurrency} at a time`]: { ...r.concurrent.whip, failures: r.concurrent.failures.length } });
    const p50s = (x: typeof r.sequential) => ({ 'POST -> queued': x.phases.toQueued.p50, 'queued -> claimed': x.phases.queuedToClaimed.p50, 'claimed -> 201': x.phases.claimedTo201.p50 });
    console.log('  where the time went (p50, ms):');
    console.table({ sequential: p50s(r.sequential), [`${P.setupConcurrency} at a time`]: p50s(r.concurrent) });
    console.log('  CPU per session (ms; the offering client peers included in "bench clients"):');
    console.table({ sequential: r.sequential.cpuMsPerSession, [`${P.setupConcurrency} at a time`]: r.concurrent.cpuMsPerSession });
    results['setup'] = { sequential: { ...r.sequential, statuses: undefined }, concurrent: { ...r.concurrent, statuses: undefined } };
  }

  if (wants('turns')) {
    section('turns (WebRTC): platform turn latency and barge-in');
    const r = await withWorkers(1, { HANDLER: handlerPath('phone-tone') }, () => measureWebRtcTurns(edge!.url, P.turnCalls, 600));
    console.table({ 'end of speech -> first reply packet leaves the worker, minus 600 ms silence': r.toLeavingWorkerMinusSilence, 'end of speech -> first reply packet arrives, minus 600 ms silence': r.turnMinusSilence, 'VAD decision -> first packet sent (worker)': r.decisionToFirstPacket, 'speech onset -> reply stops arriving': r.bargeIn });
    results['turns'] = r;
  }

  if (wants('agent')) {
    section('agent: cascade STT -> LLM -> TTS through a worker, providers faked');
    const r = await runAgentSection(edge!.url, { calls: P.agentCalls, turnsPerCall: P.agentTurns }, (env, fn) => withWorkers(1, env, fn));
    printAgentSection(r);
    results['agent'] = r;
  }

  if (wants('phone')) {
    section('phone: Twilio, Telnyx, Plivo media streams and /v1/stream clients');
    const rows = await withWorkers(1, { HANDLER: handlerPath('phone-tone') }, ([w]) => {
      const e = edgeProcesses(edge!.port);
      const pids: Record<string, number> = { [WORKER_PID]: w!.pid, [EDGE_PID]: e.runtime, [e.proxy !== undefined ? 'wrangler dev proxy + wrangler' : 'miniflare (node)']: e.wrangler, 'bench clients': process.pid };
      return measurePhoneRows(
        { edgeUrl: edge!.url, publicBaseUrl: LOCAL_DEFAULTS['PUBLIC_BASE_URL']!, calls: P.phoneCalls, concurrent: P.phoneConcurrent, staggerMs: 100, tailMs: 1700, pids },
        (r) => console.log(`  ${r.transport}: ${r.concurrent.sessions} at once in ${r.concurrent.wallMs} ms (each ${r.concurrent.sessionMs.p50}-${r.concurrent.sessionMs.max} ms), other load ${r.concurrent.otherPct}% of a core`),
      );
    });
    console.log(`  ms; latencies over ${P.phoneCalls} sessions one at a time: turn = end of speech -> first reply heard, minus 600 ms silence;`);
    console.log(`  barge-in = onset of phrase 2 -> clear received. CPU = process CPU over ${P.phoneConcurrent} sessions of ~8 s at once, / ${P.phoneConcurrent}.`);
    console.table(phoneRowsTable(rows));
    for (const r of rows) for (const f of [...r.sequential.failures, ...r.concurrent.turns.failures.map((x) => `at once, ${x}`)]) console.log(`  ${r.transport}: ${f}`);
    results['phone'] = rows;
  }

  if (wants('minute')) {
    section('minute: what a phone call-minute costs (edge, worker, messages, bytes, $)');
    const r = await runMinuteSection(
      { edgeUrl: edge!.url, publicBaseUrl: LOCAL_DEFAULTS['PUBLIC_BASE_URL']!, edgePid: edgeProcesses(edge!.port).runtime, handlerPath: handlerPath('phone-tone'), withWorker: (env, fn) => withWorkers(1, env, ([w]) => fn(w!.pid)) },
      minute,
    );
    printMinuteSection(r);
    results['minute'] = r;
  }

  if (wants('legs')) {
    section('legs: phone legs mixed in one call (conference), CPU per party and mouth-to-ear');
    const r = await runLegsSection(sqs, startEdgeAs, P.legs);
    printLegsSection(r, P.legs);
    results['legs'] = r;
  }

  if (wants('dispatch')) {
    section(`dispatch: ${P.dispatchJobs} jobs across 4 workers`);
    const r = await withWorkers(4, { MAX_SESSIONS: '30' }, (ws) => measureDispatch(edge!.url, ws.map((w) => w.url), P.dispatchJobs, 20));
    console.table({ 'queued -> claimed (ms)': r.claim });
    console.log(`  per worker ${JSON.stringify(r.perWorker)}; double claims ${r.doubleClaims}; duplicate deliveries refused ${r.refusedDuplicates}; failures ${r.failures.length}`);
    results['dispatch'] = r;
  }

  if (wants('edge')) {
    section('edge: workerd CPU per request (the Worker\'s runtime; wrangler dev\'s proxy apart)');
    const [sessions, voice] = await withWorkers(1, { MAX_SESSIONS: '30' }, async () => [
      await edgeCostSessions(edge!.url, edge!.port, P.edgeSessions),
      await edgeCostVoiceWebhook(edge!.url, LOCAL_DEFAULTS['PUBLIC_BASE_URL']!, LOCAL_DEFAULTS['TWILIO_AUTH_TOKEN']!, edge!.port, P.edgeWebhooks),
    ]);
    console.table([sessions, voice]);
    results['edge'] = [sessions, voice];
  }
  section('done');
} finally {
  for (const w of workers) await w.stop().catch(() => {});
  await edge?.stop().catch(() => {});
  await sqs?.stop().catch(() => {});
}

results['elapsedMs'] = elapsed;
console.log(`time per section (ms): ${JSON.stringify(elapsed)}`);
const out = options.out ?? fileURLToPath(new URL(`./results/${String(results['startedAt']).replace(/[:.]/g, '-')}.json`, import.meta.url));
mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nresults: ${out}`);
process.exit(0);
