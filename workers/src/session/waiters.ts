/** Callers waiting for one event, each with its own timeout; the timeout yields null. */
export class Waiters<T> {
  private readonly pending = new Set<(value: T | null) => void>();

  wait(timeoutMs: number): Promise<T | null> {
    return new Promise((resolve) => {
      const done = (value: T | null) => {
        clearTimeout(timer);
        this.pending.delete(done);
        resolve(value);
      };
      const timer = setTimeout(() => done(null), timeoutMs);
      this.pending.add(done);
    });
  }

  resolveAll(value: T | null): void {
    for (const done of [...this.pending]) done(value);
  }
}
