import type { SessionStatus } from '@switchboard/protocol';
import { seesInternals, type Caller } from '../auth/guards.ts';
import type { TrickleFragment } from '../sdp/trickle.ts';
import { RESUME_WINDOW_MS, toStatus, type SessionRecord } from './record.ts';
import { decideResume } from './resume-decision.ts';
import { asFailure, fail, type Failure, type Result } from './results.ts';
import type { SessionHost } from './session-host.ts';
import type { WorkerLink } from './worker-link.ts';

/**
 * What clients do with a session (the `/v1/sessions` routes): create a WebRTC session and wait
 * for its answer (WHIP), read its status, trickle candidates, hang up, resume after a lost
 * connection or worker. `checkClient` is the one place the session authorizes a caller.
 */
export class ClientApi {
  private readonly host: SessionHost;
  private readonly link: WorkerLink;

  constructor(host: SessionHost, link: WorkerLink) {
    this.host = host;
    this.link = link;
  }

  /** WHIP: creates the session, queues it and waits for the claiming worker's SDP answer. */
  async startWebRtc(args: {
    id: string;
    offer: string;
    offerUfrag: string;
    caller: Caller;
    /** The ClientSessions slot the route took for it (released when the session ends) and its expiry. */
    clientKey: string;
    endsAt: number;
    record?: boolean;
  }): Promise<Result<{ answer: string; etag: string }>> {
    const h = this.host;
    if (h.rec) return fail(409, 'conflict', 'session already exists');
    const timeout = h.config.CLAIM_TIMEOUT_MS;
    const extra: Partial<SessionRecord> = { offer: args.offer, offerUfrag: args.offerUfrag, clientKey: args.clientKey, endsAt: args.endsAt };
    if (args.record) extra.record = true;
    if (args.caller.kind === 'client') extra.clientSubject = args.caller.subject;
    try {
      await h.createAndQueue(args.id, 'webrtc', Date.now(), extra, timeout);
    } catch (err) {
      return asFailure(err);
    }
    const now = h.current();
    const early = now?.answer && now.etag ? { answer: now.answer, etag: now.etag } : null;
    const got = early ?? (await h.answered.wait(timeout));
    if (got) return { ok: true, ...got };
    const after = h.current();
    if (after && after.state !== 'ended') await h.end('claim_timeout');
    const final = h.current();
    if (final?.reason === 'claim_timeout') return fail(503, 'no_worker', `no media worker answered within ${timeout} ms`);
    return fail(502, 'session_failed', `session ended before an answer: ${final?.reason ?? 'unknown'} ${final?.detail ?? ''}`.trim());
  }

  /**
   * A stream client's session (`GET /v1/stream`): created and queued at once; the route then
   * attaches the client's socket to the media relay, and the claiming worker dials its media
   * socket. Nobody claiming within CLAIM_TIMEOUT_MS ends it (claim_timeout closes the socket).
   */
  async startStream(args: { id: string; caller: Caller; clientKey: string; endsAt: number; record?: boolean }): Promise<Result<object>> {
    const h = this.host;
    if (h.rec) return fail(409, 'conflict', 'session already exists');
    const extra: Partial<SessionRecord> = { clientKey: args.clientKey, endsAt: args.endsAt };
    if (args.record) extra.record = true;
    if (args.caller.kind === 'client') extra.clientSubject = args.caller.subject;
    try {
      await h.createAndQueue(args.id, 'stream', Date.now(), extra, h.config.CLAIM_TIMEOUT_MS);
    } catch (err) {
      return asFailure(err);
    }
    return { ok: true };
  }

  status(caller: Caller): Result<{ status: SessionStatus }> {
    const denied = this.checkClient(caller);
    if (denied) return denied;
    return { ok: true, status: toStatus(this.host.rec!, seesInternals(caller)) };
  }

  /** WHIP PATCH: relays trickled candidates to the worker. */
  trickle(frag: TrickleFragment, caller: Caller, ifMatch: string | null): Result<object> {
    const denied = this.checkClient(caller);
    if (denied) return denied;
    const rec = this.host.rec!;
    if (rec.state === 'ended') return fail(404, 'not_found', 'session has ended');
    if (ifMatch && ifMatch !== '*' && ifMatch !== rec.etag) return fail(412, 'precondition_failed', 'If-Match does not match the session ETag');
    if (frag.ufrag && rec.offerUfrag && frag.ufrag !== rec.offerUfrag)
      return fail(400, 'ice_restart_unsupported', 'ICE restart is not supported: resume the session with a new offer (POST /v1/sessions/{id}/resume)');
    this.host.send({ type: 'candidates', ...frag });
    return { ok: true };
  }

  /** WHIP DELETE: ends the session and returns its status. Ending an ended session is a no-op. */
  async hangup(caller: Caller): Promise<Result<{ status: SessionStatus }>> {
    const denied = this.checkClient(caller);
    if (denied) return denied;
    await this.host.end('client_hangup');
    return { ok: true, status: toStatus(this.host.rec!, seesInternals(caller)) };
  }

  /**
   * `POST /v1/sessions/{id}/resume`: a fresh offer for a WebRTC session whose connection failed.
   * A live worker gets it as `offer`; a lost one (within RESUME_WINDOW_MS) is replaced by re-queuing
   * the session as a takeover carrying it. Either way the next `answer` (within CLAIM_TIMEOUT_MS)
   * is the reply, with a new ETag; the session keeps its id.
   */
  async resume(args: { offer: string; offerUfrag: string; caller: Caller }): Promise<Result<{ answer: string; etag: string }>> {
    const h = this.host;
    const denied = this.checkClient(args.caller);
    if (denied) return denied;
    const rec = h.rec!;
    const now = Date.now();
    const decision = decideResume(rec, { controlOpen: h.controlSocket() !== undefined, resuming: this.link.resuming !== null, now });
    if ('status' in decision) {
      if (decision.endLost) await h.end('worker_lost', `control WebSocket closed; no resume within ${RESUME_WINDOW_MS} ms`);
      return fail(decision.status, decision.code, decision.message);
    }
    const timeout = h.config.CLAIM_TIMEOUT_MS;
    this.link.resuming = { offer: args.offer, offerUfrag: args.offerUfrag };
    try {
      // Waiting from before the offer leaves: the answer may come back before the send returns.
      const answer = h.answered.wait(timeout);
      if (decision.kind === 'forward') {
        await h.save({ ...rec, offer: args.offer, offerUfrag: args.offerUfrag });
        h.send({ type: 'offer', offer: args.offer });
      } else {
        const failed = await this.link.requeueForResume(rec, args.offer, args.offerUfrag, now);
        if (failed) return failed;
      }
      const got = await answer;
      if (got) return { ok: true, ...got };
      const after = h.current();
      if (!after || after.state === 'ended') return fail(410, 'gone', `session has ended (${after?.reason ?? 'unknown'})`);
      return fail(503, 'no_worker', `no media worker answered the new offer within ${timeout} ms`);
    } finally {
      this.link.resuming = null;
    }
  }

  /**
   * The one place this object authorizes a caller (the Caller a route got from requireClient).
   * API keys and AUTH_MODE=none act on any session; a client token only on a WebRTC session
   * created by a token of the same subject. Anything else is the 404 of an unknown session, so a
   * client learns nothing of sessions that are not its own, phone sessions included.
   */
  checkClient(caller: Caller): Failure | null {
    const rec = this.host.rec;
    if (!rec) return fail(404, 'not_found', 'no such session');
    if (caller.kind === 'apiKey' || caller.kind === 'open') return null;
    if (rec.kind === 'phone' || rec.clientSubject === undefined || rec.clientSubject !== caller.subject)
      return fail(404, 'not_found', 'no such session');
    return null;
  }
}
