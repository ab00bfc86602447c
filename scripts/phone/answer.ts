import { ApiLogPoller, readApiLog } from './api-log.ts';
import { placedCall, type PlacedCall } from './providers/api-requests.ts';
import type { Provider } from './providers/types.ts';

/**
 * `--answer`: waits for the next call the edge places through the fake provider API (a call
 * creation request logged after the wait began) and gives what the callee's side needs: the
 * instruction URL and method, the status callback, the numbers, the id the provider answered
 * with when the fake logs it, and the log position after the request (the call's REST requests
 * come after it).
 */
export interface AnsweredCall extends PlacedCall {
  /** The log index of the first entry after the creation request. */
  cursor: number;
}

/** Where each provider's REST API base is set for the edge (the local stack passes these through). */
export const API_BASE_ENV: Record<Provider, string> = { twilio: 'TWILIO_API_BASE', telnyx: 'TELNYX_API_BASE', plivo: 'PLIVO_API_BASE' };

export async function waitForPlacedCall(o: { apiUrl: string; provider: Provider; timeoutMs?: number; signal?: AbortSignal; log?: (l: string) => void }): Promise<AnsweredCall> {
  const start = (await readApiLog(o.apiUrl, o.signal)).length; // fails clearly when apiUrl is no fake
  return new Promise<AnsweredCall>((resolve, reject) => {
    let settled = false;
    const done = (err: Error | null, call?: AnsweredCall) => {
      if (settled) return;
      settled = true;
      poller.stop();
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(call!);
    };
    const poller = new ApiLogPoller({
      apiUrl: o.apiUrl,
      cursor: start,
      log: o.log,
      onRequest: (r, index) => {
        const call = placedCall(o.provider, r);
        if (call) done(null, { ...call, cursor: index + 1 });
      },
    }).start();
    const onAbort = () => done(o.signal!.reason instanceof Error ? (o.signal!.reason as Error) : new Error('aborted'));
    o.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => done(new Error(`no call was placed through ${o.apiUrl} within ${Math.round((o.timeoutMs ?? 0) / 1000)} s`)), o.timeoutMs ?? 2 ** 31 - 1);
  });
}
