/**
 * `npm run bench` command line: the presets (full, or --quick) and the flags that override them,
 * checked once here. A bad flag or value is a UsageError, which main.ts prints with USAGE (exit 2).
 */
import { parseArgs } from 'node:util';
import type { Provider } from '../scripts/phone/providers/types.ts';
import { parseSizes } from './media/machine-capacity.ts';

export const SECTIONS = ['media', 'setup', 'turns', 'agent', 'phone', 'minute', 'legs', 'dispatch', 'edge'] as const;
export type Section = (typeof SECTIONS)[number];

export const USAGE = `npm run bench [-- --quick] [--only SECTIONS] [--out FILE] [--edge bundle|wrangler-dev] [section flags]

Every benchmark on this machine in one run, printed as tables and written as JSON
(bench/results/<time>.json unless --out); about 35 minutes on 2 cores. --quick: the same tables
with small N (about 9 minutes).
--only: a comma-separated list of ${SECTIONS.join(', ')}.

  media     N two-way Opus echo sessions, our worker vs the aiortc baseline (CPU per session); the
            agent path (replyOnPause at 16 kHz) by stage; echo sessions per machine on N processes
            --sizes 10,20  --rounds N  --warmup-s S  --window-s S  --no-baseline  --echo-only
            --agent-only  --agent-sizes 10,20  --echo-stage-timing (echo rows split by stage)
            --machine-sizes 20,40  --workers N  --machine-only  --machine-no-single
  setup     WHIP POST -> 201 through the whole stack, sequential and 20 at a time   --setup-sessions N
  turns     WebRTC: end of speech -> first reply packet, barge-in -> reply stops     --turn-calls N
  agent     cascade STT -> LLM -> TTS in a worker, providers faked at 0 ms and at realistic latencies
  phone     Twilio, Telnyx, Plivo and /v1/stream: webhook, turn, barge-in -> clear, CPU per session
  minute    what a phone call-minute costs: edge and worker CPU, messages, bytes, $ per 1,000 minutes
            --minute-calls N  --minute-s S  --minute-providers twilio,telnyx,plivo
  legs      a call's phone legs mixed: CPU per party at 2, 3, 5 parties; mouth-to-ear
  dispatch  jobs across 4 workers: claim latency, double claims
  edge      workerd CPU per request (POST /v1/sessions, POST /twilio/voice)`;

/** A bad command line: its message names the flag and what it takes. */
export class UsageError extends Error {}

const PRESETS = {
  quick: { mediaSizes: [10], mediaRounds: 1, machineSizes: [20, 40, 80], agentSizes: [10], warmupMs: 2000, windowMs: 4000, setupSessions: 20, setupConcurrency: 10, turnCalls: 2, agentCalls: 2, agentTurns: 5, phoneCalls: 2, phoneConcurrent: 4, legs: { sizes: [2, 3, 5], rounds: 1, warmupMs: 2000, windowMs: 4000, latencyCalls: 1, bursts: 8 }, dispatchJobs: 100, edgeSessions: 30, edgeWebhooks: 60 },
  full: { mediaSizes: [10, 20, 40, 60, 80], mediaRounds: 2, machineSizes: [20, 40, 60, 80, 120, 160, 200, 240], agentSizes: [10, 20, 60], warmupMs: 3000, windowMs: 10_000, setupSessions: 200, setupConcurrency: 20, turnCalls: 10, agentCalls: 4, agentTurns: 10, phoneCalls: 6, phoneConcurrent: 10, legs: { sizes: [2, 3, 5], rounds: 3, warmupMs: 3000, windowMs: 10_000, latencyCalls: 3, bursts: 10 }, dispatchJobs: 1000, edgeSessions: 100, edgeWebhooks: 300 },
};
export type Preset = (typeof PRESETS)['full'];

export interface BenchOptions {
  help: boolean;
  quick: boolean;
  only: ReadonlySet<Section>;
  out: string | undefined;
  P: Preset;
  minute: { providers: Provider[]; calls: number; durationMs: number; staggerMs: number; idleMs: number };
  machineWorkers: number;
  withBaseline: boolean;
  edge: 'bundle' | 'wrangler-dev';
  agentOnly: boolean;
  echoOnly: boolean;
  echoStageTiming: boolean;
  machineOnly: boolean;
  machineNoSingle: boolean;
}

function positiveInt(flag: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${flag}: a positive integer, not "${raw}"`);
  return n;
}

function sizes(flag: string, raw: string): number[] {
  try {
    return parseSizes(`--${flag}`, raw);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Parses `argv` (without node and the script); `cores`: the default of --workers. */
export function parseBenchOptions(argv: string[], cores: number): BenchOptions {
  let args;
  try {
    ({ values: args } = parseArgs({
      args: argv,
      options: {
        help: { type: 'boolean', short: 'h', default: false },
        quick: { type: 'boolean', default: false },
        only: { type: 'string' },
        out: { type: 'string' },
        sizes: { type: 'string' },
        'warmup-s': { type: 'string' },
        'window-s': { type: 'string' },
        rounds: { type: 'string' },
        'no-baseline': { type: 'boolean', default: false },
        'agent-only': { type: 'boolean', default: false },
        'echo-only': { type: 'boolean', default: false },
        'agent-sizes': { type: 'string' },
        'echo-stage-timing': { type: 'boolean', default: false },
        'machine-sizes': { type: 'string' },
        workers: { type: 'string' },
        'machine-only': { type: 'boolean', default: false },
        'machine-no-single': { type: 'boolean', default: false },
        'setup-sessions': { type: 'string' },
        'turn-calls': { type: 'string' },
        edge: { type: 'string', default: 'bundle' },
        'minute-calls': { type: 'string' },
        'minute-s': { type: 'string' },
        'minute-providers': { type: 'string' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const quick = args.quick ?? false;
  const only = new Set((args.only ?? SECTIONS.join(',')).split(',').map((s) => s.trim()));
  for (const s of only) if (!(SECTIONS as readonly string[]).includes(s)) throw new UsageError(`--only: unknown section "${s}" (one of ${SECTIONS.join(', ')})`);
  const P: Preset = structuredClone(quick ? PRESETS.quick : PRESETS.full);
  if (args.sizes !== undefined) P.mediaSizes = sizes('sizes', args.sizes);
  if (args['agent-sizes'] !== undefined) P.agentSizes = sizes('agent-sizes', args['agent-sizes']);
  if (args['machine-sizes'] !== undefined) P.machineSizes = sizes('machine-sizes', args['machine-sizes']);
  for (const [flag, key] of [['warmup-s', 'warmupMs'], ['window-s', 'windowMs']] as const) {
    const v = args[flag];
    if (v === undefined) continue;
    const s = Number(v);
    if (!(s > 0) || !Number.isFinite(s)) throw new UsageError(`--${flag}: a positive number of seconds, not "${v}"`);
    P[key] = s * 1000;
  }
  if (args.rounds !== undefined) P.mediaRounds = positiveInt('rounds', args.rounds);
  if (args['setup-sessions'] !== undefined) P.setupSessions = positiveInt('setup-sessions', args['setup-sessions']);
  if (args['turn-calls'] !== undefined) P.turnCalls = positiveInt('turn-calls', args['turn-calls']);
  const machineWorkers = args.workers === undefined ? cores : positiveInt('workers', args.workers);

  const providers = (args['minute-providers'] ?? (quick ? 'twilio' : 'twilio,telnyx,plivo')).split(',').map((x) => x.trim());
  for (const x of providers) if (!['twilio', 'telnyx', 'plivo'].includes(x)) throw new UsageError(`--minute-providers: twilio, telnyx, plivo, not "${x}"`);
  const calls = args['minute-calls'] === undefined ? (quick ? 5 : 10) : positiveInt('minute-calls', args['minute-calls']);
  const durationMs = Number(args['minute-s'] ?? (quick ? 60 : 120)) * 1000;
  if (!(durationMs >= 20_000)) throw new UsageError(`--minute-s: at least 20, not "${args['minute-s']}"`);

  if (args.edge !== 'bundle' && args.edge !== 'wrangler-dev') throw new UsageError(`--edge: bundle or wrangler-dev, not "${args.edge}"`);
  return {
    help: args.help ?? false,
    quick,
    only: only as Set<Section>,
    out: args.out,
    P,
    minute: { providers: providers as Provider[], calls, durationMs, staggerMs: 300, idleMs: quick ? 3000 : 5000 },
    machineWorkers,
    withBaseline: !args['no-baseline'],
    edge: args.edge,
    agentOnly: args['agent-only'] ?? false,
    echoOnly: args['echo-only'] ?? false,
    echoStageTiming: args['echo-stage-timing'] ?? false,
    machineOnly: args['machine-only'] ?? false,
    machineNoSingle: args['machine-no-single'] ?? false,
  };
}
