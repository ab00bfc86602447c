import { energySegments, pairTurns } from '../scripts/phone/energy-turns.ts';
import { summary } from './stack/percentiles.ts';

/** What one session (phone call or stream client) measured; a missing value has a failure saying why. */
export interface TurnSample {
  /** The instruction webhook that connected the call -> its markup (phone only). */
  webhookMs?: number;
  /** End of the caller's first phrase -> first reply audio heard, minus the turn detector's silence. */
  turnMinusSilenceMs?: number;
  /** Onset of the caller's second phrase -> the first clear received. */
  bargeInMs?: number;
  failures: string[];
}

export interface TurnSummary {
  sessions: number;
  webhook: ReturnType<typeof summary>;
  turnMinusSilence: ReturnType<typeof summary>;
  bargeIn: ReturnType<typeof summary>;
  failures: string[];
}

/**
 * A session's sample from its raw times (ms, stream time where relevant): the first turn's
 * latency (null: no reply heard), the first clear's time (undefined: none arrived), the
 * connecting webhook's time, and any protocol errors the client saw.
 */
export function turnSample(o: { webhookMs?: number; turnLatencyMs: number | null | undefined; firstClearMs: number | undefined; silenceMs: number; phrase2OnsetMs: number; protocolErrors?: readonly string[] }): TurnSample {
  const s: TurnSample = { failures: [] };
  if (o.webhookMs !== undefined) s.webhookMs = o.webhookMs;
  if (o.turnLatencyMs == null) s.failures.push('no reply heard after phrase 1');
  else s.turnMinusSilenceMs = o.turnLatencyMs - o.silenceMs;
  if (o.firstClearMs === undefined) s.failures.push('no clear after phrase 2');
  else s.bargeInMs = o.firstClearMs - o.phrase2OnsetMs;
  const errors = o.protocolErrors ?? [];
  if (errors.length > 0) s.failures.push(`${errors.length} protocol error(s), first: ${errors[0]}`);
  return s;
}

/** A session that failed outright (refused, never connected, threw). */
export function failedSample(why: string): TurnSample {
  return { failures: [why] };
}

/** Percentiles of each measure over sessions; failures prefixed with the session's index. */
export function summarizeTurns(samples: readonly TurnSample[]): TurnSummary {
  const pick = (k: 'webhookMs' | 'turnMinusSilenceMs' | 'bargeInMs') => samples.flatMap((s) => (s[k] === undefined ? [] : [s[k]]));
  return {
    sessions: samples.length,
    webhook: summary(pick('webhookMs')),
    turnMinusSilence: summary(pick('turnMinusSilenceMs')),
    bargeIn: summary(pick('bargeInMs')),
    failures: samples.flatMap((s, i) => s.failures.map((f) => `session ${i}: ${f}`)),
  };
}

/**
 * Stretches of heard audio, each stamped with when it started playing (ms on any clock), laid on
 * one timeline of silence whose sample 0 is at `originMs` on that clock. Audio before the origin
 * is cut; a stretch overlapping the one before overwrites it from its own start.
 */
export function heardTimeline(slots: ReadonlyArray<{ atMs: number; samples: Int16Array }>, sampleRate: number, originMs: number): Int16Array {
  const at = (ms: number) => Math.round(((ms - originMs) * sampleRate) / 1000);
  const end = slots.reduce((m, s) => Math.max(m, at(s.atMs) + s.samples.length), 0);
  const out = new Int16Array(Math.max(0, end));
  for (const s of slots) {
    const start = at(s.atMs);
    const skip = Math.max(0, -start);
    if (skip < s.samples.length) out.set(s.samples.subarray(skip), start + skip);
  }
  return out;
}

/** End of the first caller phrase -> first reply audible after it (ms; null: none), by energy, as the caller simulator times turns. */
export function firstTurnLatency(sent: Int16Array, sentRate: number, heard: Int16Array, heardRate: number): number | null {
  return pairTurns(energySegments(sent, sentRate), energySegments(heard, heardRate))[0]?.latencyMs ?? null;
}
