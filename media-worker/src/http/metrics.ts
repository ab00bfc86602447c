import { WorkerEndReason } from '@switchboard/protocol';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { stageSeconds, stageTimingOn } from '../telemetry/stage-cpu.ts';

/**
 * Event-loop delay is sampled by a libuv timer of this period. prom-client's default, 10 ms, wakes
 * an idle worker 100 times a second: idle, it measured 0.55-0.70 % of a core with that period and
 * 0.30 % with this one. Media timing has its own, per-packet measure
 * (switchboard_send_lateness_seconds), so the loop-delay histogram only needs coarse samples.
 */
export const EVENT_LOOP_SAMPLE_MS = 100;

/**
 * The worker's Prometheus metrics (GET /metrics). Durations in seconds, per Prometheus convention.
 * prom-client's process and Node.js metrics keep their standard names (process_resident_memory_bytes,
 * process_cpu_seconds_total, nodejs_heap_size_used_bytes, nodejs_eventloop_lag_seconds, ...), so
 * stock dashboards and alerts read them as they are.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  const m = {
    registry,
    activeSessions: new Gauge({ name: 'switchboard_active_sessions', help: 'Sessions running now', registers: [registry] }),
    capacity: new Gauge({ name: 'switchboard_capacity_sessions', help: 'MAX_SESSIONS of this worker', registers: [registry] }),
    claims: new Counter({ name: 'switchboard_claims_total', help: 'Claim attempts by outcome', labelNames: ['outcome'] as const, registers: [registry] }),
    claimLatency: new Histogram({
      name: 'switchboard_claim_latency_seconds',
      help: 'Job creation at the edge to claim decided',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    answerLatency: new Histogram({
      name: 'switchboard_answer_latency_seconds',
      help: 'Offer received from the edge to SDP answer sent (werift answer and ICE gathering)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers: [registry],
    }),
    framesLate: new Counter({ name: 'switchboard_frames_late_total', help: 'Output frames sent more than 10 ms after their slot', registers: [registry] }),
    sendLateness: new Histogram({
      name: 'switchboard_send_lateness_seconds',
      help: 'Packets sent on the shared 20 ms clock: when each was sent, after its tick was due',
      buckets: [0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1],
      registers: [registry],
    }),
    outputTicks: new Counter({ name: 'switchboard_output_ticks_total', help: 'Output clock ticks run (frames_late_total counts the late ones among them)', registers: [registry] }),
    // Read from telemetry/stage-cpu.ts at each scrape; no series unless STAGE_TIMING=on.
    stageSeconds: new Counter({
      name: 'switchboard_stage_seconds_total',
      help: 'Time spent in each media stage (decode, resample, vad, turns, encode, playout), exclusive of nested stages; STAGE_TIMING=on only',
      labelNames: ['stage'] as const,
      registers: [registry],
      collect() {
        if (!stageTimingOn()) return;
        this.reset();
        for (const [stage, s] of Object.entries(stageSeconds())) this.inc({ stage }, s);
      },
    }),
    turns: new Counter({ name: 'switchboard_turns_total', help: 'User turns answered', registers: [registry] }),
    errors: new Counter({ name: 'switchboard_errors_total', help: 'Errors by kind', labelNames: ['kind'] as const, registers: [registry] }),
    sessionsEnded: endReasonCounter(
      new Counter({ name: 'switchboard_sessions_ended_total', help: 'Sessions ended by reason (WorkerEndReason)', labelNames: ['reason'] as const, registers: [registry] }),
    ),
  };
  return m;
}

/**
 * A counter labelled by WorkerEndReason only: a closed set, so the number of series stays bounded
 * whatever a session's free-text detail says. A value outside the set (a caller bypassing the
 * types) counts as 'error'.
 */
function endReasonCounter(counter: Counter<'reason'>) {
  return {
    inc(labels: { reason: WorkerEndReason }, value = 1): void {
      const known = WorkerEndReason.safeParse(labels.reason);
      counter.inc({ reason: known.success ? known.data : 'error' }, value);
    },
    get: () => counter.get(),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
