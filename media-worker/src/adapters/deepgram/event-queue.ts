/**
 * The STT session's events as a single-consumer async iterable: pushed by the socket's message
 * handler, ended by a graceful close, failed by a broken connection (the consumer's `next()`
 * then throws). Bounded: a consumer that stops reading cannot make it grow without limit.
 */
export class EventQueue<T> implements AsyncIterable<T> {
  readonly #items: T[] = [];
  readonly #capacity: number;
  #waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: Error) => void } | undefined;
  #ended = false;
  #error: Error | undefined;
  #iterated = false;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** False when full (the item is not kept). */
  push(item: T): boolean {
    if (this.#ended) return true;
    const w = this.#waiter;
    if (w) {
      this.#waiter = undefined;
      w.resolve({ value: item, done: false });
      return true;
    }
    if (this.#items.length >= this.#capacity) return false;
    this.#items.push(item);
    return true;
  }

  /** Ends the iteration after the queued items; with `error`, the consumer's next read throws it instead. */
  end(error?: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    const w = this.#waiter;
    this.#waiter = undefined;
    if (!w) return;
    if (error) w.reject(error);
    else w.resolve({ value: undefined, done: true });
  }

  get ended(): boolean {
    return this.#ended;
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.#iterated) throw new Error('STT events can be iterated only once');
    this.#iterated = true;
    return {
      next: () => {
        if (this.#items.length > 0) return Promise.resolve({ value: this.#items.shift()!, done: false });
        if (this.#ended) return this.#error ? Promise.reject(this.#error) : Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => (this.#waiter = { resolve, reject }));
      },
      return: () => {
        this.end();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
