/**
 * Silero inferences of every call of the process, run as one batch per event-loop turn. The
 * receive batch (transport/receive-batch.ts) hands every call its audio in one drain per
 * 20 ms tick, so the windows the calls complete in that drain are asked for together; run one by
 * one, each inference pays onnxruntime's fixed cost per run (tensors, a native call, its own
 * setImmediate). Measured on this model with one intra-op thread: 142 us of CPU per window run
 * alone, 51 us per window in batches of 10, 37 us in batches of 20 (bench: onnxruntime-node,
 * Silero v5, 2 shared cores). Each call's row of the batch is computed independently, so a
 * call's probabilities and state are those of a run of its own (silero-batch.test.ts).
 *
 * The batch is flushed on setImmediate after its first request: requests made in the same turn
 * (the drain's microtasks) join it; nothing waits for a later turn. At most MAX_BATCH rows per run.
 */

/** One request: [context | window] and the call's recurrent state; its probability and next state. */
interface Request {
  input: Float32Array;
  state: Float32Array;
  resolve(out: { prob: number; state: Float32Array }): void;
  reject(err: unknown): void;
}

/** Runs the model on `batch` rows: input [batch, inputSamples], state [2, batch, stateWidth]. */
export type RunBatch = (input: Float32Array, state: Float32Array, batch: number) => Promise<{ output: Float32Array; stateN: Float32Array }>;

/** Rows per run; beyond it, the batch is split (60 windows measured 34 us each, no better than 20). */
export const MAX_BATCH = 64;

export class SileroBatcher {
  readonly #run: RunBatch;
  readonly #inputSamples: number;
  /** State per row and layer: the model's state is [2, batch, stateWidth]. */
  readonly #stateWidth: number;
  #queue: Request[] = [];
  #scheduled = false;
  /** Rows and runs so far (tests, and the batch size they average to). */
  rows = 0;
  runs = 0;

  constructor(run: RunBatch, inputSamples: number, stateWidth: number) {
    this.#run = run;
    this.#inputSamples = inputSamples;
    this.#stateWidth = stateWidth;
  }

  /** Queues one inference for the next batch. `input` and `state` are not modified or kept after it resolves. */
  run(input: Float32Array, state: Float32Array): Promise<{ prob: number; state: Float32Array }> {
    if (input.length !== this.#inputSamples || state.length !== 2 * this.#stateWidth) {
      return Promise.reject(new RangeError(`Silero batch: input ${input.length} (want ${this.#inputSamples}), state ${state.length} (want ${2 * this.#stateWidth})`));
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ input, state, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(this.#flush);
      }
    });
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    const queue = this.#queue;
    this.#queue = [];
    for (let at = 0; at < queue.length; at += MAX_BATCH) void this.#runBatch(queue.slice(at, at + MAX_BATCH));
  };

  async #runBatch(rows: Request[]): Promise<void> {
    const b = rows.length;
    const w = this.#stateWidth;
    const input = new Float32Array(b * this.#inputSamples);
    const state = new Float32Array(2 * b * w);
    rows.forEach((r, i) => {
      input.set(r.input, i * this.#inputSamples);
      // [2, 1, w] per call -> layer l of row i at (l * b + i) * w.
      state.set(r.state.subarray(0, w), i * w);
      state.set(r.state.subarray(w, 2 * w), (b + i) * w);
    });
    this.rows += b;
    this.runs++;
    let out: Awaited<ReturnType<RunBatch>>;
    try {
      out = await this.#run(input, state, b);
      if (out.output.length < b || out.stateN.length !== 2 * b * w) throw new Error('unexpected Silero output');
    } catch (err) {
      for (const r of rows) r.reject(err);
      return;
    }
    rows.forEach((r, i) => {
      const next = new Float32Array(2 * w);
      next.set(out.stateN.subarray(i * w, (i + 1) * w), 0);
      next.set(out.stateN.subarray((b + i) * w, (b + i + 1) * w), w);
      r.resolve({ prob: out.output[i] ?? 0, state: next });
    });
  }
}
