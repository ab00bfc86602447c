/**
 * Runs async tasks one at a time in arrival order (caller audio must reach the VAD in order), with
 * a bound on how many may wait: audio keeps arriving in real time, so if processing falls behind
 * by more than `maxPending` tasks new ones are refused (counted by the caller) instead of queueing
 * without limit.
 */
export class SerialQueue {
  private tail: Promise<void> = Promise.resolve();
  private pending = 0;
  private readonly maxPending: number;
  private readonly onError: (err: unknown) => void;

  constructor(maxPending: number, onError: (err: unknown) => void) {
    this.maxPending = maxPending;
    this.onError = onError;
  }

  /** Queues `task`; false (not queued) when `maxPending` tasks are already waiting. */
  push(task: () => Promise<void> | void): boolean {
    if (this.pending >= this.maxPending) return false;
    this.pending++;
    this.tail = this.tail
      .then(task)
      .catch(this.onError)
      .finally(() => {
        this.pending--;
      });
    return true;
  }

  /** Tasks queued or running (a task that ran is counted until its promise settles). */
  get size(): number {
    return this.pending;
  }

  /** Resolves once every queued task has run. */
  idle(): Promise<void> {
    return this.tail;
  }
}
