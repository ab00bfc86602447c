import type { LocalEdge } from '../../scripts/stack/edge.ts';
import type { LocalSqs } from '../../scripts/stack/local-sqs.ts';
import { printAgentRuns, switchboardAgent, type AgentRun } from './agent-path.ts';
import { printMachineCapacity, runMachineCapacity, type MachineCapacity, type MachineCapacityOptions } from './machine-capacity.ts';
import { aiortcEcho, switchboardEcho, type MediaRun } from './media-cost.ts';
import { baselineSaturated, ratiosByRound, SATURATION, type RoundPair, type SizeRatio } from './ratio-rounds.ts';
import { codecFloorPctPerSession } from './stage-split.ts';

export interface MediaSectionOptions {
  sizes: readonly number[];
  warmupMs: number;
  windowMs: number;
  /** Rounds of every size; each round runs our worker, then the baseline, at each size. */
  rounds: number;
  withBaseline: boolean;
  /** Sizes of the agent-path row (agent-path.ts), one run each after the echo rows. */
  agentSizes: readonly number[];
  /** Only the agent-path row (no echo rows, no baseline). */
  agentOnly?: boolean;
  /** Echo rows with STAGE_TIMING=on, each with its CPU by stage (compare with a run without for the timing's own cost). */
  echoStageTiming?: boolean;
  /** The sessions-per-machine row (machine-capacity.ts), after the others; its warm-up and window are the section's. */
  machine?: Omit<MachineCapacityOptions, 'warmupMs' | 'windowMs'>;
  /** Only the sessions-per-machine row (no echo rows, no baseline, no agent path). */
  machineOnly?: boolean;
  /** Only the echo rows (no agent path, no sessions per machine). */
  echoOnly?: boolean;
}

export interface MediaSection {
  runs: (MediaRun & { round: number; baselineSaturated?: boolean })[];
  ratios: SizeRatio[];
  agent: AgentRun[];
  machine?: MachineCapacity;
}

/**
 * The media benchmark: in each round, each size against our worker and then against the aiortc
 * baseline, back to back; then one `switchboard@16k` run (the handler at 16 kHz) at the first size
 * of 20 or more. Ratios come per round and their median per size (ratio-rounds.ts); a baseline
 * run that fell behind real time gives none, since its CPU per session is then its ceiling / N.
 * Then the agent-path row (agent-path.ts): one run at each of `agentSizes`, with its CPU by stage.
 * Then the sessions-per-machine row (machine-capacity.ts): N worker processes on the one queue.
 */
export async function runMediaSection(edge: LocalEdge, sqs: LocalSqs, o: MediaSectionOptions): Promise<MediaSection> {
  const runs: MediaSection['runs'] = [];
  const pairs: RoundPair[] = [];
  if (!o.agentOnly && !o.machineOnly) await runEchoRows(edge, sqs, o, runs, pairs);
  const agent: AgentRun[] = [];
  for (const sessions of o.machineOnly || o.echoOnly ? [] : o.agentSizes) {
    const run = await switchboardAgent(edge, sqs, { sessions, warmupMs: o.warmupMs, windowMs: o.windowMs });
    agent.push(run);
    const s = run.stageSharePct;
    console.log(
      `  ${sessions} agent-path sessions: ${run.cpuPctPerSession}% of a core per session; transport ${s.transport}%, decode ${s.decode}%, resample ${s.resample}%, vad ${s.vad}%, encode ${s.encode}% of it`,
    );
  }
  const machine = o.machine && !o.agentOnly && !o.echoOnly ? await runMachineCapacity(edge, sqs, { ...o.machine, warmupMs: o.warmupMs, windowMs: o.windowMs }) : undefined;
  return { runs, ratios: ratiosByRound(pairs), agent, ...(machine ? { machine } : {}) };
}

/** The echo rows: each round, each size against our worker then the baseline; then the 16 kHz run. */
async function runEchoRows(edge: LocalEdge, sqs: LocalSqs, o: MediaSectionOptions, runs: MediaSection['runs'], pairs: RoundPair[]): Promise<void> {
  const stageTiming = o.echoStageTiming ?? false;
  for (let round = 1; round <= o.rounds; round++) {
    for (const sessions of o.sizes) {
      const load = { sessions, warmupMs: o.warmupMs, windowMs: o.windowMs, stageTiming };
      const ours = await switchboardEcho(edge, sqs, load);
      runs.push({ ...ours, round });
      let note = '';
      if (o.withBaseline) {
        const base = await aiortcEcho(load);
        const saturated = baselineSaturated(base);
        runs.push({ ...base, round, baselineSaturated: saturated });
        const floor = ours.stageSharePct ? { oursFloor: codecFloorPctPerSession(ours.cpuPctPerSession, ours.stageSharePct, ours.systemPct / Math.max(1, ours.connected)) } : {};
        pairs.push({ sessions, ours: ours.cpuPctPerSession, baseline: base.cpuPctPerSession, baselineSaturated: saturated, ...floor });
        note = ` / aiortc ${base.cpuPctPerSession}%${saturated ? ` (saturated: late p99 ${base.latenessMs.p99} ms, ${base.mediaGapPct}% unsent, at ${base.cpuPct}% of a core)` : ''}`;
      }
      console.log(`  round ${round}, ${sessions} sessions: switchboard ${ours.cpuPctPerSession}%${note} of a core per session${stagesNote(ours)}`);
    }
  }
  // The same echo with the handler at 16 kHz, as a voice agent runs (speech models and TTS at
  // 16 kHz): the worker's cost on the product's path (one run, not a ratio).
  const size16k = o.sizes.find((n) => n >= 20) ?? o.sizes[0]!;
  const at16k = await switchboardEcho(edge, sqs, { sessions: size16k, warmupMs: o.warmupMs, windowMs: o.windowMs, stageTiming }, true);
  runs.push({ ...at16k, round: 1 });
  console.log(`  ${size16k} sessions, handler at 16 kHz: switchboard ${at16k.cpuPctPerSession}% of a core per session${stagesNote(at16k)}`);
}

/** With --echo-stage-timing: where the echo worker's CPU went (stage-split.ts), the stages that ran. */
function stagesNote(run: MediaRun): string {
  const s = run.stageSharePct;
  if (!s) return '';
  const parts = (Object.entries(s) as [string, number][]).filter(([, pct]) => pct > 0).map(([stage, pct]) => `${stage} ${pct}%`);
  return `; of it ${parts.join(', ')}`;
}

/** The section's tables: every run, then the ratio per size (per round and the median). */
export function printMediaSection(s: MediaSection): void {
  printEchoRows(s);
  if (s.agent.length > 0) {
    console.log('  agent path: replyOnPause at 16 kHz (Silero VAD, turn-taking, reply echoing the turn), where the worker\'s CPU goes:');
    printAgentRuns(s.agent);
  }
  if (s.machine) printMachineCapacity(s.machine);
}

function printEchoRows(s: MediaSection): void {
  if (s.runs.length === 0) return;
  console.table(
    s.runs.map((r) => ({
      server: r.server,
      round: r.round,
      sessions: r.sessions,
      connected: r.connected,
      'cpu %': r.cpuPct,
      'cpu %/session': r.cpuPctPerSession,
      'of it kernel %': r.systemPct,
      'rss MiB': r.rssMiB,
      'late p50': r.latenessMs.p50,
      'late p99': r.latenessMs.p99,
      'late max': r.latenessMs.max,
      'loss %': r.lossPct,
      'gap %': r.mediaGapPct,
      'loadgen clock p99': r.loadGenClockP99Ms,
      'worker ticks >10ms late %': r.workerLateTickPct ?? null,
      'worker send late p50': r.workerSendLatenessMs?.p50 ?? null,
      'worker send late p99': r.workerSendLatenessMs?.p99 ?? null,
    })),
  );
  if (s.ratios.length === 0) return;
  console.table(
    s.ratios.map((r) => ({
      sessions: r.sessions,
      'cpu per session, switchboard / aiortc (median of rounds)': r.median ?? 'aiortc saturated',
      'per round': r.perRound.map((x) => x ?? 'sat.').join(' '),
      ...(r.floor
        ? {
            'floor: Opus + kernel only / aiortc': r.floor.median ?? 'aiortc saturated',
            'floor per round': r.floor.perRound.map((x) => x ?? 'sat.').join(' '),
          }
        : {}),
    })),
  );
  if (s.ratios.some((r) => r.floor))
    console.log(
      "  floor: our CPU per session with everything but Opus decoding and encoding and the kernel's socket work taken out, over aiortc's: about the lowest ratio any transport could reach with these codec settings (an estimate: the stages are timed by the wall clock, which counts a preempted call's wait too).",
    );
  console.log(
    `  'sat.': aiortc fell behind real time (late p99 > ${SATURATION.lateP99Ms} ms or > ${SATURATION.gapPct}% of audio unsent); its CPU per session is then its ceiling / N, so no ratio.`,
  );
}
