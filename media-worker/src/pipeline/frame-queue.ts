/**
 * A bounded single-consumer queue exposed as an async iterable: the stream handler's input.
 * Caller audio arrives in real time whatever the handler does, so when the handler falls behind
 * the oldest frames are dropped (the freshest audio matters most to a live model) and counted,
 * instead of the queue growing without limit.
 */
export class DropOldestQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiter: ((r: IteratorResult<T>) => void) | undefined;
  private closed = false;
  private iterated = false;
  /** Items dropped because the queue was full. */
  dropped = 0;

  readonly capacity: number;

  // No parameter properties: the worker runs under Node's type stripping, which rejects them.
  constructor(capacity: number) {
    this.capacity = capacity;
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`bad queue capacity ${capacity}`);
  }

  push(item: T): void {
    if (this.closed) return;
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w({ value: item, done: false });
      return;
    }
    if (this.items.length >= this.capacity) {
      this.items.shift();
      this.dropped++;
    }
    this.items.push(item);
  }

  /** Ends the iteration: a pending `next()` resolves done at once; queued items are discarded. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.items.length = 0;
    const w = this.waiter;
    this.waiter = undefined;
    w?.({ value: undefined, done: true });
  }

  get size(): number {
    return this.items.length;
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    // One consumer only: two would silently split the frames between them.
    if (this.iterated) throw new Error('the input stream can be iterated only once');
    this.iterated = true;
    return {
      next: () => {
        const item = this.items.shift();
        if (item !== undefined) return Promise.resolve({ value: item, done: false });
        if (this.closed) return Promise.resolve({ value: undefined, done: true });
        if (this.waiter) return Promise.reject(new Error('next() called again before the previous one settled'));
        return new Promise((resolve) => (this.waiter = resolve));
      },
      // The handler stopped reading (break / return): no more frames are kept for it.
      return: () => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
