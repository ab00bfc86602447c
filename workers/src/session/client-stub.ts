import type { Env } from '../env.ts';
import { HttpError } from '../errors.ts';

/** The client's ClientSessions object (`clientKey` from callerKey). */
export function clientSessionsStub(env: Env, clientKey: string) {
  return env.CLIENT_SESSIONS.get(env.CLIENT_SESSIONS.idFromName(clientKey));
}

/** Takes one of the client's MAX_SESSIONS_PER_CLIENT slots for `sessionId`, or throws 429 too_many_sessions. */
export async function acquireSessionSlot(env: Env, clientKey: string, sessionId: string, expiresAt: number, limit: number): Promise<void> {
  const r = await clientSessionsStub(env, clientKey).acquire(sessionId, expiresAt, limit);
  if (!r.ok)
    throw new HttpError(429, 'too_many_sessions', `this client already has ${r.live} live sessions (limit ${limit}): end one first`, {
      'Retry-After': String(r.retryAfterS),
    });
}

/** Gives the slot back; a failure is logged, not thrown (the slot then heals at its expiry). */
export async function releaseSessionSlot(env: Env, clientKey: string, sessionId: string): Promise<void> {
  try {
    await clientSessionsStub(env, clientKey).release(sessionId);
  } catch (err) {
    console.warn(`session ${sessionId}: releasing its client slot failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}
