import { describe, expect, it } from 'vitest';
import { EDGE_PID, WORKER_PID, phoneRowsTable, type PhoneRow } from '../bench/phone-rows.ts';
import { firstTurnLatency, heardTimeline, summarizeTurns, turnSample } from '../bench/turn-samples.ts';

const RATE = 16_000;
const tone = (ms: number, amp = 8000) => Int16Array.from({ length: (ms * RATE) / 1000 }, (_, i) => Math.round(amp * Math.sin((2 * Math.PI * 440 * i) / RATE)));
/** Silence with `sound` stretches ([startMs, endMs)) of tone. */
function timeline(totalMs: number, sound: Array<[number, number]>): Int16Array {
  const out = new Int16Array((totalMs * RATE) / 1000);
  for (const [s, e] of sound) out.set(tone(e - s), (s * RATE) / 1000);
  return out;
}

describe('heardTimeline', () => {
  it('lays each played stretch at its time from the origin, silence between', () => {
    const a = Int16Array.from([1, 2, 3]);
    const b = Int16Array.from([4, 5]);
    // 1 kHz: 1 sample per ms; origin at 100 ms on the slots' clock.
    const out = heardTimeline([{ atMs: 102, samples: a }, { atMs: 107, samples: b }], 1000, 100);
    expect(Array.from(out)).toEqual([0, 0, 1, 2, 3, 0, 0, 4, 5]);
  });

  it('cuts audio before the origin and lets a later stretch overwrite an overlap', () => {
    const out = heardTimeline([{ atMs: 98, samples: Int16Array.from([1, 2, 3, 4]) }, { atMs: 101, samples: Int16Array.from([9, 9]) }], 1000, 100);
    expect(Array.from(out)).toEqual([3, 9, 9]);
    expect(heardTimeline([], 1000, 0)).toHaveLength(0);
    expect(heardTimeline([{ atMs: 0, samples: Int16Array.from([1]) }], 1000, 10)).toHaveLength(0);
  });
});

describe('firstTurnLatency', () => {
  it('times the end of the first phrase to the first reply heard after it', () => {
    const sent = timeline(4000, [[500, 1500], [3000, 3500]]);
    const heard = timeline(4000, [[2300, 2900]]);
    expect(firstTurnLatency(sent, RATE, heard, RATE)).toBeCloseTo(800, 0);
    expect(firstTurnLatency(sent, RATE, new Int16Array(0), RATE)).toBeNull();
  });
});

describe('turnSample and summarizeTurns', () => {
  const base = { silenceMs: 600, phrase2OnsetMs: 4133 };

  it('takes off the silence and dates the barge-in from phrase 2', () => {
    expect(turnSample({ ...base, webhookMs: 12, turnLatencyMs: 850, firstClearMs: 4400 })).toEqual({ webhookMs: 12, turnMinusSilenceMs: 250, bargeInMs: 267, failures: [] });
  });

  it('says why a value is missing', () => {
    const s = turnSample({ ...base, turnLatencyMs: null, firstClearMs: undefined, protocolErrors: ['bad-mark: x', 'y'] });
    expect(s.turnMinusSilenceMs).toBeUndefined();
    expect(s.bargeInMs).toBeUndefined();
    expect(s.failures).toEqual(['no reply heard after phrase 1', 'no clear after phrase 2', '2 protocol error(s), first: bad-mark: x']);
  });

  it('summarizes what each session measured, failures by session', () => {
    const s = summarizeTurns([
      { turnMinusSilenceMs: 200, bargeInMs: 300, failures: [] },
      { turnMinusSilenceMs: 400, failures: ['no clear after phrase 2'] },
    ]);
    expect(s.sessions).toBe(2);
    expect(s.webhook.n).toBe(0);
    expect(s.turnMinusSilence).toMatchObject({ n: 2, p50: 200, max: 400 });
    expect(s.bargeIn).toMatchObject({ n: 1, p50: 300 });
    expect(s.failures).toEqual(['session 1: no clear after phrase 2']);
  });
});

describe('phoneRowsTable', () => {
  it('prints one row per transport, no webhook for stream clients', () => {
    const turns = summarizeTurns([{ webhookMs: 10, turnMinusSilenceMs: 200, bargeInMs: 300, failures: [] }]);
    const row = (transport: PhoneRow['transport']): PhoneRow => ({
      transport,
      sequential: turns,
      concurrent: { sessions: 4, staggerMs: 100, wallMs: 9000, sessionMs: summarizeTurns([]).webhook, cpuMsPerSession: { [WORKER_PID]: 812.5, [EDGE_PID]: 40 }, pct: {}, machineBusyPct: 0, otherPct: 0, turns },
    });
    const t = phoneRowsTable([row('twilio'), row('stream')]);
    expect(t['twilio']).toEqual({ 'webhook p50/p99': '10 / 10', 'turn p50/p99': '200 / 200', 'barge-in p50/p99': '300 / 300', 'turn p50, 4 at once': 200, 'worker CPU ms/session': 812.5, 'edge CPU ms/session': 40, failures: 0 });
    expect(t['stream']?.['webhook p50/p99']).toBe('n/a');
  });
});
