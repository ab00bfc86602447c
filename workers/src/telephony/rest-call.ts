import { badGateway, badRequest } from '../errors.ts';
import { withDeadline } from '../http/deadline.ts';

/** How long one provider REST request may take before the edge gives up (502). */
export const TIMEOUT_MS = 10_000;

/** Basic auth over UTF-8 bytes (`btoa` alone throws on characters beyond Latin-1). */
export function basicAuth(user: string, password: string): string {
  let bin = '';
  for (const b of new TextEncoder().encode(`${user}:${password}`)) bin += String.fromCharCode(b);
  return `Basic ${btoa(bin)}`;
}

/**
 * One "place a call" request to a provider's REST API, the same for every provider: a 10 s
 * timeout; the statuses in `rejected` are the caller's error (400, with the provider's own words
 * from `describe`), any other failure the upstream's (502); a network error is reported by kind
 * only (its message could echo request details, credentials among them). Resolves with the
 * answer's JSON, for the provider's own schema to read.
 */
export async function placeCallRequest(o: {
  provider: string;
  fetchFn: typeof fetch;
  url: string;
  headers: Record<string, string>;
  body: string;
  rejected: readonly number[];
  describe: (text: string) => string;
}): Promise<unknown> {
  let res: Response;
  let text: string;
  // Called as a plain function: workerd's fetch refuses to run as a method of another object.
  const fetchFn = o.fetchFn;
  try {
    // withDeadline, not AbortSignal.timeout: its timer ends with the request (a leg is dialled from the session's object).
    [res, text] = await withDeadline(TIMEOUT_MS, async (signal) => {
      const r = await fetchFn(o.url, { method: 'POST', headers: { Accept: 'application/json', ...o.headers }, body: o.body, signal });
      return [r, await r.text()] as const;
    });
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    throw badGateway(timedOut ? `${o.provider} did not answer within ${TIMEOUT_MS / 1000} s` : `could not reach ${o.provider} to place the call`);
  }
  if (o.rejected.includes(res.status)) throw badRequest(o.describe(text) || `${o.provider} rejected the call request (HTTP ${res.status})`);
  if (!res.ok) {
    const detail = o.describe(text);
    throw badGateway(`${o.provider} failed to place the call: HTTP ${res.status}${detail ? ` (${detail})` : ''}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw badGateway(`${o.provider} answered the call request with invalid JSON`);
  }
}
