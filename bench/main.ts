/**
 * `npm run bench [-- --quick] [--only media,setup,turns,agent,phone,minute,legs,dispatch,edge] [--out FILE] [--edge bundle|wrangler-dev]`
 *
 * Every benchmark on this machine in one run, printed as tables and written as JSON
 * (bench/results/<time>.json unless --out). --quick: the same table with small N (< 2 minutes).
 *   media     N two-way Opus echo sessions: our worker vs the aiortc baseline, CPU per session;
 *             then the agent path (replyOnPause at 16 kHz: VAD, turns, replies) at 10/20/60 sessions,
 *             the worker's CPU split by stage (transport, decode, resample, vad, encode, ...:
 *             bench/media/agent-path.ts, STAGE_TIMING=on on that worker); then sessions per machine:
 *             echo sessions on --workers N processes (default: one per core) within send p99 < 10 ms and
 *             no loss, at increasing --machine-sizes, vs one process (bench/media/machine-capacity.ts)
 *   setup     WHIP POST -> 201 through the whole stack, sequential and 20 at a time
 *   turns     WebRTC: end of speech -> first reply packet (minus silence), barge-in -> reply stops
 *   agent     cascade STT -> LLM -> TTS in a worker, providers faked at 0 ms and at realistic latencies:
 *             STT speech_final sent -> first reply packet at a WebRTC client, the cascade's hand-offs
 *   phone     per transport (Twilio, Telnyx, Plivo, /v1/stream): webhook, turn latency, barge-in -> clear,
 *             worker and edge CPU per session over N sessions at once
 *   minute    what a phone call-minute costs: N calls at once per provider (a conversation of turns,
 *             through a counting proxy in front of the edge): edge and worker CPU, WebSocket messages
 *             into the edge, worker -> edge bytes per call-minute, and $ per 1,000 call-minutes
 *             (bench/phone-minute.ts; --minute-calls N, --minute-s SECONDS, --minute-providers a,b)
 *   legs      a call's phone legs mixed by the worker: CPU per party at 2, 3, 5 parties vs as many plain
 *             calls; mouth-to-ear web -> phone and phone -> web through the conference
 *   dispatch  jobs across 4 workers: claim latency, double claims
 *   edge      workerd CPU per request (POST /v1/sessions, POST /twilio/voice)
 * The edge runs as deployed (wrangler's bundle under workerd, scripts/stack/edge-bundle.ts);
 * --edge wrangler-dev runs it as `npm start` does, behind wrangler dev's reload proxy.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LOCAL_DEFAULTS, edgeVarsFromEnv } from '../scripts/stack/config.ts';
import { startEdge, type LocalEdge } from '../scripts/stack/edge.ts';
import { startEdgeBundle } from '../scripts/stack/edge-bundle.ts';
import { startLocalSqsProcess, type LocalSqs } from '../scripts/stack/local-sqs.ts';
import { startMediaWorker, type LocalWorker } from '../scripts/stack/media-worker.ts';
import { measureDispatch } from './dispatch.ts';
import { edgeCostSessions, edgeCostVoiceWebhook } from './edge-cost.ts';
import { parseSizes } from './media/machine-capacity.ts';
import { printMediaSection, runMediaSection } from './media/media-section.ts';
import { EDGE_PID, WORKER_PID, measurePhoneRows, phoneRowsTable } from './phone-rows.ts';
import { measureSetup } from './setup-latency.ts';
import { measureWebRtcTurns } from './webrtc-turns.ts';
import { printAgentSection, runAgentSection } from './agent-turns.ts';
import { printLegsSection, runLegsSection } from './legs-section.ts';
import { runMinuteSection } from './phone-minute.ts';
import { printMinuteSection } from './phone-minute-report.ts';
import type { Provider } from '../scripts/phone/providers/types.ts';
import { cpuWindow } from './media/proc-cpu.ts';
import { edgeProcesses } from './stack/edge-processes.ts';

const SECTIONS = ['media', 'setup', 'turns', 'agent', 'phone', 'minute', 'legs', 'dispatch', 'edge'] as const;
type Section = (typeof SECTIONS)[number];

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    out: { type: 'string' },
    /** media: session counts instead of the preset's, e.g. --sizes 20,60 */
    sizes: { type: 'string' },
    /** media: seconds of warm-up before each measured window, and the window's length, instead of the preset's */
    'warmup-s': { type: 'string' },
    'window-s': { type: 'string' },
    /** media: rounds of every size (each: ours, then the baseline), instead of the preset's */
    rounds: { type: 'string' },
    /** media: skip the aiortc baseline (for iterating on our own cost; no ratio is printed) */
    'no-baseline': { type: 'boolean', default: false },
    /** media: only the agent-path row (no echo rows) */
    'agent-only': { type: 'boolean', default: false },
    /** media: only the echo rows (no agent path, no sessions per machine) */
    'echo-only': { type: 'boolean', default: false },
    /** media: agent-path session counts instead of the preset's, e.g. --agent-sizes 20 */
    'agent-sizes': { type: 'string' },
    /** media: echo rows with STAGE_TIMING=on (to measure the stage timing's own cost against a run without) */
    'echo-stage-timing': { type: 'boolean', default: false },
    /** media: sessions-per-machine sizes and worker processes (default: cores); --machine-only runs only that row; --machine-no-single skips its one-process comparison */
    'machine-sizes': { type: 'string' },
    workers: { type: 'string' },
    'machine-only': { type: 'boolean', default: false },
    'machine-no-single': { type: 'boolean', default: false },
    /** setup: sessions per run instead of the preset's */
    'setup-sessions': { type: 'string' },
    /** turns: WebRTC calls instead of the preset's */
    'turn-calls': { type: 'string' },
    /** the edge as deployed ('bundle', default: wrangler's bundle under workerd) or under 'wrangler-dev' (its reload proxy in front) */
    edge: { type: 'string', default: 'bundle' },
    /** minute: calls at once, their length in seconds, and the providers, instead of the preset's */
    'minute-calls': { type: 'string' },
    'minute-s': { type: 'string' },
    'minute-providers': { type: 'string' },
  },
});
const quick = args.quick ?? false;
const only = new Set((args.only ?? SECTIONS.join(',')).split(',').map((s) => s.trim()));
for (const s of only) if (!(SECTIONS as readonly string[]).includes(s)) throw new Error(`--only: unknown section "${s}" (one of ${SECTIONS.join(', ')})`);
const wants = (s: Section) => only.has(s);

const P = quick
  ? { mediaSizes: [10], mediaRounds: 1, machineSizes: [20, 40, 80], agentSizes: [10], warmupMs: 2000, windowMs: 4000, setupSessions: 20, setupConcurrency: 10, turnCalls: 2, agentCalls: 2, agentTurns: 5, phoneCalls: 2, phoneConcurrent: 4, legs: { sizes: [2, 3, 5], rounds: 1, warmupMs: 2000, windowMs: 4000, latencyCalls: 1, bursts: 8 }, dispatchJobs: 100, edgeSessions: 30, edgeWebhooks: 60 }
  : { mediaSizes: [10, 20, 40, 60, 80], mediaRounds: 2, machineSizes: [20, 40, 60, 80, 120, 160, 200, 240], agentSizes: [10, 20, 60], warmupMs: 3000, windowMs: 10_000, setupSessions: 200, setupConcurrency: 20, turnCalls: 10, agentCalls: 4, agentTurns: 10, phoneCalls: 6, phoneConcurrent: 10, legs: { sizes: [2, 3, 5], rounds: 3, warmupMs: 3000, windowMs: 10_000, latencyCalls: 3, bursts: 10 }, dispatchJobs: 1000, edgeSessions: 100, edgeWebhooks: 300 };

if (args.sizes) {
  const sizes = args.sizes.split(',').map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--sizes: positive integers separated by commas, not "${args.sizes}"`);
  P.mediaSizes = sizes;
}
for (const [flag, key] of [['warmup-s', 'warmupMs'], ['window-s', 'windowMs']] as const) {
  const v = args[flag];
  if (v === undefined) continue;
  const s = Number(v);
  if (!(s > 0) || !Number.isFinite(s)) throw new Error(`--${flag}: a positive number of seconds, not "${v}"`);
  P[key] = s * 1000;
}
if (args['agent-sizes']) {
  const sizes = args['agent-sizes'].split(',').map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--agent-sizes: positive integers separated by commas, not "${args['agent-sizes']}"`);
  P.agentSizes = sizes;
}
if (args['machine-sizes']) P.machineSizes = parseSizes('--machine-sizes', args['machine-sizes']);
const machineWorkers = Number(args.workers ?? availableParallelism());
if (!Number.isInteger(machineWorkers) || machineWorkers < 1) throw new Error(`--workers: a positive integer, not "${args.workers}"`);
if (args.rounds) {
  const n = Number(args.rounds);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--rounds: a positive integer, not "${args.rounds}"`);
  P.mediaRounds = n;
}
if (args['setup-sessions']) {
  const n = Number(args['setup-sessions']);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--setup-sessions: a positive integer, not "${args['setup-sessions']}"`);
  P.setupSessions = n;
}
if (args['turn-calls']) {
  const n = Number(args['turn-calls']);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--turn-calls: a positive integer, not "${args['turn-calls']}"`);
  P.turnCalls = n;
}
const minute = {
  providers: (args['minute-providers'] ?? (quick ? 'twilio' : 'twilio,telnyx,plivo')).split(',').map((x) => x.trim()) as Provider[],
  calls: Number(args['minute-calls'] ?? (quick ? 5 : 10)),
  durationMs: Number(args['minute-s'] ?? (quick ? 60 : 120)) * 1000,
  staggerMs: 300,
  idleMs: quick ? 3000 : 5000,
};
for (const x of minute.providers) if (!['twilio', 'telnyx', 'plivo'].includes(x)) throw new Error(`--minute-providers: twilio, telnyx, plivo, not "${x}"`);
if (!Number.isInteger(minute.calls) || minute.calls < 1) throw new Error(`--minute-calls: a positive integer, not "${args['minute-calls']}"`);
if (!(minute.durationMs >= 20_000)) throw new Error(`--minute-s: at least 20, not "${args['minute-s']}"`);
const withBaseline = !args['no-baseline'];
if (args.edge !== 'bundle' && args.edge !== 'wrangler-dev') throw new Error(`--edge: bundle or wrangler-dev, not "${args.edge}"`);
const startEdgeAs = args.edge === 'bundle' ? startEdgeBundle : startEdge;

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
      agentOnly: args['agent-only'] ?? false,
      echoStageTiming: args['echo-stage-timing'] ?? false,
      machine: { sizes: P.machineSizes, workers: machineWorkers, single: !args['machine-no-single'] },
      machineOnly: args['machine-only'] ?? false,
      echoOnly: args['echo-only'] ?? false,
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
const out = args.out ?? fileURLToPath(new URL(`./results/${String(results['startedAt']).replace(/[:.]/g, '-')}.json`, import.meta.url));
mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nresults: ${out}`);
process.exit(0);
