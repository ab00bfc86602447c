/**
 * Worker threads that run Flite, with a bounded FIFO queue of synthesis requests.
 *
 * - Threads start lazily on the first request. The first one compiles flite.wasm and hands the
 *   compiled module back; any later thread (a second one, or a replacement for a crashed or
 *   timed-out one) is given that module: one compile per process.
 * - At most `maxQueued` requests wait (not counting those running); one more is refused at once
 *   with FliteBusyError rather than queued behind seconds of other callers' speech.
 * - An aborted request leaves the queue at once and its promise rejects with the signal's
 *   reason; one already running finishes in its thread (a sentence takes tens of ms) and its
 *   audio is dropped.
 * - A request that runs longer than `jobTimeoutMs` gets its thread terminated (Flite stuck in a
 *   loop must not take the thread forever) and fails; the next request starts a fresh thread.
 * - Threads are unref'd while idle, so an idle pool does not keep the process alive.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { FliteVoice } from './flite-voices.ts';
import type { WasmModule } from './flite-wasi.ts';
import type { FliteRequest, FliteWorkerMessage } from './flite-worker.ts';

export interface FlitePoolOptions {
  /** Worker threads. Default: one per core beyond the main thread's, at least 1, at most 4. */
  threads?: number;
  /** Requests that may wait for a thread. Default 32. */
  maxQueued?: number;
  /** A request running longer than this kills its thread. Default 10000 ms. */
  jobTimeoutMs?: number;
}

export interface FliteAudio {
  samples: Int16Array;
  sampleRate: number;
  synthMs: number;
}

export interface FlitePoolStats {
  threads: number;
  running: number;
  queued: number;
  completed: number;
  failed: number;
  /** Times a thread compiled flite.wasm (1 after the first request: later threads reuse it). */
  compiles: number;
  /** CPU time the threads spent running Flite, ms (the work kept off the main thread). */
  synthMs: number;
  /** Time the first thread took to compile flite.wasm (undefined until it has). */
  compileMs: number | undefined;
}

/** Refused: too many synthesis requests are waiting already. */
export class FliteBusyError extends Error {
  readonly code = 'FLITE_BUSY';
  constructor(maxQueued: number) {
    super(`Flite synthesis queue is full (${maxQueued} requests waiting): try again later`);
    this.name = 'FliteBusyError';
  }
}

interface Job extends FliteRequest {
  resolve(audio: FliteAudio): void;
  reject(err: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

interface Thread {
  worker: Worker;
  ready: boolean;
  job: Job | undefined;
  timer: NodeJS.Timeout | undefined;
}

const WORKER_URL = new URL('./flite-worker.ts', import.meta.url);

export class FlitePool {
  readonly threads: number;
  readonly maxQueued: number;
  readonly jobTimeoutMs: number;
  #pool: Thread[] = [];
  #queue: Job[] = [];
  #module: WasmModule | undefined;
  #compileMs: number | undefined;
  #compiles = 0;
  #synthMs = 0;
  #nextId = 1;
  #completed = 0;
  #failed = 0;
  #closed = false;

  constructor(options: FlitePoolOptions = {}) {
    this.threads = options.threads ?? Math.max(1, Math.min(4, availableParallelism() - 1));
    this.maxQueued = options.maxQueued ?? 32;
    this.jobTimeoutMs = options.jobTimeoutMs ?? 10_000;
    if (!Number.isInteger(this.threads) || this.threads < 1) throw new RangeError(`threads must be a positive integer, not ${this.threads}`);
    if (!Number.isInteger(this.maxQueued) || this.maxQueued < 0) throw new RangeError(`maxQueued must be an integer >= 0, not ${this.maxQueued}`);
  }

  /** Synthesizes `text` (one sentence or so) with `voice`; audio at the voice's native rate. */
  synthesize(voice: FliteVoice, text: string, signal?: AbortSignal): Promise<FliteAudio> {
    if (this.#closed) return Promise.reject(new Error('Flite pool is closed'));
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#queue.length >= this.maxQueued && !this.#pool.some((t) => t.ready && !t.job)) {
      return Promise.reject(new FliteBusyError(this.maxQueued));
    }
    return new Promise<FliteAudio>((resolve, reject) => {
      const job: Job = { id: this.#nextId++, voice, text, resolve, reject, signal, onAbort: undefined };
      if (signal) {
        job.onAbort = () => this.#abort(job);
        signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.#queue.push(job);
      this.#dispatch();
    });
  }

  stats(): FlitePoolStats {
    return {
      threads: this.#pool.length,
      running: this.#pool.filter((t) => t.job).length,
      queued: this.#queue.length,
      completed: this.#completed,
      failed: this.#failed,
      compiles: this.#compiles,
      synthMs: this.#synthMs,
      compileMs: this.#compileMs,
    };
  }

  /** Stops the threads; waiting and running requests fail. */
  async close(): Promise<void> {
    this.#closed = true;
    const err = new Error('Flite pool closed');
    for (const job of this.#queue.splice(0)) this.#settle(job, err);
    await Promise.all([...this.#pool].map((t) => this.#kill(t, err)));
  }

  #dispatch(): void {
    for (const t of this.#pool) {
      if (!t.ready || t.job) continue;
      const job = this.#queue.shift();
      if (!job) break;
      t.job = job;
      t.worker.ref();
      t.timer = setTimeout(() => void this.#kill(t, new Error(`Flite took longer than ${this.jobTimeoutMs} ms: synthesis thread restarted`)), this.jobTimeoutMs);
      t.worker.postMessage({ id: job.id, voice: job.voice, text: job.text } satisfies FliteRequest);
    }
    // Start threads for waiting work; beyond the first, only once the module is compiled.
    const starting = this.#pool.filter((t) => !t.ready).length;
    const wanted = Math.min(this.threads - this.#pool.length, this.#queue.length - starting);
    if (wanted > 0 && (this.#module || this.#pool.length === 0)) {
      for (let i = 0; i < (this.#module ? wanted : 1); i++) this.#start();
    }
  }

  #start(): void {
    const worker = new Worker(WORKER_URL, { workerData: { module: this.#module }, stdout: false, stderr: false });
    const t: Thread = { worker, ready: false, job: undefined, timer: undefined };
    this.#pool.push(t);
    worker.on('message', (msg: FliteWorkerMessage) => this.#onMessage(t, msg));
    worker.on('error', (err) => void this.#kill(t, err));
    worker.on('exit', (code) => this.#onExit(t, code));
  }

  #onMessage(t: Thread, msg: FliteWorkerMessage): void {
    if (msg.type === 'ready') {
      t.ready = true;
      if (msg.compiled) this.#compiles++;
      if (!this.#module) {
        this.#module = msg.module;
        this.#compileMs = msg.compileMs;
      }
      t.worker.unref();
      this.#dispatch();
      return;
    }
    const job = t.job;
    if (!job || job.id !== msg.id) return;
    clearTimeout(t.timer);
    t.job = undefined;
    t.worker.unref();
    if (msg.type === 'result') {
      this.#completed++;
      this.#synthMs += msg.synthMs;
      this.#settle(job, undefined, { samples: msg.samples, sampleRate: msg.sampleRate, synthMs: msg.synthMs });
    } else {
      this.#failed++;
      this.#settle(job, new Error(msg.message));
    }
    this.#dispatch();
  }

  #onExit(t: Thread, code: number): void {
    const i = this.#pool.indexOf(t);
    if (i < 0) return;
    this.#pool.splice(i, 1);
    clearTimeout(t.timer);
    const err = new Error(`Flite synthesis thread exited (code ${code})`);
    if (t.job) {
      this.#failed++;
      this.#settle(t.job, err);
    }
    // A thread that died before it was ready (flite.wasm missing or broken) fails what waits,
    // rather than being restarted in a loop; the next request tries again.
    if (!t.ready) for (const job of this.#queue.splice(0)) this.#settle(job, err);
    if (!this.#closed) this.#dispatch();
  }

  async #kill(t: Thread, err: unknown): Promise<void> {
    clearTimeout(t.timer);
    // Out of the pool first: nothing may be dispatched to it while it dies. Its 'exit' then finds
    // it gone and does nothing; the next dispatch starts a replacement.
    const i = this.#pool.indexOf(t);
    if (i >= 0) this.#pool.splice(i, 1);
    if (t.job) {
      this.#failed++;
      this.#settle(t.job, err);
      t.job = undefined;
    }
    if (!t.ready) for (const job of this.#queue.splice(0)) this.#settle(job, err);
    const exited = t.worker.terminate();
    if (!this.#closed) this.#dispatch();
    await exited;
  }

  #abort(job: Job): void {
    const i = this.#queue.indexOf(job);
    if (i >= 0) this.#queue.splice(i, 1);
    // Running: the thread finishes the sentence; its result finds the job settled and is dropped.
    this.#settle(job, job.signal!.reason);
  }

  #settle(job: Job, err: unknown, audio?: FliteAudio): void {
    if (job.onAbort) job.signal!.removeEventListener('abort', job.onAbort);
    job.onAbort = undefined;
    const { resolve, reject } = job;
    // Later calls (a result after an abort) do nothing.
    job.resolve = () => {};
    job.reject = () => {};
    if (audio) resolve(audio);
    else reject(err);
  }
}

let shared: FlitePool | undefined;

/** The process's pool, made on first use (no thread starts until the first request). */
export function sharedFlitePool(): FlitePool {
  shared ??= new FlitePool();
  return shared;
}
