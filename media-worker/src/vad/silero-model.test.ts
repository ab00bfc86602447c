import { performance } from 'node:perf_hooks';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultSileroModelPath, SileroModel } from './silero-model.ts';
import { speechWindows } from './speech-windows.test-helper.ts';

// hello-pause-question.wav in Silero windows (speech-windows.test-helper.ts).
let model: SileroModel;
let windows: Float32Array[];

async function inferAll(ws: readonly Float32Array[], stream = model.createStream()): Promise<number[]> {
  const out: number[] = [];
  for (const w of ws) out.push(await stream.infer(w));
  return out;
}

beforeAll(async () => {
  model = await SileroModel.load();
  windows = speechWindows();
});

describe('SileroModel', () => {
  it('loads the v5 model from @ricky0123/vad-web once per process', async () => {
    expect(defaultSileroModelPath()).toMatch(/@ricky0123\/vad-web\/dist\/silero_vad_v5\.onnx$/);
    expect(await SileroModel.load()).toBe(model);
    expect(await SileroModel.load(defaultSileroModelPath())).toBe(model);
  });

  it('does not cache a failed load', async () => {
    await expect(SileroModel.load('/nonexistent/silero.onnx')).rejects.toThrow();
    await expect(SileroModel.load('/nonexistent/silero.onnx')).rejects.toThrow();
  });

  it('rejects windows that are not 512 samples', async () => {
    const s = model.createStream();
    await expect(s.infer(new Float32Array(480))).rejects.toThrow(RangeError);
    await expect(s.infer(new Float32Array(576))).rejects.toThrow(RangeError);
  });

  it('scores silence low and speech high', async () => {
    const probs = await inferAll(windows);
    // Window i covers [32 i, 32 (i + 1)) ms.
    const at = (ms: number) => probs[Math.floor(ms / 32)] ?? NaN;
    for (const ms of [64, 256, 3400, 3800, 5800, 6100]) expect(at(ms)).toBeLessThan(0.05);
    for (const ms of [800, 1600, 2400, 4400, 4900]) expect(at(ms)).toBeGreaterThan(0.9);
  });

  it('streams from one model do not share state', async () => {
    const alone = await inferAll(windows);
    const fromSilence = await inferAll(windows.slice(100)); // starts inside the long pause
    // Interleave two streams window by window: each must match its own run alone.
    const a = model.createStream();
    const b = model.createStream();
    const ia: number[] = [];
    const ib: number[] = [];
    for (let i = 0; i < windows.length; i++) {
      const wa = windows[i];
      const wb = windows[i + 100];
      const [pa, pb] = await Promise.all([wa && a.infer(wa), wb && b.infer(wb)]);
      if (pa !== undefined) ia.push(pa);
      if (pb !== undefined) ib.push(pb);
    }
    expect(ia).toEqual(alone);
    expect(ib).toEqual(fromSilence);
  });

  it('carries state and context: the same window scores differently after speech than from a fresh state', async () => {
    const s = model.createStream();
    await inferAll(windows.slice(20, 40), s); // speech
    const after = await s.infer(windows[41] as Float32Array);
    const fresh = await model.createStream().infer(windows[41] as Float32Array);
    expect(after).not.toBe(fresh);
  });

  it('reset() returns a stream to the fresh state', async () => {
    const s = model.createStream();
    await inferAll(windows.slice(0, 60), s);
    s.reset();
    expect(await inferAll(windows.slice(0, 30), s)).toEqual(await inferAll(windows.slice(0, 30)));
  });

  it('runs concurrent infer() calls on one stream in call order', async () => {
    const s = model.createStream();
    const probs = await Promise.all(windows.slice(0, 80).map((w) => s.infer(w)));
    expect(probs).toEqual(await inferAll(windows.slice(0, 80)));
  });

  it('reports the per-window inference time (measured, not asserted)', async () => {
    const s = model.createStream();
    for (const w of windows.slice(0, 20)) await s.infer(w); // warm-up
    s.reset();
    const times: number[] = [];
    for (let i = 0; i < 400; i++) {
      const w = windows[i % windows.length] as Float32Array;
      const t0 = performance.now();
      await s.infer(w);
      times.push(performance.now() - t0);
    }
    times.sort((x, y) => x - y);
    const q = (p: number) => (times[Math.floor(p * (times.length - 1))] ?? NaN).toFixed(3);
    console.log(`[silero] per-window (512 samples = 32 ms) inference over ${times.length} windows: median ${q(0.5)} ms, p90 ${q(0.9)} ms, p99 ${q(0.99)} ms`);
    expect(times).toHaveLength(400);
  });
});
