import { HttpError } from '../errors.ts';

/** Plain results of the CallSession RPC methods (errors cross the RPC boundary as values). */
export type Failure = { ok: false; status: 400 | 401 | 404 | 409 | 410 | 412 | 500 | 502 | 503; code: string; message: string };
export type Result<T> = ({ ok: true } & T) | Failure;

export const fail = (status: Failure['status'], code: string, message: string): Failure => ({ ok: false, status, code, message });

/** A failure to create or queue a session: the edge's own 500/502/503 as they are, anything else an upstream failure. */
export function asFailure(err: unknown): Failure {
  if (err instanceof HttpError && (err.status === 500 || err.status === 502 || err.status === 503))
    return fail(err.status, err.code, err.message);
  return fail(502, 'upstream_failed', err instanceof Error ? err.message : String(err));
}
