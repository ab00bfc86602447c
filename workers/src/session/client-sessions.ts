import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env.ts';
import { decideAcquire } from './client-slots.ts';

/** Storage key prefix of a slot: `s:<sessionId>` -> the session's expiry (epoch ms). */
const SLOT = 's:';

export type AcquireResult = { ok: true } | { ok: false; live: number; retryAfterS: number };

/**
 * One per client key (token subject, API key digest, or address with AUTH_MODE=none): the ids of
 * its live WebRTC sessions, each with its expiry (the session's endsAt). A single object per
 * client makes the count exact across isolates and edge locations. A session's CallSession
 * releases its slot when it ends; a release that never arrives stops counting at the slot's
 * expiry and is deleted by the client's next acquire. No alarm: setting one on each new client's
 * object cost about an eighth of the edge's CPU per session (`npm run bench -- --only setup,edge`,
 * 3 alternating pairs: POST + DELETE 10.1/12.1/14.2 ms without against 12.9/13.8/13.0 with), and
 * what it would clean is a few keys of a client whose release was lost.
 */
export class ClientSessions extends DurableObject<Env> {
  private slots(): [string, number][] {
    return [...this.ctx.storage.kv.list<number>({ prefix: SLOT })].map(([k, v]) => [k.slice(SLOT.length), v]);
  }

  /** Takes a slot for `sessionId` until `expiresAt` unless `limit` live sessions hold one already. */
  async acquire(sessionId: string, expiresAt: number, limit: number): Promise<AcquireResult> {
    const kv = this.ctx.storage.kv;
    const decision = decideAcquire(this.slots(), sessionId, limit, Date.now());
    for (const id of decision.expired) kv.delete(SLOT + id);
    if (!decision.ok) return { ok: false, live: decision.live, retryAfterS: decision.retryAfterS };
    kv.put(SLOT + sessionId, expiresAt);
    return { ok: true };
  }

  /** Gives the session's slot back; releasing a slot not held is a no-op. */
  async release(sessionId: string): Promise<void> {
    this.ctx.storage.kv.delete(SLOT + sessionId);
  }
}
