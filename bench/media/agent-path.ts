import { fileURLToPath } from 'node:url';
import type { LocalEdge } from '../../scripts/stack/edge.ts';
import type { LocalSqs } from '../../scripts/stack/local-sqs.ts';
import { sampleSum } from '../stack/prom-text.ts';
import { stageSplit, STAGES, type Stage } from './stage-split.ts';
import { drive, lateTickPct, startBenchWorker, type MediaRun, type MediaRunOptions } from './media-cost.ts';
import { stopLongPollingWorker } from './stop-long-polling-worker.ts';

const AGENT_ECHO = fileURLToPath(new URL('../../test/fixtures/handlers/agent-echo-16k.ts', import.meta.url));
const TURNS = 'switchboard_turns_total';

/** One agent-path run: the echo row's figures plus where the worker's CPU went. */
export interface AgentRun extends MediaRun {
  /** Per stage, % of one core per connected session over the window; transport is the rest of the worker's CPU. */
  stagePctPerSession: Record<Stage, number>;
  /** Each stage's share of the worker's CPU over the window, %. */
  stageSharePct: Record<Stage, number>;
  /** (vad + resample) / transport; the goal is below 0.5. */
  vadResampleOverTransport: number;
  /** Turns answered in the window (switchboard_turns_total), per session per minute. */
  turnsPerSessionMin: number;
  /** Reply packets received / caller packets sent, %: the share of the call the agent talked. */
  replyPct: number;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * N agent-path sessions on a fresh worker with STAGE_TIMING=on: a replyOnPause handler at 16 kHz
 * (test/fixtures/handlers/agent-echo-16k.ts) with the Silero VAD, the load peers sending the
 * two-phrase speech fixture in a loop (opus-packets.ts: two turns per 6.27 s, each peer at its
 * own phase), so turns end, replies play and the caller's next phrase barges in on them. The
 * worker's stage counters (switchboard_stage_seconds_total) are scraped at the window's edges.
 */
export async function switchboardAgent(edge: LocalEdge, sqs: LocalSqs, o: MediaRunOptions): Promise<AgentRun> {
  const worker = await startBenchWorker(edge, sqs, { ...o, stageTiming: true }, AGENT_ECHO);
  try {
    const { run, metrics } = await drive('switchboard agent@16k', worker.pid, { kind: 'whip', url: edge.url }, o, true, worker.url);
    if (!metrics) throw new Error('agent path: no /metrics scrapes at the window edges');
    // mediaGapPct counts the silences between replies here (the reply is talkspurts): not a loss, so null.
    return { ...run, mediaGapPct: Number.NaN, ...stageFigures(run, metrics, o.windowMs), workerLateTickPct: await lateTickPct(worker.url) };
  } finally {
    await stopLongPollingWorker(worker, sqs);
  }
}

/** The stage split of one run from the counters at the window's edges (pure). */
export function stageFigures(
  run: MediaRun,
  m: { before: string; after: string },
  windowMs: number,
): Pick<AgentRun, 'stagePctPerSession' | 'stageSharePct' | 'vadResampleOverTransport' | 'turnsPerSessionMin' | 'replyPct'> {
  const delta = (name: string) => sampleSum(m.after, name) - sampleSum(m.before, name);
  const split = stageSplit(run.cpuPct, run.connected, m, windowMs);
  const sessions = Math.max(1, run.connected);
  return {
    stagePctPerSession: split.pctPerSession,
    stageSharePct: split.sharePct,
    vadResampleOverTransport: round2((split.pctOfCore.vad + split.pctOfCore.resample) / split.pctOfCore.transport),
    turnsPerSessionMin: Math.round((delta(TURNS) / sessions / (windowMs / 60_000)) * 10) / 10,
    replyPct: run.load.sent > 0 ? Math.round((run.load.received / run.load.sent) * 1000) / 10 : Number.NaN,
  };
}

/** The agent-path table: one row per size, the stage shares, then the call's figures. */
export function printAgentRuns(runs: readonly AgentRun[]): void {
  if (runs.length === 0) return;
  console.table(
    runs.map((r) => ({
      sessions: r.sessions,
      connected: r.connected,
      'cpu %': r.cpuPct,
      'cpu %/session': r.cpuPctPerSession,
      ...Object.fromEntries(STAGES.map((s) => [`${s} %`, r.stageSharePct[s]])),
      '(vad+resample)/transport': r.vadResampleOverTransport,
      'turns/session/min': r.turnsPerSessionMin,
      'reply %': r.replyPct,
      'worker send late p99': r.workerSendLatenessMs?.p99 ?? null,
      'loss %': r.lossPct,
      'loadgen clock p99': r.loadGenClockP99Ms,
    })),
  );
  console.log(
    [
      '  stage % = share of the worker\'s CPU over the window (all threads, /proc): decode/encode = Opus, resample = Speex and',
      '  downmix, vad = Silero (input prep + inference), turns = turn detector, playout = the reply engine\'s own work (framing,',
      '  pacing); each timed at its call sites (media-worker/src/telemetry/stage-cpu.ts, wall time, nested stages exclusive).',
      '  transport = worker CPU minus those stages: SRTP, sockets, werift, timers, event loop, pipeline glue.',
      '  reply % = reply packets received / caller packets sent (the agent talks between the caller\'s phrases; barge-in cuts it).',
      `  goal: (vad+resample)/transport < 0.5.`,
    ].join('\n'),
  );
}
