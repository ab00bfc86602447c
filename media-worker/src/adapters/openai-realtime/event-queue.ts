/**
 * The bounded buffer between the socket (the model sends audio much faster than real time) and
 * the handler's generator (pulled at playout speed: the pipeline stops pulling while 5 s are
 * queued for playout). Every item has a weight (bytes); past `highWater` the producer is told to
 * pause (the adapter stops reading the socket, so TCP pushes back on the server), and once the
 * consumer has taken it under `lowWater` to resume. What is held is thus highWater plus what the
 * socket had already read when it paused (one read of up to 64 KiB: ~1 s of audio as base64 deltas).
 */
export interface QueueOptions {
  highWater: number;
  lowWater: number;
  onPause: () => void;
  onResume: () => void;
}

export class EventQueue<T> {
  readonly #o: QueueOptions;
  #items: Array<{ item: T; weight: number }> = [];
  #head = 0;
  #weight = 0;
  #paused = false;
  #closed = false;
  #failure: Error | undefined;
  #wake: (() => void) | undefined;
  /** The most weight held at once. */
  peakWeight = 0;
  /** Times the producer was paused. */
  pauses = 0;

  constructor(o: QueueOptions) {
    if (!(o.lowWater > 0 && o.lowWater < o.highWater)) throw new RangeError(`EventQueue: need 0 < lowWater < highWater (got ${o.lowWater}, ${o.highWater})`);
    this.#o = o;
  }

  get weight(): number {
    return this.#weight;
  }

  get size(): number {
    return this.#items.length - this.#head;
  }

  push(item: T, weight: number): void {
    if (this.#closed) return;
    this.#items.push({ item, weight });
    this.#weight += weight;
    if (this.#weight > this.peakWeight) this.peakWeight = this.#weight;
    if (!this.#paused && this.#weight > this.#o.highWater) {
      this.#paused = true;
      this.pauses++;
      this.#o.onPause();
    }
    this.#notify();
  }

  /** The next item; undefined once closed and drained. Rejects with the failure (fail()) at once, and when `signal` aborts. */
  async next(signal: AbortSignal): Promise<T | undefined> {
    for (;;) {
      if (this.#failure) throw this.#failure;
      if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason));
      if (this.size > 0) return this.#take();
      if (this.#closed) return undefined;
      await new Promise<void>((resolve) => {
        const onAbort = (): void => resolve();
        signal.addEventListener('abort', onAbort, { once: true });
        this.#wake = () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        };
      });
    }
  }

  /** Drops the items `drop` selects (barge-in: the interrupted reply's audio); returns how many. */
  remove(drop: (item: T) => boolean): number {
    const kept: Array<{ item: T; weight: number }> = [];
    let dropped = 0;
    for (let i = this.#head; i < this.#items.length; i++) {
      const e = this.#items[i]!;
      if (drop(e.item)) {
        dropped++;
        this.#weight -= e.weight;
      } else kept.push(e);
    }
    this.#items = kept;
    this.#head = 0;
    this.#maybeResume();
    return dropped;
  }

  /** No more items: next() drains what is held, then returns undefined. */
  close(): void {
    this.#closed = true;
    this.#notify();
  }

  /** A fatal error: held items are dropped and next() rejects with it. The first failure wins. */
  fail(err: Error): void {
    this.#failure ??= err;
    this.#closed = true;
    this.#items = [];
    this.#head = 0;
    this.#weight = 0;
    this.#notify();
  }

  #take(): T {
    const e = this.#items[this.#head]!;
    this.#items[this.#head] = undefined as never; // let it be collected before the array is compacted
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    this.#weight -= e.weight;
    this.#maybeResume();
    return e.item;
  }

  #maybeResume(): void {
    if (this.#paused && this.#weight <= this.#o.lowWater) {
      this.#paused = false;
      this.#o.onResume();
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
