/** Messages of a WebSocket, awaited in order. */
export class Inbox<T> {
  private readonly items: T[] = [];
  private readonly waiting: ((v: T) => void)[] = [];
  closed: { code: number; reason: string } | null = null;

  push(v: T): void {
    const w = this.waiting.shift();
    if (w) w(v);
    else this.items.push(v);
  }

  next(timeoutMs = 5000): Promise<T> {
    const v = this.items.shift();
    if (v !== undefined) return Promise.resolve(v);
    return new Promise((resolve, reject) => {
      const waiter = (x: T) => {
        clearTimeout(t);
        resolve(x);
      };
      // A waiter that timed out is removed, or it would swallow the next message.
      const t = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(waiter), 1);
        reject(new Error(`no message within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.push(waiter);
    });
  }

  /** Next message matching `pred`, skipping others. */
  async until(pred: (v: T) => boolean, timeoutMs = 5000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await this.next(Math.max(1, deadline - Date.now()));
      if (pred(v)) return v;
    }
  }
}
