import { MAX_RECORDING_TRACKS, parseControlToEdge, type ControlToEdge } from '@switchboard/protocol';
import { mintIceServers } from '../turn/mint.ts';
import { decideControlDial } from './control-dial.ts';
import type { CallTransfer } from './call-transfer.ts';
import type { SessionLegs } from './session-legs.ts';
import { buildHandover } from './handover.ts';
import { jsonError } from './json-error.ts';
import { CONTROL_GRACE_MS, MAX_TAKEOVERS, moveTo, type SessionRecord } from './record.ts';
import { checkpointProblem } from './resume-decision.ts';
import { fail, type Failure } from './results.ts';
import { CONTROL, MEDIA, closeQuietly, type SessionHost } from './session-host.ts';

/**
 * The session's link to its media worker: the control WebSocket the worker dials (claim, dial-back
 * after a drop, takeover of a lost worker's session), the handover, the worker's messages, and
 * what happens when the link drops (a phone call re-queued at once, a WebRTC session waiting for
 * its client to resume, the alarm re-sending a re-queued job).
 */
export class WorkerLink {
  private readonly host: SessionHost;
  /** The offer of the client's resume in progress (one at a time), for a takeover if the worker drops meanwhile. */
  resuming: { offer: string; offerUfrag: string } | null = null;
  /** The session's legs (set by the object once its parts exist). */
  legs: SessionLegs | null = null;
  /** Cold transfers of the session's own call (set by the object). */
  transfer: CallTransfer | null = null;

  constructor(host: SessionHost) {
    this.host = host;
  }

  /** A worker dials the control WebSocket: a claim (first wins), its dial-back after a drop, or a takeover. */
  async accept(request: Request): Promise<Response> {
    const h = this.host;
    const token = /^Bearer\s+(\S+)$/i.exec(request.headers.get('Authorization') ?? '')?.[1];
    if (!token) return jsonError(401, 'unauthorized', 'missing Authorization: Bearer <controlToken>');
    const secret = h.config.CONTROL_SECRET;
    if (!secret) return jsonError(500, 'misconfigured', 'CONTROL_SECRET is not set');
    const workerId = (request.headers.get('X-Worker-Id') ?? 'unknown').slice(0, 128);
    const decision = await decideControlDial({
      secret,
      sessionId: request.headers.get('X-Session-Id') ?? '',
      token,
      workerId,
      rec: h.rec,
      controlOpen: h.controlSocket() !== undefined,
      now: Date.now(),
    });
    if ('status' in decision) return jsonError(decision.status, decision.code, decision.message);
    const rec = h.rec!;
    const { ws, response } = h.accept(CONTROL);
    if (decision.kind === 'resume') {
      const { controlLostAt: _lost, requeuedAt: _requeued, detail: _detail, ...back } = rec;
      await h.save(back);
    } else if (decision.kind === 'takeover') {
      const { controlLostAt: _lost, requeuedAt: _requeued, detail: _detail, ...taken } = rec;
      await h.save({ ...taken, workerId });
      // The lost worker's media socket, if it is still open, must neither hear nor speak to the caller.
      for (const old of h.ctx.getWebSockets(MEDIA)) closeQuietly(old, 1000, 'taken over');
      void this.handOver(ws, true, workerId);
    } else {
      await h.save({ ...moveTo(rec, 'claimed', Date.now()), workerId });
      h.claimed.resolveAll(undefined);
      void this.handOver(ws);
    }
    return response;
  }

  /**
   * Sends the claiming worker the session; a TURN provider failure ends it. A phone or stream
   * session's worker then dials the media socket (media-relay.ts), which starts with the stream's
   * `start`.
   */
  private async handOver(ws: WebSocket, takeover = false, workerId?: string): Promise<void> {
    const h = this.host;
    try {
      // A takeover carries the legs still up: each leg's object now answers only the new worker.
      const legs = takeover && workerId && this.legs ? await this.legs.forTakeover(workerId) : [];
      ws.send(JSON.stringify(await buildHandover(h.rec!, h.config, takeover, legs)));
    } catch (err) {
      await h.end('error', `TURN credentials for the worker: ${(err as Error).message}`);
    }
  }

  /** A text frame from the worker: parsed once (ControlToEdge); a bad one is answered with `error`. */
  async onMessage(text: string): Promise<void> {
    const parsed = parseControlToEdge(text);
    if (!parsed.ok) {
      this.host.send({ type: 'error', message: parsed.error });
      return;
    }
    await this.fromWorker(parsed.value);
  }

  private async fromWorker(msg: ControlToEdge): Promise<void> {
    const h = this.host;
    const rec = h.rec;
    if (rec && msg.type === 'recording.saved') {
      // Also after the end: the worker closes a recording's files once the call is over.
      const { type: _type, ...saved } = msg;
      // A session taken over records in parts (`mix`, then `mix-<part>`): each part's files add up.
      const tracks = [...(rec.recording?.tracks ?? []), ...saved.tracks].slice(0, MAX_RECORDING_TRACKS);
      const failed = [...(rec.recording?.failed ?? []), ...(saved.failed ?? [])].slice(0, MAX_RECORDING_TRACKS);
      await h.save({ ...rec, recording: failed.length ? { tracks, failed } : { tracks } });
      return;
    }
    if (!rec || rec.state === 'ended') return;
    switch (msg.type) {
      case 'answer': {
        const etag = `"${crypto.randomUUID()}"`;
        await h.save({ ...rec, answer: msg.sdp, etag });
        h.answered.resolveAll({ answer: msg.sdp, etag });
        return;
      }
      case 'state':
        if (rec.state === 'claimed') await h.save(moveTo(rec, 'live', Date.now()));
        return;
      case 'end':
        // A client that broke the data channel's limits ends as 'abuse', a provider's `stop` as
        // 'phone_hangup'; any other worker end is 'worker_ended', its reason and detail kept as
        // the status detail.
        if (msg.reason === 'abuse') await h.end('abuse', msg.detail);
        // The worker read the provider's `stop`: the caller hung up.
        else if (msg.reason === 'phone_hangup') await h.end('phone_hangup', msg.detail);
        else await h.end('worker_ended', [msg.reason, msg.detail].filter(Boolean).join(': ') || undefined);
        return;
      case 'checkpoint': {
        const problem = checkpointProblem(msg.state);
        if (problem) h.send({ type: 'error', message: problem });
        else await h.save({ ...rec, checkpoint: msg.state });
        return;
      }
      case 'recording.saved':
        return;
      case 'leg.joined':
      case 'leg.left':
        await this.legs?.fromWorker(msg);
        return;
      case 'leg.dial':
        await this.legs?.dialForWorker(msg);
        return;
      case 'leg.hangup':
        await this.legs?.hangupForWorker(msg.legId);
        return;
      case 'transfer': {
        // The session's own call here; a leg's in the leg's object, which reports back through this one.
        const t = { requestId: msg.requestId, to: msg.to, from: msg.from };
        const begun = msg.legId === rec.id ? await this.transfer?.begin(t) : await this.legs?.transferLeg(msg.legId, t);
        if (begun && !begun.ok) h.send({ type: 'transfer.result', requestId: msg.requestId, ok: false, reason: begun.code, detail: begun.message.slice(0, 256) });
        return;
      }
      case 'ice.refresh': {
        try {
          const ice = await mintIceServers(h.config, `worker:${rec.id}`);
          h.send({ type: 'ice-servers', iceServers: ice.iceServers, expiresAt: ice.expiresAt });
        } catch (err) {
          h.send({ type: 'error', message: (err as Error).message });
        }
        return;
      }
    }
  }

  /**
   * The control WebSocket closed. The worker may dial back in with its resume token within
   * CONTROL_GRACE_MS (a transient drop). A phone call (or stream client) is also re-queued for another worker at
   * once; a WebRTC session waits up to RESUME_WINDOW_MS for its client to resume. Otherwise the
   * alarm ends it as worker_lost.
   */
  async onClose(code: number): Promise<void> {
    const h = this.host;
    const rec = h.rec;
    if (!rec || rec.state === 'ended' || h.controlSocket()) return;
    const detail = `control WebSocket closed (${code})`;
    if (rec.state !== 'claimed' && rec.state !== 'live') await h.end('worker_lost', detail);
    else if (rec.kind !== 'webrtc') await this.requeue(rec, detail);
    else if (this.resuming) {
      // The worker dropped while the client's resume waited for its answer: another worker gets the offer.
      const failed = await this.requeueForResume({ ...rec, controlLostAt: Date.now(), detail }, this.resuming.offer, this.resuming.offerUfrag, Date.now());
      if (failed) console.warn(`session ${rec.id}: ${failed.message}`);
    } else await h.save({ ...rec, controlLostAt: Date.now(), detail });
  }

  /**
   * A phone call's (or stream client's) worker was lost mid-call: the peer's WebSocket stays open (the caller hears
   * silence, not a hang-up) and the call goes back on the queue; the first worker to claim it
   * takes it over (or the lost worker dials back in, if the drop was transient). Nobody within
   * CONTROL_GRACE_MS: the alarm ends it as worker_lost.
   */
  async requeue(rec: SessionRecord, detail: string): Promise<void> {
    const h = this.host;
    const takeovers = rec.takeovers ?? 0;
    if (takeovers >= MAX_TAKEOVERS) return h.end('worker_lost', `${detail}; already taken over ${takeovers} times`);
    const now = Date.now();
    const next: SessionRecord = {
      ...rec,
      controlLostAt: now,
      requeuedAt: now,
      detail,
      takeovers: takeovers + 1,
      jobExpiresAt: Math.min(now + CONTROL_GRACE_MS, rec.endsAt),
    };
    await h.save(next);
    try {
      await h.queueJob(next);
    } catch (err) {
      await h.end('worker_lost', `${detail}; re-queue failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /**
   * Re-queues a WebRTC session whose worker was lost with the client's new offer: the first worker
   * to claim it takes it over (handover with `takeover` and the last checkpoint). A retry while the
   * job is still out replaces the offer and sends the job again without counting another takeover.
   * Returns the failure to answer the resume with, or null once the job is on the queue.
   */
  async requeueForResume(rec: SessionRecord, offer: string, offerUfrag: string, now: number): Promise<Failure | null> {
    const h = this.host;
    const takeovers = rec.takeovers ?? 0;
    const counted = rec.requeuedAt === undefined;
    if (counted && takeovers >= MAX_TAKEOVERS) {
      await h.end('worker_lost', `control WebSocket closed; already taken over ${takeovers} times`);
      return fail(410, 'gone', `session has ended (worker_lost: already taken over ${takeovers} times)`);
    }
    const next: SessionRecord = {
      ...rec,
      offer,
      offerUfrag,
      controlLostAt: rec.controlLostAt ?? now,
      requeuedAt: now,
      takeovers: counted ? takeovers + 1 : takeovers,
      jobExpiresAt: Math.min(now + h.config.CLAIM_TIMEOUT_MS, rec.endsAt),
    };
    await h.save(next);
    try {
      await h.queueJob(next);
    } catch (err) {
      const { requeuedAt: _requeued, ...waiting } = next;
      await h.save(waiting);
      return fail(502, 'upstream_failed', `re-queuing the session failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    return null;
  }

  /**
   * The alarm of a session whose worker was lost, before its deadline (lostDeadline): a re-queued
   * job is sent once more (see REQUEUE_RESEND_MS: the lost worker's own long poll may have
   * swallowed the first copy); a resumed session's job that expired unclaimed leaves the session
   * resumable until its window ends.
   */
  async whileLost(rec: SessionRecord, now: number): Promise<void> {
    const h = this.host;
    if (rec.requeuedAt !== undefined && now < rec.jobExpiresAt) {
      await h.save({ ...rec, requeuedAt: now });
      try {
        await h.queueJob(rec);
      } catch (err) {
        console.warn(`session ${rec.id}: re-sending the job failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    } else {
      const { requeuedAt: _requeued, ...waiting } = rec;
      await h.save(waiting);
    }
  }
}
