import type { EndReason, PhoneCall } from '@switchboard/protocol';
import type { SessionRecord } from './record.ts';
import { fail, type Result } from './results.ts';
import { MEDIA, closeQuietly, type SessionHost } from './session-host.ts';
import { sessionStub } from './stub.ts';

/**
 * The object of one leg a session added (`l_...`): its phone call, carried by the worker that
 * holds the session (parentId). It has no job and no control socket: it is claimed from the start
 * by the session's worker, answers the leg's webhooks (phone-calls.ts, as for any call) and relays
 * its stream to that worker's media socket (media-relay.ts). Its end is reported to the session.
 */
export class LegCall {
  private readonly host: SessionHost;

  constructor(host: SessionHost) {
    this.host = host;
  }

  /** Made by the session once the provider placed the call (idempotent for the same session). */
  async start(args: { legId: string; parentId: string; call: PhoneCall; workerId: string; endsAt: number }): Promise<Result<object>> {
    const h = this.host;
    if (h.rec) return h.rec.parentId === args.parentId ? { ok: true } : fail(409, 'conflict', 'leg already exists');
    const now = Date.now();
    const rec: SessionRecord = {
      id: args.legId,
      kind: 'phone',
      state: 'claimed',
      createdAt: now,
      claimedAt: now,
      jobExpiresAt: now,
      endsAt: args.endsAt,
      workerId: args.workerId,
      call: args.call,
      parentId: args.parentId,
    };
    await h.save(rec);
    h.claimed.resolveAll(undefined);
    return { ok: true };
  }

  /** Another worker took the session over: only its media socket may carry the leg now. */
  async reassign(parentId: string, workerId: string): Promise<Result<{ call: PhoneCall }>> {
    const h = this.host;
    const rec = h.rec;
    if (!rec || rec.parentId !== parentId || !rec.call) return fail(404, 'not_found', 'no such leg');
    if (rec.state === 'ended') return fail(410, 'gone', 'leg has ended');
    await h.save({ ...rec, workerId });
    for (const old of h.ctx.getWebSockets(MEDIA)) closeQuietly(old, 1000, 'taken over');
    return { ok: true, call: rec.call };
  }

  /** The session hung the leg up, or ended. */
  async end(reason: EndReason): Promise<void> {
    await this.host.end(reason);
  }

  /** Tells the session this leg ended (SessionHost's end hook). */
  async ended(rec: SessionRecord): Promise<void> {
    if (!rec.parentId) return;
    try {
      await sessionStub(this.host.env, rec.parentId).legEnded(rec.id, rec.reason ?? 'error', rec.detail);
    } catch (err) {
      console.warn(`leg ${rec.id}: telling session ${rec.parentId} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
