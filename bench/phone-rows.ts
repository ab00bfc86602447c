import { phoneSession } from './phone-turns.ts';
import { streamSession } from './stream-turns.ts';
import { concurrentSessions, type ConcurrentRun } from './transport-cpu.ts';
import { summarizeTurns, type TurnSample, type TurnSummary } from './turn-samples.ts';

/** One row each: the three phone providers' media streams and WebSocket audio clients (`GET /v1/stream`). */
export const TRANSPORTS = ['twilio', 'telnyx', 'plivo', 'stream'] as const;
export type Transport = (typeof TRANSPORTS)[number];

/** Keys of the processes whose CPU the rows show; more may be sampled (kept in the JSON). */
export const WORKER_PID = 'media worker';
export const EDGE_PID = 'edge (workerd)';

export interface PhoneRowsOptions {
  edgeUrl: string;
  /** What the edge signs provider webhooks against (its PUBLIC_BASE_URL). */
  publicBaseUrl: string;
  /** Sequential sessions per transport, for latency on an otherwise idle stack. */
  calls: number;
  /** Sessions at once per transport, for CPU per session (and latency under that load). */
  concurrent: number;
  staggerMs: number;
  /** Silence after the fixture before hanging up: the session's length is 6.27 s plus this. */
  tailMs: number;
  /** Processes to sample; must include WORKER_PID and EDGE_PID. */
  pids: Record<string, number>;
}

export interface PhoneRow {
  transport: Transport;
  /** `calls` sessions one after another. */
  sequential: TurnSummary;
  /** `concurrent` sessions at once: CPU per session, and their latencies. */
  concurrent: Omit<ConcurrentRun, 'samples'> & { turns: TurnSummary };
}

function session(t: Transport, o: PhoneRowsOptions): Promise<TurnSample> {
  if (t === 'stream') return streamSession({ edgeUrl: o.edgeUrl, tailMs: o.tailMs });
  return phoneSession({ edgeUrl: o.edgeUrl, publicBaseUrl: o.publicBaseUrl, provider: t, tailMs: o.tailMs });
}

/** Every transport in turn: its sequential sessions (which also warm the worker), then its concurrent ones. */
export async function measurePhoneRows(o: PhoneRowsOptions, onRow: (row: PhoneRow) => void = () => {}): Promise<PhoneRow[]> {
  for (const k of [WORKER_PID, EDGE_PID]) if (o.pids[k] === undefined) throw new Error(`measurePhoneRows: no pid for "${k}"`);
  const rows: PhoneRow[] = [];
  for (const transport of TRANSPORTS) {
    const seq: TurnSample[] = [];
    for (let i = 0; i < o.calls; i++) seq.push(await session(transport, o));
    const { samples, ...run } = await concurrentSessions(o.concurrent, o.staggerMs, o.pids, () => session(transport, o));
    const row: PhoneRow = { transport, sequential: summarizeTurns(seq), concurrent: { ...run, turns: summarizeTurns(samples) } };
    onRow(row);
    rows.push(row);
  }
  return rows;
}

/** The printed table: one row per transport; latencies in ms (p50 / p99 of the sequential sessions), CPU in ms per session. */
export function phoneRowsTable(rows: readonly PhoneRow[]): Record<string, Record<string, number | string>> {
  const table: Record<string, Record<string, number | string>> = {};
  for (const r of rows) {
    const s = r.sequential;
    const c = r.concurrent;
    const pair = (x: { n: number; p50: number; p99: number }) => (x.n === 0 ? '-' : `${x.p50} / ${x.p99}`);
    table[r.transport] = {
      'webhook p50/p99': r.transport === 'stream' ? 'n/a' : pair(s.webhook),
      'turn p50/p99': pair(s.turnMinusSilence),
      'barge-in p50/p99': pair(s.bargeIn),
      [`turn p50, ${c.sessions} at once`]: c.turns.turnMinusSilence.n === 0 ? '-' : c.turns.turnMinusSilence.p50,
      'worker CPU ms/session': c.cpuMsPerSession[WORKER_PID] ?? '-',
      'edge CPU ms/session': c.cpuMsPerSession[EDGE_PID] ?? '-',
      failures: s.failures.length + c.turns.failures.length,
    };
  }
  return table;
}
