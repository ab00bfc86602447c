import { expect, vi } from 'vitest';
import { HttpError } from '../errors.ts';

/**
 * A provider REST client's time limit (rest-call.ts): a request that hangs is aborted after 10 s
 * and answered 502 `<Provider> did not answer within 10 s`; one that is answered leaves no timer
 * behind (a session's Durable Object with a pending timer cannot hibernate and is billed for
 * duration). `place(fetch)` places one call with that fetch.
 */
export async function expectTenSecondDeadline(name: string, place: (fetchFn: typeof fetch) => Promise<unknown>): Promise<void> {
  const rejection = async (p: Promise<unknown>): Promise<HttpError> => {
    const err = await p.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HttpError);
    return err as HttpError;
  };
  vi.useFakeTimers();
  try {
    let signal: AbortSignal | null | undefined;
    const hanging: typeof fetch = (_input, init) =>
      new Promise((_, reject) => {
        signal = init?.signal;
        signal?.addEventListener('abort', () => reject(signal?.reason));
      });
    const pending = rejection(place(hanging));
    await vi.advanceTimersByTimeAsync(9_999);
    expect(signal?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const err = await pending;
    expect(err.status).toBe(502);
    expect(err.message).toBe(`${name} did not answer within 10 s`);
    const failing: typeof fetch = async () => new Response('{}', { status: 500 });
    await rejection(place(failing));
    expect(vi.getTimerCount()).toBe(0);
  } finally {
    vi.useRealTimers();
  }
}
