import { badGateway, conflict, gone } from '../errors.ts';
import { withDeadline } from '../http/deadline.ts';
import { TIMEOUT_MS } from './rest-call.ts';

/**
 * One request that acts on an existing call (hang up, cancel, redirect) through a provider's REST
 * API, the same for every provider: the 10 s timeout of `placeCallRequest`; a network error is
 * reported by kind only (its message could echo request details, credentials among them). The
 * answer's status and text are handed back for the provider's client to judge, since which
 * statuses mean "already over" differs by provider and by action.
 */
export async function callControlRequest(o: {
  provider: string;
  /** What the request does, for messages: "hang up the call", "redirect the call". */
  what: string;
  fetchFn: typeof fetch;
  url: string;
  method: 'POST' | 'DELETE';
  headers: Record<string, string>;
  body?: string;
}): Promise<{ status: number; text: string }> {
  // Called as a plain function: workerd's fetch refuses to run as a method of another object.
  const fetchFn = o.fetchFn;
  try {
    // withDeadline, not AbortSignal.timeout: its timer ends with the request (legs and transfers act from the session's object).
    return await withDeadline(TIMEOUT_MS, async (signal) => {
      const init: RequestInit = { method: o.method, headers: { Accept: 'application/json', ...o.headers }, signal };
      if (o.body !== undefined) init.body = o.body;
      const res = await fetchFn(o.url, init);
      return { status: res.status, text: await res.text() };
    });
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    throw badGateway(timedOut ? `${o.provider} did not answer within ${TIMEOUT_MS / 1000} s` : `could not reach ${o.provider} to ${o.what}`);
  }
}

/** 502 for an answer the client cannot use: `Twilio failed to hang up the call: HTTP 500 (detail)`. */
export function controlFailed(provider: string, what: string, status: number, detail: string) {
  return badGateway(`${provider} failed to ${what}: HTTP ${status}${detail ? ` (${detail})` : ''}`);
}

/** 410 for a redirect of a call the provider no longer knows: it has ended. */
export function callGone(provider: string) {
  return gone(`${provider} no longer knows the call: it has ended`);
}

/** 409 for a redirect the provider refuses because the call is not in progress. */
export function callNotInProgress(provider: string, detail: string) {
  return conflict(`${provider} refused: the call is not in progress${detail ? ` (${detail})` : ''}`);
}

/** Whether a status is 2xx. */
export const isOk = (status: number) => status >= 200 && status < 300;
