/**
 * The bounded buffer between a TTS provider's socket and the `audio` iterator the cascade reads.
 * A provider synthesizes much faster than real time, and the reader may be slow (it may read at
 * playout pace), so the queue holds at most about `highWaterSamples`: past it, `onPause` stops
 * reading the socket (TCP then throttles the provider); once the reader drains it to
 * `lowWaterSamples`, `onResume` reads again. Shared by the ElevenLabs and Cartesia TTS adapters.
 *
 * One reader. The iterator yields queued chunks in order, then ends (`end()`) or throws
 * (`fail(err)`) once they are drained; `abort()` drops what is queued and ends it at once.
 */
import type { TtsChunk, WordTiming } from '../types.ts';

export interface ChunkQueueOptions {
  /** Above this many queued samples the socket is paused. */
  highWaterSamples: number;
  /** At or below this many queued samples a paused socket resumes. */
  lowWaterSamples: number;
  onPause(): void;
  onResume(): void;
  /** The reader stopped early (`break` out of `for await`): release the connection. */
  onReaderGone(): void;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export class ChunkQueue implements AsyncIterable<TtsChunk> {
  readonly #options: ChunkQueueOptions;
  readonly #chunks: Mutable<TtsChunk>[] = [];
  #queuedSamples = 0;
  #maxQueuedSamples = 0;
  #paused = false;
  /** null while open; then how the iterator ends once drained. */
  #outcome: { error?: unknown } | null = null;
  #wake: (() => void) | null = null;
  #iterated = false;

  constructor(options: ChunkQueueOptions) {
    if (!(options.lowWaterSamples >= 0 && options.highWaterSamples >= options.lowWaterSamples)) {
      throw new RangeError(`ChunkQueue needs 0 <= lowWaterSamples <= highWaterSamples, got ${options.lowWaterSamples} and ${options.highWaterSamples}`);
    }
    this.#options = options;
  }

  /** Samples waiting for the reader. */
  get queuedSamples(): number {
    return this.#queuedSamples;
  }

  /** The most samples ever waiting at once: what the bound held to. */
  get maxQueuedSamples(): number {
    return this.#maxQueuedSamples;
  }

  get paused(): boolean {
    return this.#paused;
  }

  get closed(): boolean {
    return this.#outcome !== null;
  }

  /** Queues audio (and the words it completes). Ignored once ended. */
  push(samples: Int16Array, words?: readonly WordTiming[]): void {
    if (this.#outcome) return;
    if (samples.length === 0) {
      if (words?.length) this.addWords(words);
      return;
    }
    this.#chunks.push(words?.length ? { samples, words: [...words] } : { samples });
    this.#queuedSamples += samples.length;
    this.#maxQueuedSamples = Math.max(this.#maxQueuedSamples, this.#queuedSamples);
    if (!this.#paused && this.#queuedSamples > this.#options.highWaterSamples) {
      this.#paused = true;
      this.#options.onPause();
    }
    this.#notify();
  }

  /** Word timings without audio of their own: joined to the last chunk not yet read, else a chunk of no samples. */
  addWords(words: readonly WordTiming[]): void {
    if (this.#outcome || words.length === 0) return;
    const last = this.#chunks.at(-1);
    if (last) last.words = [...(last.words ?? []), ...words];
    else this.#chunks.push({ samples: new Int16Array(0), words: [...words] });
    this.#notify();
  }

  /** No more chunks: the iterator ends once the queued ones are read. */
  end(): void {
    if (this.#outcome) return;
    this.#outcome = {};
    this.#notify();
  }

  /** The reply failed: the iterator throws `error` once the queued chunks are read. */
  fail(error: unknown): void {
    if (this.#outcome) return;
    this.#outcome = { error };
    this.#notify();
  }

  /** Drops everything queued and ends the iterator now, without error. */
  abort(): void {
    this.#chunks.length = 0;
    this.#queuedSamples = 0;
    this.#outcome = {};
    this.#notify();
  }

  [Symbol.asyncIterator](): AsyncIterator<TtsChunk> {
    if (this.#iterated) throw new Error('TTS audio can be iterated once');
    this.#iterated = true;
    return {
      next: () => this.#next(),
      return: async () => {
        if (!this.#outcome) this.#options.onReaderGone();
        this.abort();
        return { done: true, value: undefined };
      },
    };
  }

  async #next(): Promise<IteratorResult<TtsChunk>> {
    for (;;) {
      const chunk = this.#chunks.shift();
      if (chunk) {
        this.#queuedSamples -= chunk.samples.length;
        if (this.#paused && this.#queuedSamples <= this.#options.lowWaterSamples) {
          this.#paused = false;
          if (!this.#outcome) this.#options.onResume();
        }
        return { done: false, value: chunk };
      }
      if (this.#outcome) {
        if ('error' in this.#outcome) {
          const { error } = this.#outcome;
          this.#outcome = {};
          throw error;
        }
        return { done: true, value: undefined };
      }
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}
