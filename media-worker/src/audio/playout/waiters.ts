/**
 * Waiters for the queue to drain to a level (whenQueuedAtMost): checked by the engine after each
 * event that can lower it (a send, an acknowledgement, a clear, a drop, the slack timer), never
 * polled. A waiter whose signal aborts resolves false and leaves no listener behind.
 */
interface Waiter {
  ms: number;
  resolve: (reached: boolean) => void;
  signal: AbortSignal;
  onAbort: () => void;
}

export class QueueWaiters {
  readonly #queuedMs: () => number;
  readonly #waiters = new Set<Waiter>();

  constructor(queuedMs: () => number) {
    this.#queuedMs = queuedMs;
  }

  get size(): number {
    return this.#waiters.size;
  }

  /** Resolves true once queuedMs() <= ms (now, or at a later check), false when `signal` aborts first. */
  wait(ms: number, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    if (this.#queuedMs() <= ms) return Promise.resolve(true);
    return new Promise((resolve) => {
      const w: Waiter = {
        ms,
        resolve,
        signal,
        onAbort: () => {
          this.#waiters.delete(w);
          resolve(false);
        },
      };
      signal.addEventListener('abort', w.onAbort, { once: true });
      this.#waiters.add(w);
    });
  }

  /** Resolves every waiter whose level is reached. Costs nothing without waiters. */
  check(): void {
    if (this.#waiters.size === 0) return;
    const queued = this.#queuedMs();
    for (const w of this.#waiters) {
      if (queued > w.ms) continue;
      this.#waiters.delete(w);
      w.signal.removeEventListener('abort', w.onAbort);
      w.resolve(true);
    }
  }
}
