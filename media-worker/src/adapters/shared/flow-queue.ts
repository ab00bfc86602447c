/**
 * A single-consumer async queue between a provider's socket (the producer, which can deliver much
 * faster than real time) and the adapter's reader (which may pull at playout pace). Every item has
 * a weight (bytes, samples, or 1 per item); the bound is on the total weight held, in one of two
 * ways:
 *
 * - `pause`: past `highWater` the producer is told to pause (the adapter stops reading its socket,
 *   so TCP pushes back on the provider) and, once the reader has taken the weight down to
 *   `lowWater`, to resume. Soft: items pushed while paused are kept (what the socket had already
 *   read), so the queue holds highWater plus at most one socket read.
 * - `reject`: `push` refuses an item that would take the weight above `capacity` and returns
 *   false; the owner decides what that means (drop it, or fail the session).
 *
 * The queue ends in one of three ways, the first one winning: `end()` (the reader drains what is
 * held, then is done), `fail(error)` (the reader gets `error` once, then is done; with
 * `failure: 'after-drain'` it first takes what is held, with `'at-once'` what is held is dropped),
 * `abort()` (drops what is held and ends now, without error, even over a pending failure).
 * Once ended, pushes are ignored and the producer is no longer told to pause or resume.
 *
 * Read with `next(signal?)` or, once, as an async iterable; a reader leaving the iterable early
 * (`break` out of `for await`) calls `onReaderGone` (if it had not ended) and aborts the queue.
 */

export type FlowBound =
  | { kind: 'pause'; highWater: number; lowWater: number; onPause: () => void; onResume: () => void }
  | { kind: 'reject'; capacity: number };

export interface FlowQueueOptions {
  bound: FlowBound;
  /** When a failure reaches the reader: after the items already held, or at once (they are dropped). */
  failure: 'after-drain' | 'at-once';
  /** The reader stopped iterating before the queue ended (e.g. release the connection). */
  onReaderGone?: () => void;
  /** Names the queue in errors (e.g. "STT events"). */
  name?: string;
}

export interface FlowQueueStats {
  /** The most weight held at once. */
  peakWeight: number;
  /** Times the producer was paused (`pause` bound). */
  pauses: number;
  /** Items refused because the queue was full (`reject` bound). */
  rejected: number;
}

type Entry<T> = { item: T; weight: number };
/** How the queue ended; `error` is delivered to the reader once, then cleared. */
type Outcome = { error?: unknown };

/** Taken slots are compacted away once more than this many (and over half the array) are dead. */
const COMPACT_AFTER = 1024;

export class FlowQueue<T> implements AsyncIterable<T> {
  readonly #o: FlowQueueOptions;
  #entries: Array<Entry<T> | undefined> = [];
  #head = 0;
  #weight = 0;
  #paused = false;
  #outcome: Outcome | undefined;
  #wake: (() => void) | undefined;
  #iterated = false;
  readonly #stats: FlowQueueStats = { peakWeight: 0, pauses: 0, rejected: 0 };

  constructor(options: FlowQueueOptions) {
    const b = options.bound;
    if (b.kind === 'pause' && !(b.lowWater >= 0 && b.lowWater <= b.highWater)) {
      throw new RangeError(`FlowQueue: need 0 <= lowWater <= highWater (got ${b.lowWater}, ${b.highWater})`);
    }
    if (b.kind === 'reject' && !(b.capacity > 0)) throw new RangeError(`FlowQueue: need capacity > 0 (got ${b.capacity})`);
    this.#o = options;
  }

  /** Total weight held. */
  get weight(): number {
    return this.#weight;
  }

  /** Items held. */
  get size(): number {
    return this.#entries.length - this.#head;
  }

  /** The producer is paused (`pause` bound). */
  get paused(): boolean {
    return this.#paused;
  }

  /** end(), fail() or abort() was called: pushes are ignored. */
  get ended(): boolean {
    return this.#outcome !== undefined;
  }

  get stats(): Readonly<FlowQueueStats> {
    return this.#stats;
  }

  /** Queues `item`. False only when the `reject` bound refused it; after the end it is ignored (true). */
  push(item: T, weight = 1): boolean {
    if (this.#outcome) return true;
    const b = this.#o.bound;
    if (b.kind === 'reject' && this.#weight + weight > b.capacity) {
      this.#stats.rejected++;
      return false;
    }
    this.#entries.push({ item, weight });
    this.#weight += weight;
    if (this.#weight > this.#stats.peakWeight) this.#stats.peakWeight = this.#weight;
    if (b.kind === 'pause' && !this.#paused && this.#weight > b.highWater) {
      this.#paused = true;
      this.#stats.pauses++;
      b.onPause();
    }
    this.#notify();
    return true;
  }

  /** The newest item not yet taken, for an owner that amends it in place (its weight stays). */
  last(): T | undefined {
    return this.size > 0 ? this.#entries.at(-1)?.item : undefined;
  }

  /** Drops the items `drop` selects (e.g. an interrupted reply's audio), with their weight; returns how many. */
  remove(drop: (item: T) => boolean): number {
    const kept: Entry<T>[] = [];
    let dropped = 0;
    for (let i = this.#head; i < this.#entries.length; i++) {
      const e = this.#entries[i]!;
      if (drop(e.item)) {
        dropped++;
        this.#weight -= e.weight;
      } else kept.push(e);
    }
    this.#entries = kept;
    this.#head = 0;
    this.#maybeResume();
    return dropped;
  }

  /** No more items: the reader takes what is held, then is done. */
  end(): void {
    if (this.#outcome) return;
    this.#outcome = {};
    this.#notify();
  }

  /** The producer failed: the reader gets `error` (after the held items, or at once, per `failure`), then is done. */
  fail(error: unknown): void {
    if (this.#outcome) return;
    this.#outcome = { error };
    if (this.#o.failure === 'at-once') this.#clear();
    this.#notify();
  }

  /** Drops what is held and ends now, without error. */
  abort(): void {
    this.#outcome = {};
    this.#clear();
    this.#notify();
  }

  /**
   * The next item, or done once the queue ended and was drained. Rejects with the failure (once),
   * and with `signal`'s reason when it aborts while waiting or before.
   */
  async next(signal?: AbortSignal): Promise<IteratorResult<T, undefined>> {
    for (;;) {
      const outcome = this.#outcome;
      // With 'at-once' the held items were dropped, so the failure comes first either way.
      if (outcome && 'error' in outcome && this.size === 0) {
        const { error } = outcome;
        delete outcome.error;
        throw error;
      }
      if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason));
      if (this.size > 0) return { done: false, value: this.#take() };
      if (outcome) return { done: true, value: undefined };
      await this.#waitForChange(signal);
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<T, undefined> {
    if (this.#iterated) throw new Error(`${this.#o.name ?? 'FlowQueue'} can be iterated only once`);
    this.#iterated = true;
    return {
      next: () => this.next(),
      return: async () => {
        if (!this.#outcome) this.#o.onReaderGone?.();
        this.abort();
        return { done: true, value: undefined };
      },
    };
  }

  #take(): T {
    const e = this.#entries[this.#head]!;
    this.#entries[this.#head] = undefined; // let it be collected before the array is compacted
    this.#head++;
    if (this.#head > COMPACT_AFTER && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
    this.#weight -= e.weight;
    this.#maybeResume();
    return e.item;
  }

  #clear(): void {
    this.#entries = [];
    this.#head = 0;
    this.#weight = 0;
    this.#paused = false;
  }

  #maybeResume(): void {
    const b = this.#o.bound;
    if (b.kind !== 'pause' || !this.#paused || this.#weight > b.lowWater) return;
    this.#paused = false;
    if (!this.#outcome) b.onResume();
  }

  #waitForChange(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const onAbort = (): void => resolve();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#wake = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
    });
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
