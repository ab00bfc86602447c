/**
 * The "sessions per machine" row: how many two-way Opus echo sessions (stream-echo handler, as the
 * echo rows) this machine carries with N media worker processes (as `WORKERS=N npm start`: each its
 * own process, health port and UDP socket, all claiming from the one queue), within real time:
 * every worker's send lateness p99 < 10 ms, no packet lost, ~no audio unsent. Sizes run in
 * increasing order; the ladder stops at the first size that fails (twice: a failing size is re-run
 * once, since other tenants share the machine), and the largest passing size is the machine's figure. The same sizes against one worker process give the comparison.
 */
import { availableParallelism } from 'node:os';
import type { LocalEdge } from '../../scripts/stack/edge.ts';
import type { LocalSqs } from '../../scripts/stack/local-sqs.ts';
import type { LocalWorker } from '../../scripts/stack/media-worker.ts';
import { histogramBuckets, histogramQuantile, sampleSum, scrapeMetrics } from '../stack/prom-text.ts';
import { lateTickPct, startBenchWorker, STREAM_ECHO } from './media-cost.ts';
import { frameClockOffset } from '../../scripts/stack/workers.ts';
import { cpuWindow } from './proc-cpu.ts';
import { runLoad } from './run-load.ts';
import { stopLongPollingWorker } from './stop-long-polling-worker.ts';

/** Within real time: each worker's send p99 under this, loss at most this, unsent audio at most this (~0: a glitch or two). */
export const MACHINE_LIMITS = { sendP99Ms: 10, lossPct: 0, gapPct: 0.05 } as const;

export interface MachineCapacityOptions {
  /** Session counts, run in increasing order. */
  sizes: readonly number[];
  /** Worker processes (default os.availableParallelism(): one per core). */
  workers: number;
  warmupMs: number;
  windowMs: number;
  /** Also one worker process at the same sizes, each right after the N-process run of that size. */
  single: boolean;
  /** Peers per load process (~20 keep its clock within a few ms beside a busy server). */
  peersPerProcess?: number;
  /** Re-run a failing size once, and stop only if it fails again: other tenants share the machine (default true). */
  confirmFailures?: boolean;
}

/** One size against `workers` worker processes. */
export interface MachineRun {
  workers: number;
  sessions: number;
  /** Sessions connected in all, and each worker's switchboard_active_sessions at the window start (the queue's spread). */
  connected: number;
  perWorkerSessions: number[];
  /** Each worker's MAX_SESSIONS: ceil(sessions / workers) + slack, so no worker can take them all. */
  maxSessionsPerWorker: number;
  /** Each worker's send lateness p99 over the window (switchboard_send_lateness_seconds, bucket upper bound), ms, and the worst. */
  perWorkerSendP99Ms: number[];
  worstSendP99Ms: number;
  /** The worst worker's % of output ticks > 10 ms late over the sessions' whole life (warm-up included). */
  worstLateTickPct: number;
  lossPct: number;
  mediaGapPct: number;
  /** Client-side lateness p99 (inflated by the load generator's own delays when its clock p99 is above a few ms). */
  clientLateP99Ms: number;
  /** All worker processes' CPU over the window, % of one core; per worker; per connected session. */
  cpuPct: number;
  perWorkerCpuPct: number[];
  cpuPctPerSession: number;
  /** The whole machine's busy CPU over the window (% of one core; up to 100 x cores), the load generator's part of it. */
  machineBusyPct: number;
  loadGenCpuPct: number;
  /** Machine busy minus workers minus load generator: the edge, the queue and other tenants (noise). */
  otherPct: number;
  setupFailures: { reason: string; count: number }[];
  loadGenClockP99Ms: number;
  /** Within MACHINE_LIMITS (and every session connected); otherwise the limits it broke. */
  pass: boolean;
  failed: string[];
  /** This run failed and the size was run again (the next run of the ladder) to confirm. */
  retried?: boolean;
}

export interface MachineLadder {
  workers: number;
  runs: MachineRun[];
  /** The largest passing size below the first failing one (null: the first size failed). */
  sessionsPerMachine: number | null;
  sessionsPerCore: number | null;
  /** The first failing size, or null when every size passed (the capacity is then at least the largest). */
  failedAt: number | null;
}

export interface MachineCapacity {
  cores: number;
  limits: typeof MACHINE_LIMITS;
  /** The N-process ladder first, then the one-process comparison when run. */
  ladders: MachineLadder[];
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const round2 = (x: number) => Math.round(x * 100) / 100;

/** Each worker's MAX_SESSIONS for `sessions` over `workers`: an even share plus 10 % (at least 2) slack. */
export function perWorkerCap(sessions: number, workers: number): number {
  const share = Math.ceil(sessions / workers);
  return share + Math.max(2, Math.ceil(share * 0.1));
}

/** "40,80,120" as positive integers, or a thrown error naming the flag. */
export function parseSizes(flag: string, raw: string): number[] {
  const sizes = raw.split(',').map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`${flag}: positive integers separated by commas, not "${raw}"`);
  return sizes;
}

/** The ladders: at each size, the N-process run then (with `single`) the one-process run; each ladder ends at its first failure. */
export async function runMachineCapacity(edge: LocalEdge, sqs: LocalSqs, o: MachineCapacityOptions): Promise<MachineCapacity> {
  const cores = availableParallelism();
  const counts = o.single && o.workers !== 1 ? [o.workers, 1] : [o.workers];
  const ladders: MachineLadder[] = counts.map((workers) => ({ workers, runs: [], sessionsPerMachine: null, sessionsPerCore: null, failedAt: null }));
  for (const sessions of [...o.sizes].sort((a, b) => a - b)) {
    const going = ladders.filter((l) => l.failedAt === null);
    if (going.length === 0) break;
    for (const ladder of going) {
      let run = await machineRun(edge, sqs, ladder.workers, sessions, o);
      if (!run.pass && (o.confirmFailures ?? true)) {
        report(run, ladder.workers);
        ladder.runs.push({ ...run, retried: true });
        run = await machineRun(edge, sqs, ladder.workers, sessions, o);
      }
      ladder.runs.push(run);
      report(run, ladder.workers);
      if (run.pass) {
        ladder.sessionsPerMachine = sessions;
        ladder.sessionsPerCore = round1(sessions / cores);
      } else ladder.failedAt = sessions;
    }
  }
  return { cores, limits: MACHINE_LIMITS, ladders };
}

function report(run: MachineRun, workers: number): void {
  console.log(
    `  ${run.sessions} sessions on ${workers} worker process(es): ${run.connected} connected (${run.perWorkerSessions.join('/')}), worst send p99 ${run.worstSendP99Ms} ms, loss ${run.lossPct}%, gap ${run.mediaGapPct}%, cpu ${run.cpuPct}% -> ${run.pass ? 'pass' : `fail (${run.failed.join(', ')})`}`,
  );
}

/** Starts `workers` bench workers on the edge's queue, runs the load through the edge, stops them. */
async function machineRun(edge: LocalEdge, sqs: LocalSqs, workers: number, sessions: number, o: MachineCapacityOptions): Promise<MachineRun> {
  const maxSessions = perWorkerCap(sessions, workers);
  const load = { sessions, warmupMs: o.warmupMs, windowMs: o.windowMs, maxSessions };
  // As npm start runs them (scripts/stack/workers.ts): each process's frame clock at its own phase.
  const settled = await Promise.allSettled(
    Array.from({ length: workers }, (_, i) => startBenchWorker(edge, sqs, load, STREAM_ECHO, workers > 1 ? { FRAME_CLOCK_OFFSET_MS: String(frameClockOffset(i, workers)) } : {})),
  );
  const ws = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  try {
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    return await measure(edge, ws, sessions, maxSessions, o);
  } finally {
    // All at once: each drains, and its long poll is ended by an expired job (stop-long-polling-worker.ts).
    await Promise.all(ws.map((w) => stopLongPollingWorker(w, sqs)));
  }
}

/** The load against started workers: every worker's CPU and /metrics at the window's edges. */
async function measure(edge: LocalEdge, ws: LocalWorker[], sessions: number, maxSessions: number, o: MachineCapacityOptions): Promise<MachineRun> {
  const pids = Object.fromEntries(ws.map((w, i) => [`w${i}`, w.pid]));
  let window: ReturnType<typeof cpuWindow> | undefined;
  let cpu: ReturnType<ReturnType<typeof cpuWindow>['stop']> | undefined;
  const scrapes: Promise<string[]>[] = [];
  const scrapeAll = () => {
    const p = Promise.all(ws.map((w) => scrapeMetrics(w.url)));
    p.catch(() => {}); // awaited after the load; not an unhandled rejection meanwhile
    scrapes.push(p);
  };
  const load = await runLoad({
    signaling: { kind: 'whip', url: edge.url },
    sessions,
    processes: Math.max(1, Math.ceil(sessions / (o.peersPerProcess ?? 20))),
    warmupMs: o.warmupMs,
    windowMs: o.windowMs,
    dataChannel: true,
    onWindowStart: () => {
      window = cpuWindow(pids);
      scrapeAll();
    },
    onWindowEnd: () => {
      cpu = window?.stop();
      scrapeAll();
    },
  });
  const [before, after] = await Promise.all(scrapes);
  if (!before || !after || !cpu) throw new Error('machine capacity: no window (CPU or /metrics) was sampled');
  const sendP99 = ws.map((_, i) => {
    const [b, a] = [before[i]!, after[i]!].map((t) => histogramBuckets(t, 'switchboard_send_lateness_seconds'));
    return round1(histogramQuantile(b!, a!, 0.99) * 1000);
  });
  const perWorkerSessions = before.map((t) => sampleSum(t, 'switchboard_active_sessions'));
  // Every worker's sessions end when the load hangs up; its late-tick counters are added then.
  const lateTicks = await Promise.all(ws.map((w) => lateTickPct(w.url)));
  const perWorkerCpuPct = ws.map((_, i) => cpu!.pct[`w${i}`] ?? Number.NaN);
  const cpuPct = round1(perWorkerCpuPct.reduce((a, b) => a + b, 0));
  // NaN (a worker that sent nothing in the window) counts as failing, as does Infinity (past 100 ms).
  const worstSendP99Ms = sendP99.some((x) => Number.isNaN(x)) ? Number.NaN : Math.max(...sendP99);
  const failed: string[] = [];
  if (load.connected < sessions) failed.push(`connected ${load.connected}/${sessions}`);
  if (!(worstSendP99Ms < MACHINE_LIMITS.sendP99Ms)) failed.push(`send p99 ${worstSendP99Ms} ms`);
  if (!(load.lossPct <= MACHINE_LIMITS.lossPct)) failed.push(`loss ${load.lossPct}%`);
  if (!(load.mediaGapPct <= MACHINE_LIMITS.gapPct)) failed.push(`gap ${load.mediaGapPct}%`);
  return {
    workers: ws.length,
    sessions,
    connected: load.connected,
    perWorkerSessions,
    maxSessionsPerWorker: maxSessions,
    perWorkerSendP99Ms: sendP99,
    worstSendP99Ms,
    worstLateTickPct: Math.max(...lateTicks),
    lossPct: load.lossPct,
    mediaGapPct: load.mediaGapPct,
    clientLateP99Ms: load.latenessMs.p99,
    cpuPct,
    perWorkerCpuPct,
    cpuPctPerSession: round2(cpuPct / Math.max(1, load.connected)),
    machineBusyPct: cpu.machineBusyPct,
    loadGenCpuPct: load.loadGen.cpuPct,
    otherPct: round1(cpu.machineBusyPct - cpuPct - load.loadGen.cpuPct),
    setupFailures: load.setupFailures,
    loadGenClockP99Ms: load.loadGen.worstClockP99Ms,
    pass: failed.length === 0,
    failed,
  };
}

/** The row's table (every run of every ladder) and its figures: sessions per machine and per core. */
export function printMachineCapacity(m: MachineCapacity): void {
  const fmt = (x: number) => (x === Infinity ? '>100' : x);
  console.log(`  sessions per machine: echo sessions on ${m.cores} cores within send p99 < ${m.limits.sendP99Ms} ms per worker, loss ${m.limits.lossPct}%, gap <= ${m.limits.gapPct}%:`);
  console.table(
    m.ladders.flatMap((l) =>
      l.runs.map((r) => ({
        workers: r.workers,
        sessions: r.sessions,
        connected: r.connected,
        'per worker': r.perWorkerSessions.join('/'),
        'send p99 per worker': r.perWorkerSendP99Ms.map(fmt).join('/'),
        'worst send p99': fmt(r.worstSendP99Ms),
        'ticks >10ms late %': r.worstLateTickPct,
        'loss %': r.lossPct,
        'gap %': r.mediaGapPct,
        'client late p99': r.clientLateP99Ms,
        'cpu %': r.cpuPct,
        'cpu % per worker': r.perWorkerCpuPct.join('/'),
        'cpu %/session': r.cpuPctPerSession,
        'machine busy %': r.machineBusyPct,
        'loadgen cpu %': r.loadGenCpuPct,
        'other %': r.otherPct,
        'loadgen clock p99': r.loadGenClockP99Ms,
        result: r.pass ? 'pass' : `${r.failed.join(', ')}${r.retried ? ' (re-run)' : ''}`,
      })),
    ),
  );
  for (const l of m.ladders) {
    const largest = l.runs.at(-1)?.sessions;
    const figure = l.sessionsPerMachine === null ? `none (the first size, ${l.failedAt}, failed)` : `${l.sessionsPerMachine}${l.failedAt === null ? ` or more (every size passed, up to ${largest})` : ` (${l.failedAt} failed)`}`;
    console.log(`  sessions per machine (${l.workers} worker process${l.workers === 1 ? '' : 'es'}): ${figure}; sessions per core: ${l.sessionsPerCore ?? 'n/a'}`);
  }
  for (const r of m.ladders.flatMap((l) => l.runs)) for (const f of r.setupFailures) console.log(`  ${r.sessions} sessions on ${r.workers}: ${f.count} setup failure(s): ${f.reason}`);
  console.log('  per worker = switchboard_active_sessions at the window start; cpu = worker processes only (the load generator shares the cores: machine busy %;');
  console.log('  other % = the rest of it: edge, queue, other tenants of the machine).');
  console.log('  send p99 = the upper bound of its histogram bucket (..5, 7.5, 10, 15..): 10 means 7.5-10 ms and fails (< 10 is the limit).');
  console.log('  client late p99 is inflated by the load generator itself when its clock p99 is above a few ms.');
}
