/**
 * A time limit on one outgoing request whose timer is cleared once the request is done.
 * `AbortSignal.timeout(ms)` keeps its timer pending for the full `ms` even after the fetch has
 * settled, and a pending timer keeps a Durable Object from being eligible for hibernation (it is
 * billed for duration meanwhile): code that runs in a session's object bounds its fetches with
 * this instead. The signal aborts with a DOMException named `TimeoutError`, as AbortSignal.timeout's.
 */
export async function withDeadline<T>(ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException(`The operation was aborted due to timeout (${ms} ms)`, 'TimeoutError')), ms);
  try {
    return await work(controller.signal);
  } finally {
    clearTimeout(timer);
  }
}
