/**
 * The decision of the per-client session limit, apart from storage: which of a client's live
 * sessions have run past their expiry (their release was lost: they no longer count), and
 * whether one more fits. Times are epoch ms.
 */

/** Longest Retry-After a full client is told, in s: sessions usually end long before their time limit. */
export const MAX_RETRY_AFTER_S = 60;

export type SlotDecision =
  | { ok: true; expired: string[] }
  | { ok: false; expired: string[]; live: number; retryAfterS: number };

/** `slots`: session id -> expiry. A session already holding a slot is let in again (idempotent). */
export function decideAcquire(slots: Iterable<[string, number]>, sessionId: string, limit: number, now: number): SlotDecision {
  const expired: string[] = [];
  let live = 0;
  let earliest = Infinity;
  let holds = false;
  for (const [id, expiresAt] of slots) {
    if (expiresAt <= now) {
      expired.push(id);
      continue;
    }
    if (id === sessionId) holds = true;
    live++;
    earliest = Math.min(earliest, expiresAt);
  }
  if (holds || live < limit) return { ok: true, expired };
  const retryAfterS = Math.min(MAX_RETRY_AFTER_S, Math.max(1, Math.ceil((earliest - now) / 1000)));
  return { ok: false, expired, live, retryAfterS };
}
