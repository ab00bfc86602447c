/**
 * Offline speech recognition of whole utterances against a JSGF grammar with CMU pocketsphinx
 * (Debian's 0.8+5prealpha, BSD-2), run out of process:
 *
 *   const asr = await createRecognizer({ grammar: '#JSGF V1.0; grammar g; public <s> = yes | no;' });
 *   const { text } = await asr.recognize(turn, ctx.signal); // 'yes', 'no' or '' (nothing matched)
 *   await asr.close();
 *
 * How: one long-lived `pocketsphinx_batch` per recognizer (pocketsphinx-process.ts); each
 * utterance is resampled to 16 kHz mono, written to a raw PCM file in a private temp dir and named
 * on the process's control FIFO; the hypseg line it writes back is the result. Measured on the
 * 2-core dev VM for a 1.4 s utterance ("what time is it", Flite rms): a process per utterance
 * (`pocketsphinx_continuous -infile`) takes 130-160 ms, of which ~100 ms is loading the model and
 * dictionary; the long-lived process answers in 15-25 ms (45 ms for 3 s), after one ~110 ms load
 * at start-up. So: one process, utterances in series (a queue), a 5-10x lower latency.
 *
 * Limits: at most `maxPending` recognitions in flight or waiting (more: RecognizerBusyError), at
 * most `maxUtteranceMs` of audio per utterance (RangeError), `timeoutMs` per decode (the process
 * is killed and restarted for the next one), at most `maxRestarts` restarts per `restartWindowMs`
 * (then the recognizer fails for good: RecognizerFailedError). createRecognizer decodes a short
 * silence before resolving, so a missing binary or model, or a grammar word not in the
 * dictionary, fails at start-up with pocketsphinx's own message, not at the first turn.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { durationMs, type AudioFrame } from '../audio/frame.ts';
import { silence, toMono } from '../audio/pcm.ts';
import { resampleOnce } from '../audio/resampler.ts';
import { parseHypseg } from './pocketsphinx-hypseg.ts';
import { POCKETSPHINX_INSTALL_HINT, PocketsphinxMissingError, PocketsphinxProcess } from './pocketsphinx-process.ts';

export { PocketsphinxMissingError, PocketsphinxTimeoutError, POCKETSPHINX_INSTALL_HINT } from './pocketsphinx-process.ts';

/** The rate of the en-us acoustic model. */
export const POCKETSPHINX_SAMPLE_RATE = 16_000;
export const DEFAULT_MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';

export interface RecognizerOptions {
  /** JSGF grammar text; its first public rule is what an utterance may be. */
  grammar: string;
  /** Holds `en-us/` (acoustic model) and `cmudict-en-us.dict`. Default DEFAULT_MODEL_DIR. */
  modelDir?: string;
  /** Default 'pocketsphinx_batch', found on `env.PATH`. */
  command?: string;
  /** The child's environment. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Recognitions in flight or waiting. Default 8: 8 × ~25 ms is well under a turn's pause. */
  maxPending?: number;
  /** Per utterance. Default 10 000: ~50 × the measured 20 ms per 1.5 s, for a loaded machine. */
  timeoutMs?: number;
  /** Default 40 000: a replyOnPause turn is cut at 30 s of speech, plus pre-roll and tail. */
  maxUtteranceMs?: number;
  /** Process restarts (after a timeout or crash) allowed per window. Default 3 per 60 000 ms. */
  maxRestarts?: number;
  restartWindowMs?: number;
}

export interface Recognition {
  /** The recognized words joined by spaces ('' when the utterance matched nothing). */
  text: string;
  words: string[];
  /** Mean acoustic score per speech frame (see pocketsphinx-hypseg.ts); 0 when no words. */
  scorePerFrame: number;
  /** The recognize() call to its result, queueing included. */
  ms: number;
}

export interface Recognizer {
  recognize(frame: AudioFrame, signal?: AbortSignal): Promise<Recognition>;
  /** Kills the process, rejects what is pending, removes the temp dir. */
  close(): Promise<void>;
  readonly stats: { readonly pending: number; readonly restarts: number; readonly pid: number | undefined };
}

export class RecognizerBusyError extends Error {
  override name = 'RecognizerBusyError';
}
export class RecognizerFailedError extends Error {
  override name = 'RecognizerFailedError';
}

interface Job {
  frame: AudioFrame;
  signal: AbortSignal | undefined;
  startedAt: number;
  resolve: (r: Recognition) => void;
  reject: (err: unknown) => void;
}

export async function createRecognizer(options: RecognizerOptions): Promise<Recognizer> {
  if (typeof options?.grammar !== 'string' || !options.grammar.includes('public')) {
    throw new TypeError('createRecognizer: grammar must be JSGF text with a public rule');
  }
  const modelDir = options.modelDir ?? DEFAULT_MODEL_DIR;
  const dict = join(modelDir, 'cmudict-en-us.dict');
  const hmm = join(modelDir, 'en-us');
  if (!existsSync(dict) || !existsSync(hmm)) {
    throw new PocketsphinxMissingError(`pocketsphinx model not found in ${modelDir}: ${POCKETSPHINX_INSTALL_HINT}`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-pocketsphinx-'));
  const grammarPath = join(dir, 'grammar.gram');
  await writeFile(grammarPath, options.grammar);
  const r = new PocketsphinxRecognizer(options, dir, [
    '-adcin', 'yes', '-cepdir', dir, '-cepext', '.raw',
    '-hyp', '/dev/null',
    '-jsgf', grammarPath, '-hmm', hmm, '-dict', dict,
  ]);
  try {
    await r.recognize(silence(POCKETSPHINX_SAMPLE_RATE, 1, 100));
  } catch (err) {
    await r.close();
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof PocketsphinxMissingError) throw err;
    throw new RecognizerFailedError(`pocketsphinx failed to start (grammar words must be lowercase words of ${dict}): ${message}`, { cause: err });
  }
  return r;
}

class PocketsphinxRecognizer implements Recognizer {
  readonly #o: Required<Omit<RecognizerOptions, 'grammar' | 'modelDir'>>;
  readonly #dir: string;
  readonly #args: string[];
  readonly #queue: Job[] = [];
  readonly #restartTimes: number[] = [];
  #proc: PocketsphinxProcess | undefined;
  #spawned = 0;
  #busy = false;
  #next = 0;
  #failed: Error | undefined;

  constructor(o: RecognizerOptions, dir: string, args: string[]) {
    this.#o = {
      command: o.command ?? 'pocketsphinx_batch',
      env: o.env ?? process.env,
      maxPending: o.maxPending ?? 8,
      timeoutMs: o.timeoutMs ?? 10_000,
      maxUtteranceMs: o.maxUtteranceMs ?? 40_000,
      maxRestarts: o.maxRestarts ?? 3,
      restartWindowMs: o.restartWindowMs ?? 60_000,
    };
    this.#dir = dir;
    this.#args = args;
  }

  get stats() {
    return { pending: this.#queue.length + (this.#busy ? 1 : 0), restarts: Math.max(0, this.#spawned - 1), pid: this.#proc?.pid };
  }

  recognize(frame: AudioFrame, signal?: AbortSignal): Promise<Recognition> {
    if (this.#failed) return Promise.reject(this.#failed);
    if (signal?.aborted) return Promise.reject(signal.reason);
    const ms = durationMs(frame);
    if (ms > this.#o.maxUtteranceMs) {
      return Promise.reject(new RangeError(`recognize: utterance of ${Math.round(ms)} ms is longer than the ${this.#o.maxUtteranceMs} ms limit`));
    }
    if (this.stats.pending >= this.#o.maxPending) {
      return Promise.reject(new RecognizerBusyError(`recognize: ${this.#o.maxPending} recognitions already pending (the limit): try again later`));
    }
    return new Promise<Recognition>((resolve, reject) => {
      // An abort answers at once; a decode in flight still finishes (bounded by timeoutMs, ~20 ms
      // usually) and its result is dropped: killing the process would cost a ~110 ms reload.
      const onAbort = () => reject(signal!.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      const settled = () => signal?.removeEventListener('abort', onAbort);
      const job: Job = {
        frame,
        signal,
        startedAt: performance.now(),
        resolve: (r) => (settled(), resolve(r)),
        reject: (err) => (settled(), reject(err)),
      };
      this.#queue.push(job);
      void this.#pump();
    });
  }

  async close(): Promise<void> {
    this.#failed ??= new RecognizerFailedError('recognizer closed');
    for (const job of this.#queue.splice(0)) job.reject(this.#failed);
    this.#proc?.kill();
    this.#proc = undefined;
    await rm(this.#dir, { recursive: true, force: true });
  }

  async #pump(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      for (let job = this.#queue.shift(); job; job = this.#queue.shift()) {
        if (job.signal?.aborted) continue;
        try {
          job.resolve(await this.#run(job));
        } catch (err) {
          job.reject(err);
        }
      }
    } finally {
      this.#busy = false;
    }
  }

  async #run(job: Job): Promise<Recognition> {
    if (this.#failed) throw this.#failed;
    const mono = toMono(job.frame);
    const pcm = await resampleOnce(mono, POCKETSPHINX_SAMPLE_RATE);
    const uttId = `u${++this.#next}`;
    const file = join(this.#dir, `${uttId}.raw`);
    // Int16Array bytes are little-endian on every platform Node runs the worker on (-input_endian little).
    await writeFile(file, new Uint8Array(pcm.samples.buffer, pcm.samples.byteOffset, pcm.samples.byteLength));
    try {
      const line = await this.#process().decode(uttId, this.#o.timeoutMs);
      const h = parseHypseg(line);
      return { text: h.words.join(' '), words: h.words, scorePerFrame: h.scorePerFrame, ms: performance.now() - job.startedAt };
    } finally {
      if (this.#proc && !this.#proc.alive) this.#proc = undefined; // restarted by the next job
      await unlink(file).catch(() => {});
    }
  }

  /** The live process, spawning one (counted against the restart limit after the first). */
  #process(): PocketsphinxProcess {
    if (this.#failed) throw this.#failed;
    if (this.#proc?.alive) return this.#proc;
    if (this.#spawned > 0) {
      const now = performance.now();
      while (this.#restartTimes.length > 0 && now - this.#restartTimes[0]! > this.#o.restartWindowMs) this.#restartTimes.shift();
      if (this.#restartTimes.length >= this.#o.maxRestarts) {
        this.#failed = new RecognizerFailedError(
          `pocketsphinx was restarted ${this.#o.maxRestarts} times within ${this.#o.restartWindowMs} ms (timeouts or crashes); giving up`,
        );
        void this.close();
        throw this.#failed;
      }
      this.#restartTimes.push(now);
    }
    this.#spawned++;
    this.#proc = new PocketsphinxProcess({ command: this.#o.command, args: this.#args, env: this.#o.env, fifoPrefix: join(this.#dir, `p${this.#spawned}`) });
    return this.#proc;
  }
}
