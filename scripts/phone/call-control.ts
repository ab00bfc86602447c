import { ApiLogPoller, readApiLog } from './api-log.ts';
import { callCommand, declareCallBody, type CallCommand, type CallIds } from './providers/api-requests.ts';
import type { Provider } from './providers/types.ts';

/**
 * Provider-initiated changes to a running call (hang-up, redirect), learned by polling the fake
 * provider API's log for requests addressed to this call. Commands wait in a queue until the
 * call's session takes them (`take`), so none is lost while the first instructions are fetched.
 */
export type ApiCommand = Exclude<CallCommand, { kind: 'unsupported' }>;

export interface CallControl {
  /** Hands every queued and later command to `on`. */
  take(on: (c: ApiCommand) => void): void;
  stop(): void;
}

export const API_POLL_MS = 100;

/** Tells the fake about the call (its `POST /__calls`), so it answers the edge's requests for it as for a live call. */
async function declareCall(o: { apiUrl: string; provider: Provider; ids: CallIds; from: string; to: string; log: (l: string) => void }): Promise<void> {
  const url = `${o.apiUrl.replace(/\/+$/, '')}/__calls`;
  try {
    const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(declareCallBody(o.provider, o.ids, o.from, o.to)), signal: AbortSignal.timeout(5000) });
    if (!res.ok) o.log(`POST ${url} answered ${res.status}: the fake may answer the edge's requests for this call 404`);
  } catch (err) {
    o.log(`POST ${url} failed: ${(err as Error).message}`);
  }
}

/**
 * Declares the call to the fake, then watches `apiUrl`'s log from entry `cursor` (default: its
 * current length, so only requests made from now on count).
 */
export async function watchCallControl(o: {
  apiUrl: string; provider: Provider; ids: CallIds; from: string; to: string; cursor?: number; log: (l: string) => void; intervalMs?: number;
}): Promise<CallControl> {
  const cursor = o.cursor ?? (await readApiLog(o.apiUrl)).length;
  await declareCall(o);
  const queue: ApiCommand[] = [];
  let handler: ((c: ApiCommand) => void) | undefined;
  const poller = new ApiLogPoller({
    apiUrl: o.apiUrl,
    cursor,
    onRequest: (r) => {
      const c = callCommand(o.provider, r, o.ids);
      if (!c) return;
      if (c.kind === 'unsupported') return o.log(`provider API: ${r.method} ${r.path} for this call ignored (${c.what})`);
      o.log(`provider API: ${r.method} ${r.path} -> ${c.kind === 'hangup' ? 'hang up' : `redirect to ${c.method} ${c.url}`}`);
      if (handler) handler(c);
      else queue.push(c);
    },
    log: o.log,
    intervalMs: o.intervalMs ?? API_POLL_MS,
  }).start();
  return {
    take(on) {
      handler = on;
      for (const c of queue.splice(0)) on(c);
    },
    stop: () => poller.stop(),
  };
}
