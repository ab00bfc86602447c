/**
 * Silero VAD v5 on onnxruntime-node (CPU). One InferenceSession per model file per process,
 * shared by every call; each call gets its own `SileroStream` holding the recurrent state and the
 * 64-sample context, carried exactly like the Python `OnnxWrapper` of snakers4/silero-vad:
 * the model input is [context (64) | window (512)] and the next context is the last 64 samples of
 * that input (= the tail of the current window).
 */
import { createRequire } from 'node:module';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { addStageMs, enterStage, exitStage, Stage, stageTimingOn } from '../telemetry/stage-cpu.ts';
import { SileroBatcher } from './silero-batch.ts';

/** The only rate the model is run at here. */
export const SILERO_SAMPLE_RATE = 16_000;
/** Samples per inference window at 16 kHz (32 ms). */
export const SILERO_WINDOW_SAMPLES = 512;
/** Samples of the previous window prepended to each window at 16 kHz. */
export const SILERO_CONTEXT_SAMPLES = 64;
/** Recurrent state per call: float32 [2, 1, 128] (two layers of 128). */
const STATE_WIDTH = 128;
const STATE_SIZE = 2 * STATE_WIDTH;
const INPUT_SAMPLES = SILERO_CONTEXT_SAMPLES + SILERO_WINDOW_SAMPLES;

/** Path of the v5 model shipped in the installed `@ricky0123/vad-web` package. */
export function defaultSileroModelPath(): string {
  return createRequire(import.meta.url).resolve('@ricky0123/vad-web/dist/silero_vad_v5.onnx');
}

const loaded = new Map<string, Promise<SileroModel>>();

export class SileroModel {
  /** Read-only, shared by every run. */
  private readonly srTensor = new Tensor('int64', BigInt64Array.of(BigInt(SILERO_SAMPLE_RATE)), []);

  private readonly session: InferenceSession;
  readonly path: string;

  private constructor(session: InferenceSession, path: string) {
    this.session = session;
    this.path = path;
  }

  /**
   * Loads the model once per path per process; later calls return the same instance. A failed load
   * is not cached.
   */
  static load(modelPath: string = defaultSileroModelPath()): Promise<SileroModel> {
    let p = loaded.get(modelPath);
    if (!p) {
      p = SileroModel.create(modelPath);
      loaded.set(modelPath, p);
      p.catch(() => loaded.delete(modelPath));
    }
    return p;
  }

  private static async create(modelPath: string): Promise<SileroModel> {
    const session = await InferenceSession.create(modelPath, {
      executionProviders: ['cpu'],
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    const missing = [
      ...['input', 'state', 'sr'].filter((n) => !session.inputNames.includes(n)),
      ...['output', 'stateN'].filter((n) => !session.outputNames.includes(n)),
    ];
    if (missing.length > 0) {
      await session.release();
      throw new Error(`${modelPath}: not a Silero v5 model (missing ${missing.join(', ')})`);
    }
    return new SileroModel(session, modelPath);
  }

  /** A new per-call stream with zero state and zero context. */
  createStream(): SileroStream {
    return new SileroStream(this);
  }

  /**
   * One inference. `input` is [context | window] (576 samples); `state` is [2, 1, 128]. Run in
   * the batch of every call's windows asked for in the same turn (silero-batch.ts).
   * @internal used by SileroStream
   */
  run(input: Float32Array, state: Float32Array): Promise<{ prob: number; state: Float32Array }> {
    return this.batcher.run(input, state);
  }

  private readonly batcher = new SileroBatcher(
    async (input, state, batch) => {
      const feeds = { input: new Tensor('float32', input, [batch, INPUT_SAMPLES]), state: new Tensor('float32', state, [2, batch, STATE_WIDTH]), sr: this.srTensor };
      const out = await (stageTimingOn() ? this.timedRun(feeds) : this.session.run(feeds));
      const output = out['output']?.data;
      const stateN = out['stateN']?.data;
      if (!(output instanceof Float32Array) || !(stateN instanceof Float32Array)) throw new Error('unexpected Silero output');
      return { output, stateN };
    },
    INPUT_SAMPLES,
    STATE_WIDTH,
  );

  /**
   * session.run() timed as the 'vad' stage (telemetry/stage-cpu.ts): its synchronous part, then
   * the model itself, which onnxruntime-node runs synchronously inside a setImmediate it queues
   * during the call. An immediate queued just before the call runs just before that one (FIFO,
   * nothing can be queued between them), and the await below resumes in the microtasks right
   * after it: so from that immediate to the resumption is the inference (and its output tensors),
   * not the time other work held the event loop while the inference waited.
   */
  private async timedRun(feeds: InferenceSession.FeedsType): Promise<InferenceSession.OnnxValueMapType> {
    let startedAt = 0;
    setImmediate(() => (startedAt = performance.now()));
    enterStage(Stage.vad);
    let running: Promise<InferenceSession.OnnxValueMapType>;
    try {
      running = this.session.run(feeds);
    } finally {
      exitStage();
    }
    const out = await running;
    if (startedAt > 0) addStageMs(Stage.vad, performance.now() - startedAt);
    return out;
  }
}

/** Per-call model state. Calls to `infer` are run one at a time, in call order. */
export class SileroStream {
  private readonly model: SileroModel;
  private state: Float32Array = new Float32Array(STATE_SIZE);
  private context: Float32Array = new Float32Array(SILERO_CONTEXT_SAMPLES);
  private tail: Promise<unknown> = Promise.resolve();
  /** Bumped by reset() so an inference in flight cannot write back stale state. */
  private generation = 0;

  constructor(model: SileroModel) {
    this.model = model;
  }

  /** Speech probability of one window: 512 samples at 16 kHz, in [-1, 1]. */
  infer(window: Float32Array): Promise<number> {
    if (window.length !== SILERO_WINDOW_SAMPLES) {
      return Promise.reject(new RangeError(`Silero window must be ${SILERO_WINDOW_SAMPLES} samples, got ${window.length}`));
    }
    // Copy now: the caller may reuse its buffer before our turn comes.
    const samples = Float32Array.from(window);
    const result = this.tail.then(() => this.step(samples));
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Zero state and context (a new utterance stream). */
  reset(): void {
    this.generation++;
    this.state = new Float32Array(STATE_SIZE);
    this.context = new Float32Array(SILERO_CONTEXT_SAMPLES);
  }

  private async step(window: Float32Array): Promise<number> {
    const generation = this.generation;
    const input = new Float32Array(INPUT_SAMPLES);
    input.set(this.context, 0);
    input.set(window, SILERO_CONTEXT_SAMPLES);
    const { prob, state } = await this.model.run(input, this.state);
    if (generation === this.generation) {
      this.state = state;
      this.context = input.slice(INPUT_SAMPLES - SILERO_CONTEXT_SAMPLES);
    }
    return prob;
  }
}
