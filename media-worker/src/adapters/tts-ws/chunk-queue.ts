/**
 * The bounded buffer between a TTS provider's socket and the `audio` iterator the cascade reads:
 * a `FlowQueue` of chunks weighted by their samples (the bound and its pause/resume, end/fail/abort
 * and the reader-gone callback are its), plus word timings, which providers send with the audio
 * or apart from it. Shared by the ElevenLabs and Cartesia TTS adapters.
 *
 * A failure reaches the reader after the chunks already queued: the audio the provider did
 * deliver is still played.
 */
import { FlowQueue } from '../shared/flow-queue.ts';
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
  readonly #queue: FlowQueue<Mutable<TtsChunk>>;

  constructor(o: ChunkQueueOptions) {
    this.#queue = new FlowQueue({
      bound: { kind: 'pause', highWater: o.highWaterSamples, lowWater: o.lowWaterSamples, onPause: () => o.onPause(), onResume: () => o.onResume() },
      failure: 'after-drain',
      onReaderGone: () => o.onReaderGone(),
      name: 'TTS audio',
    });
  }

  /** Samples waiting for the reader. */
  get queuedSamples(): number {
    return this.#queue.weight;
  }

  /** The most samples ever waiting at once: what the bound held to. */
  get maxQueuedSamples(): number {
    return this.#queue.stats.peakWeight;
  }

  get paused(): boolean {
    return this.#queue.paused;
  }

  get closed(): boolean {
    return this.#queue.ended;
  }

  /** Queues audio (and the words it completes). Ignored once ended. */
  push(samples: Int16Array, words?: readonly WordTiming[]): void {
    if (samples.length === 0) return this.addWords(words ?? []);
    this.#queue.push(words?.length ? { samples, words: [...words] } : { samples }, samples.length);
  }

  /** Word timings without audio of their own: joined to the last chunk not yet read, else a chunk of no samples. */
  addWords(words: readonly WordTiming[]): void {
    if (this.#queue.ended || words.length === 0) return;
    const last = this.#queue.last();
    if (last) last.words = [...(last.words ?? []), ...words];
    else this.#queue.push({ samples: new Int16Array(0), words: [...words] }, 0);
  }

  /** No more chunks: the iterator ends once the queued ones are read. */
  end(): void {
    this.#queue.end();
  }

  /** The reply failed: the iterator throws `error` once the queued chunks are read. */
  fail(error: unknown): void {
    this.#queue.fail(error);
  }

  /** Drops everything queued and ends the iterator now, without error. */
  abort(): void {
    this.#queue.abort();
  }

  [Symbol.asyncIterator](): AsyncIterator<TtsChunk> {
    return this.#queue[Symbol.asyncIterator]();
  }
}
