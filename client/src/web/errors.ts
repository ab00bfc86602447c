import type { ErrorBody } from '@switchboard/protocol';

/**
 * Why a call could not start or go on. `code` is the edge's error code when the edge refused
 * (`unauthorized`, `too_many_sessions`, `no_worker`, `not_found`, `session_ended`, `bad_sdp`, ...,
 * the `{"error": {"code"}}` of its JSON body), or one of the client's own:
 * - `media_denied`: no microphone, or the user refused it;
 * - `network`: the edge could not be reached;
 * - `connect_failed`: the media path never connected (ICE failed: a network that blocks it);
 * - `resume_failed`: the connection was lost and could not be resumed within the window;
 * - `bad_response`: the edge answered something this client does not understand;
 * - `aborted`: the caller's AbortSignal fired;
 * - `not_connected`: a call's request (`addLeg`, `legs`, ...) before it connected or after it ended.
 */
export class SwitchboardError extends Error {
  override name = 'SwitchboardError';
  readonly code: string;
  /** The HTTP status of the edge's refusal, if it refused. */
  readonly status: number | undefined;
  /** When the edge said to retry (`Retry-After`), in ms. */
  readonly retryAfterMs: number | undefined;

  constructor(code: string, message: string, o: { status?: number; retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, o.cause === undefined ? undefined : { cause: o.cause });
    this.code = code;
    this.status = o.status;
    this.retryAfterMs = o.retryAfterMs;
  }

  /** True for refusals worth retrying later (the edge said so with 429, 502 or 503). */
  get retryable(): boolean {
    return this.status === 429 || this.status === 502 || this.status === 503;
  }
}

/** The error a non-2xx edge response stands for, from its JSON error body when it has one. */
export async function errorFromResponse(res: Response, what: string): Promise<SwitchboardError> {
  let code = `http_${res.status}`;
  let message = res.statusText || 'request failed';
  try {
    const body = (await res.json()) as Partial<ErrorBody>;
    if (typeof body.error?.code === 'string') code = body.error.code;
    if (typeof body.error?.message === 'string') message = body.error.message;
  } catch {
    // Not JSON (a proxy's page): the status says enough.
  }
  const retryAfterS = Number(res.headers.get('Retry-After'));
  const retryAfterMs = Number.isFinite(retryAfterS) && retryAfterS >= 0 && res.headers.has('Retry-After') ? retryAfterS * 1000 : undefined;
  return new SwitchboardError(code, `${what}: ${res.status} ${message}`, { status: res.status, retryAfterMs });
}
