import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../http/metrics.ts';
import { SileroModel } from '../vad/silero-model.ts';
import { addStageMs, enterStage, exitStage, resetStages, setStageTiming, Stage, stageCalls, stageSeconds } from './stage-cpu.ts';

/** Busy-waits `ms` of wall time (the stages are wall-time deltas). */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

function timed(stage: (typeof Stage)[keyof typeof Stage], fn: () => void): void {
  enterStage(stage);
  try {
    fn();
  } finally {
    exitStage();
  }
}

describe('stage-cpu', () => {
  beforeEach(() => {
    setStageTiming(true);
    resetStages();
  });
  afterEach(() => {
    setStageTiming(false);
    resetStages();
  });

  it('adds up the time of each stage', () => {
    const t0 = performance.now();
    timed(Stage.decode, () => spin(5));
    timed(Stage.decode, () => spin(5));
    const decodeSpanS = (performance.now() - t0) / 1000;
    timed(Stage.encode, () => spin(3));
    const s = stageSeconds();
    expect(s.decode).toBeGreaterThanOrEqual(0.01);
    expect(s.decode).toBeLessThanOrEqual(decodeSpanS);
    expect(s.encode).toBeGreaterThanOrEqual(0.003);
    expect(s.vad).toBe(0);
    expect(stageCalls().decode).toBe(2);
  });

  it('counts nested stages once: the outer stage pauses while the inner one runs', () => {
    const t0 = performance.now();
    timed(Stage.playout, () => {
      spin(4);
      timed(Stage.resample, () => spin(6));
      timed(Stage.outside, () => timed(Stage.encode, () => spin(5)));
      spin(4);
    });
    const spanS = (performance.now() - t0) / 1000;
    const s = stageSeconds();
    expect(s.resample).toBeGreaterThanOrEqual(0.006);
    expect(s.encode).toBeGreaterThanOrEqual(0.005);
    expect(s.playout).toBeGreaterThanOrEqual(0.008);
    // Exclusive: the stages add up to the span (playout is its own 8 ms, not the whole span), on
    // a busy machine too (a preemption lands in one stage only).
    expect(s.playout + s.resample + s.encode).toBeLessThanOrEqual(spanS + 0.0005);
  });

  it('keeps the outside pseudo-stage out of the exported stages', () => {
    timed(Stage.outside, () => spin(3));
    const s = stageSeconds();
    expect(Object.keys(s)).toEqual(['decode', 'resample', 'vad', 'turns', 'encode', 'playout']);
    expect(Object.values(s).reduce((a, b) => a + b, 0)).toBe(0);
  });

  it('takes time measured across an await with addStageMs', () => {
    addStageMs(Stage.vad, 2.5);
    addStageMs(Stage.vad, -1); // ignored
    expect(stageSeconds().vad).toBeCloseTo(0.0025, 9);
  });

  it('records nothing when off, and an unbalanced exit does no harm', () => {
    setStageTiming(false);
    timed(Stage.decode, () => spin(2));
    addStageMs(Stage.vad, 5);
    expect(stageSeconds().decode).toBe(0);
    expect(stageSeconds().vad).toBe(0);
    setStageTiming(true);
    exitStage();
    timed(Stage.decode, () => spin(1));
    expect(stageSeconds().decode).toBeGreaterThan(0);
  });

  it('stays balanced when the timed code throws', () => {
    expect(() => timed(Stage.playout, () => timed(Stage.encode, () => { throw new Error('boom'); }))).toThrow('boom');
    timed(Stage.decode, () => spin(2));
    const s = stageSeconds();
    expect(s.decode).toBeGreaterThanOrEqual(0.002);
    expect(s.playout).toBeLessThan(0.001);
  });

  it("times the VAD model's inference, not the event loop it waited for", async () => {
    const stream = (await SileroModel.load()).createStream();
    await stream.infer(new Float32Array(512)); // warm
    resetStages();
    // Work queued ahead of the inference's setImmediate holds the loop for 30 ms.
    setImmediate(() => spin(30));
    const t0 = performance.now();
    await stream.infer(new Float32Array(512).map((_, i) => Math.sin(i / 5) * 0.3));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(30);
    expect(stageSeconds().vad).toBeGreaterThan(0);
    expect(stageSeconds().vad).toBeLessThan(0.015);
  });

  it('is on /metrics as switchboard_stage_seconds_total{stage}', async () => {
    timed(Stage.vad, () => spin(2));
    const text = await createMetrics().registry.metrics();
    const series = Object.fromEntries([...text.matchAll(/^switchboard_stage_seconds_total\{stage="(\w+)"\} (\S+)/gm)].map((m) => [m[1], Number(m[2])]));
    expect(Object.keys(series).sort()).toEqual(['decode', 'encode', 'playout', 'resample', 'turns', 'vad']);
    expect(series['vad']).toBeGreaterThanOrEqual(0.002);
  });

  it('costs well under a microsecond per enter/exit pair', () => {
    const n = 200_000;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      enterStage(Stage.decode);
      exitStage();
    }
    const usPerPair = ((performance.now() - t0) * 1000) / n;
    console.log(`stage-cpu: ${usPerPair.toFixed(3)} us per enter/exit pair`);
    // Loose: a shared 2-core machine; there to catch an order-of-magnitude slip.
    expect(usPerPair).toBeLessThan(2);
  });
});
