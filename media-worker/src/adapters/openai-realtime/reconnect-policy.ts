/**
 * When a Realtime connection lost mid-call is worth reopening, and how hard to try.
 *
 * Reopened: a socket that dropped without a close frame (1006), a server going away or
 * restarting (1001, 1011-1014), unanswered pings, and opening attempts that failed on the network,
 * timed out, or got HTTP 408/429/5xx. Not reopened (a new session would meet the same end):
 * a refused key or access (HTTP 401/403, any other 4xx), a close the server chose (1000) or a
 * protocol/policy close (1002-1010, 4000+), and a connection on which OpenAI sent an error with a
 * fatal code (FATAL_ERROR_CODES) before it went. `session_expired` counts as fatal: the session
 * reached the maximum duration OpenAI allows, and a call that long is ended rather than prolonged
 * behind the platform's back.
 */
import { ConnectError, type Loss } from './connection.ts';

/**
 * Pause before each opening attempt after a loss (ms). A blip (a load balancer recycling the
 * socket) usually clears within a second; three attempts span 3.25 s of waiting plus the
 * attempts themselves, about the silence a caller sits through before giving up on the line.
 */
export const RECONNECT_DELAYS_MS: readonly number[] = [250, 1000, 2000];
/**
 * Losses recovered per call. Each costs the caller a few seconds of silence and the unreceived
 * rest of a reply, and each replays up to 40 lines (history.ts) into a new billed session; a
 * link that drops more often than this is not carrying a conversation, and ending the call lets
 * the platform's own recovery (another worker takes it over) try instead.
 */
export const MAX_LOSSES_PER_CALL = 5;
/**
 * Each reopening attempt's deadline (ms), below the first connect's connectTimeoutMs (default
 * 10 s): a healthy handshake and `session.created` take well under a second, and the caller is
 * in silence meanwhile. The worst gap is RECONNECT_DELAYS_MS's sum plus 3 × this: 18.25 s.
 */
export const MAX_REOPEN_TIMEOUT_MS = 5000;

/** Codes of OpenAI `error` events after which the session is over for good. */
export const FATAL_ERROR_CODES: ReadonlySet<string> = new Set(['session_expired', 'invalid_api_key', 'insufficient_quota']);

/** Close codes of a connection the server or the network dropped, not one it ended on purpose. */
const TRANSIENT_CLOSE = new Set([1001, 1006, 1011, 1012, 1013, 1014]);

/** Whether a connection lost this way is reopened; `fatalError` is a fatal error event's code seen on it. */
export function isTransientLoss(loss: Loss, fatalError: string | undefined): boolean {
  if (fatalError !== undefined) return false;
  return loss.closeCode === undefined || TRANSIENT_CLOSE.has(loss.closeCode);
}

/** Whether a failed opening attempt is worth another. */
export function isTransientConnectError(err: unknown): boolean {
  if (!(err instanceof ConnectError)) return false;
  const s = err.status;
  return s === undefined || s === 408 || s === 429 || s >= 500;
}
