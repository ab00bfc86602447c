import { beforeAll, describe, expect, it } from 'vitest';
import { SileroBatcher } from './silero-batch.ts';
import { speechWindows } from './speech-windows.test-helper.ts';
import { SileroModel } from './silero-model.ts';

// hello-pause-question.wav in Silero windows (speech-windows.test-helper.ts).
let model: SileroModel;
let windows: Float32Array[];
beforeAll(async () => {
  model = await SileroModel.load();
  windows = speechWindows();
});

describe('Silero inferences batched across calls', () => {
  it("gives each call, run in one batch with others, the probabilities it gets alone", async () => {
    const calls = 12;
    // Call k hears the recording from window 7k on, so the rows of a batch differ.
    const own = (k: number) => windows.slice(7 * k, 7 * k + 40);
    const alone: number[][] = [];
    for (let k = 0; k < calls; k++) {
      const s = model.createStream();
      const probs: number[] = [];
      for (const w of own(k)) probs.push(await s.infer(w)); // one at a time: batches of one
      alone.push(probs);
    }
    const streams = Array.from({ length: calls }, () => model.createStream());
    const together: number[][] = Array.from({ length: calls }, () => []);
    const batcher = (model as unknown as { batcher: SileroBatcher }).batcher;
    const [rows, runs] = [batcher.rows, batcher.runs];
    for (let i = 0; i < 40; i++) {
      // Every call's window i asked for in the same turn, as the receive batch's drain does.
      const probs = await Promise.all(streams.map((s, k) => s.infer(own(k)[i]!)));
      probs.forEach((p, k) => together[k]!.push(p));
    }
    expect(batcher.rows - rows).toBe(40 * calls);
    expect(batcher.runs - runs).toBe(40);
    for (let k = 0; k < calls; k++) {
      for (let i = 0; i < 40; i++) expect(Math.abs(together[k]![i]! - alone[k]![i]!)).toBeLessThan(1e-4);
    }
    // The recording's speech and pauses are told apart in the batch too.
    const flat = together.flat();
    expect(Math.max(...flat)).toBeGreaterThan(0.9);
    expect(Math.min(...flat)).toBeLessThan(0.1);
  });

  it('maps each row to its state, splits a batch above MAX_BATCH, rejects every row of a failed run, and refuses wrong sizes', async () => {
    const seen: number[] = [];
    const w = 4;
    const b = new SileroBatcher(
      async (input, state, batch) => {
        seen.push(batch);
        if (batch === 6) throw new Error('model failed');
        // output = the row's first input sample; next state = the row's state + 1 (layer-major [2, batch, w]).
        const output = new Float32Array(batch).map((_, i) => input[i * 3]!);
        return { output, stateN: state.map((v) => v + 1) };
      },
      3,
      w,
    );
    const row = (i: number) => b.run(Float32Array.of(i, 0, 0), Float32Array.from({ length: 2 * w }, (_, j) => i * 100 + j));
    const results = await Promise.allSettled(Array.from({ length: 70 }, (_, i) => row(i)));
    expect(seen).toEqual([64, 6]);
    const done = results.slice(0, 64).map((r) => (r.status === 'fulfilled' ? r.value : null));
    done.forEach((v, i) => {
      expect(v?.prob).toBe(i);
      expect([...v!.state]).toEqual(Array.from({ length: 2 * w }, (_, j) => i * 100 + j + 1));
    });
    expect(results.slice(64).every((r) => r.status === 'rejected' && /model failed/.test(String(r.reason)))).toBe(true);
    await expect(b.run(new Float32Array(2), new Float32Array(8))).rejects.toThrow(/input 2 \(want 3\)/);
  });
});
