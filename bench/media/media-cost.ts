import { fileURLToPath } from 'node:url';
import type { LocalEdge } from '../../scripts/stack/edge.ts';
import type { LocalSqs } from '../../scripts/stack/local-sqs.ts';
import { startMediaWorker } from '../../scripts/stack/media-worker.ts';
import { startAiortcEcho } from '../baseline/aiortc-echo.ts';
import { histogramBuckets, histogramQuantile, sampleSum, scrapeMetrics } from '../stack/prom-text.ts';
import { cpuWindow } from './proc-cpu.ts';
import { runLoad, type LoadResult } from './run-load.ts';
import { stageSplit, type Stage } from './stage-split.ts';
import { stopLongPollingWorker } from './stop-long-polling-worker.ts';
import type { SignalingConfig } from './signaling.ts';

export const STREAM_ECHO = fileURLToPath(new URL('../../test/fixtures/handlers/stream-echo.ts', import.meta.url));
const SEND_LATENESS = 'switchboard_send_lateness_seconds';
const STREAM_ECHO_16K = fileURLToPath(new URL('../../test/fixtures/handlers/stream-echo-16k.ts', import.meta.url));

/** One server under one load: its CPU and memory over the window, and what the clients saw. */
export interface MediaRun {
  /**
   * switchboard@16k: the same echo with the handler at 16 kHz (Opus decoded and encoded at 16 kHz);
   * switchboard agent@16k: the agent path (agent-path.ts).
   */
  server: 'switchboard' | 'switchboard@16k' | 'switchboard agent@16k' | 'aiortc';
  sessions: number;
  connected: number;
  /** Server CPU over the window, % of one core (all its threads). */
  cpuPct: number;
  cpuPctPerSession: number;
  /** The kernel's share of that CPU (system time), % of one core. */
  systemPct: number;
  rssMiB: number;
  latenessMs: { p50: number; p99: number; max: number };
  /** Packets lost on the wire (sequence gaps) and audio the server never sent (timeline gaps), %. */
  lossPct: number;
  mediaGapPct: number;
  /**
   * The worker's own view (switchboard only): % of its output clock ticks that ran more than 10 ms
   * late, over every session's whole life (warm-up included), from its /metrics once all ended.
   */
  workerLateTickPct?: number;
  /**
   * The worker's own send lateness over the window (switchboard only), from its
   * switchboard_send_lateness_seconds histogram: when each reply packet went out after its 20 ms
   * tick was due, ms, as the upper bound of its bucket. The client's `latenessMs` adds the load
   * generator's own delays in reading the packet (it shares the 2 cores).
   */
  workerSendLatenessMs?: { p50: number; p99: number };
  /** The load generator's own clock lateness p99: above a few ms the client-side figures are inflated. */
  loadGenClockP99Ms: number;
  load: LoadResult;
  /** With STAGE_TIMING=on (switchboard only): each stage's share of the worker's CPU over the window, % (stage-split.ts). */
  stageSharePct?: Record<Stage, number>;
}

export interface MediaRunOptions {
  sessions: number;
  warmupMs: number;
  windowMs: number;
  /** Peers per load process (~20 keep a process's clock within a few ms while the server is busy beside it). */
  peersPerProcess?: number;
  /** Run the worker with STAGE_TIMING=on (telemetry/stage-cpu.ts), to measure that timing's own cost. */
  stageTiming?: boolean;
  /** The worker's MAX_SESSIONS (default sessions + 10); machine-capacity.ts caps each of several workers. */
  maxSessions?: number;
}

/** A run and the worker's /metrics text at the window's start and end (when a worker URL was given). */
export interface DrivenRun {
  run: MediaRun;
  metrics?: { before: string; after: string };
}

/** Runs the load against a started server; exported for agent-path.ts. */
export async function drive(
  server: MediaRun['server'],
  pid: number,
  signaling: SignalingConfig,
  o: MediaRunOptions,
  dataChannel: boolean,
  workerUrl?: string,
): Promise<DrivenRun> {
  let window: ReturnType<typeof cpuWindow> | undefined;
  let cpu: ReturnType<ReturnType<typeof cpuWindow>['stop']> | undefined;
  // The worker's /metrics at the window's edges (the scrape is a few ms of its CPU).
  const scrapes: Promise<string>[] = [];
  const scrape = () => {
    if (workerUrl) scrapes.push(scrapeMetrics(workerUrl));
  };
  const load = await runLoad({
    signaling,
    sessions: o.sessions,
    processes: Math.max(1, Math.ceil(o.sessions / (o.peersPerProcess ?? 20))),
    warmupMs: o.warmupMs,
    windowMs: o.windowMs,
    dataChannel,
    onWindowStart: () => {
      window = cpuWindow({ server: pid });
      scrape();
    },
    onWindowEnd: () => {
      cpu = window?.stop();
      scrape();
    },
  });
  const [textBefore, textAfter] = await Promise.all(scrapes);
  const [before, after] = [textBefore, textAfter].map((t) => (t === undefined ? undefined : histogramBuckets(t, SEND_LATENESS)));
  const sendMs = (q: number) => Math.round(histogramQuantile(before!, after!, q) * 1e4) / 10;
  const cpuPct = cpu?.pct['server'] ?? Number.NaN;
  const run: MediaRun = {
    server,
    sessions: o.sessions,
    connected: load.connected,
    cpuPct: Math.round(cpuPct * 10) / 10,
    cpuPctPerSession: Math.round((cpuPct / Math.max(1, load.connected)) * 100) / 100,
    systemPct: cpu?.systemPct['server'] ?? Number.NaN,
    rssMiB: Math.round(cpu?.rssMiB['server'] ?? Number.NaN),
    latenessMs: load.latenessMs,
    lossPct: load.lossPct,
    mediaGapPct: load.mediaGapPct,
    loadGenClockP99Ms: load.loadGen.worstClockP99Ms,
    ...(before && after ? { workerSendLatenessMs: { p50: sendMs(0.5), p99: sendMs(0.99) } } : {}),
    load,
  };
  return textBefore !== undefined && textAfter !== undefined ? { run, metrics: { before: textBefore, after: textAfter } } : { run };
}

/** frames_late / output_ticks once the worker's sessions have all ended (their counters are added at the end), %. */
export async function lateTickPct(workerUrl: string): Promise<number> {
  const deadline = Date.now() + 15_000;
  let text = await scrapeMetrics(workerUrl);
  while (sampleSum(text, 'switchboard_active_sessions') > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    text = await scrapeMetrics(workerUrl);
  }
  const ticks = sampleSum(text, 'switchboard_output_ticks_total');
  return ticks > 0 ? Math.round((sampleSum(text, 'switchboard_frames_late_total') / ticks) * 100_000) / 1000 : Number.NaN;
}

/**
 * N two-way echo sessions on a fresh media worker (stream-echo handler: decode + encode, no VAD)
 * through the whole stack; the handler takes 48 kHz audio, or 16 kHz with `at16k`.
 */
export async function switchboardEcho(edge: LocalEdge, sqs: LocalSqs, o: MediaRunOptions, at16k = false): Promise<MediaRun> {
  const worker = await startBenchWorker(edge, sqs, o, at16k ? STREAM_ECHO_16K : STREAM_ECHO);
  try {
    const { run, metrics } = await drive(at16k ? 'switchboard@16k' : 'switchboard', worker.pid, { kind: 'whip', url: edge.url }, o, true, worker.url);
    const stages = o.stageTiming && metrics ? { stageSharePct: stageSplit(run.cpuPct, run.connected, metrics, o.windowMs).sharePct } : {};
    return { ...run, ...stages, workerLateTickPct: await lateTickPct(worker.url) };
  } finally {
    await stopLongPollingWorker(worker, sqs);
  }
}

/** A fresh media worker running `handler`, sized for the run; stop it with stopLongPollingWorker. */
export function startBenchWorker(edge: LocalEdge, sqs: LocalSqs, o: MediaRunOptions, handler: string, env: Record<string, string> = {}): ReturnType<typeof startMediaWorker> {
  return startMediaWorker({
    quiet: true,
    env: {
      PUBLIC_BASE_URL: edge.url,
      SQS_QUEUE_URL: sqs.queueUrl,
      SQS_ENDPOINT: sqs.endpoint,
      // The queue is long-polled as deployed (SQS_WAIT_S default, 20 s): a 1 s poll would add a
      // request a second to the CPU being measured (stop-long-polling-worker.ts ends the poll).
      DRAIN_TIMEOUT_MS: '2000',
      MAX_SESSIONS: String(o.maxSessions ?? o.sessions + 10),
      HANDLER: handler,
      // Set either way, so a STAGE_TIMING in the bench's own environment does not leak in.
      STAGE_TIMING: o.stageTiming ? 'on' : 'off',
      ...env,
    },
  });
}

/** The same load on a fresh aiortc echo server (the engine under FastRTC), one Python process. */
export async function aiortcEcho(o: MediaRunOptions): Promise<MediaRun> {
  const server = await startAiortcEcho({ quiet: true });
  try {
    return (await drive('aiortc', server.pid, { kind: 'plainOffer', url: server.url }, o, true)).run;
  } finally {
    await server.stop();
  }
}
