import { DurableObject } from 'cloudflare:workers';
import {
  mintControlToken,
  parseControlToEdge,
  parseTwilioInbound,
  verifyControlToken,
  type ControlToEdge,
  type ControlToWorker,
  type EndReason,
  type PhoneCall,
  type SessionJob,
  type SessionKind,
  type SessionStatus,
} from '@switchboard/protocol';
import { seesInternals, type Caller } from '../auth/guards.ts';
import { loadConfig, requireSetting, type Config } from '../config.ts';
import type { Env } from '../env.ts';
import { HttpError } from '../errors.ts';
import { sendJob } from '../queue/sqs.ts';
import type { TrickleFragment } from '../sdp/trickle.ts';
import { mintIceServers } from '../turn/mint.ts';
import { jsonError } from './json-error.ts';
import { decideControlDial } from './control-dial.ts';
import { releaseSessionSlot } from './client-stub.ts';
import { buildHandover } from './handover.ts';
import { mintMediaToken } from './media-token.ts';
import type { PhoneVoiceAction } from '../telephony/voice-action.ts';
import { CONTROL_GRACE_MS, lostDeadline, MAX_TAKEOVERS, moveTo, nextDeadline, RESUME_WINDOW_MS, toStatus, type SessionRecord } from './record.ts';
import { checkpointProblem, decideResume } from './resume-decision.ts';
import { fail, type Failure, type Result } from './results.ts';
import { Waiters } from './waiters.ts';

const CONTROL = 'control';
const TWILIO = 'twilio';
/** How long one voice webhook waits for a claim before answering with hold music and a redirect. */
const VOICE_WEBHOOK_WAIT_MS = 3000;
/** Lifetime of the `<Parameter name="token">` handed to Twilio's stream. */
const MEDIA_TOKEN_TTL_MS = 300_000;
/** How long a voice request waits for an attached stream to close before answering without a token. */
const STREAM_CLOSE_WAIT_MS = 2000;

/**
 * One per session: the state machine (created -> queued -> claimed -> live -> ended), the
 * rendezvous between the client and the media worker that claims it over the control WebSocket
 * (hibernation API), and the pipe between Twilio's Media Stream and that worker.
 */
export class CallSession extends DurableObject<Env> {
  private rec: SessionRecord | null = null;
  private readonly answered = new Waiters<{ answer: string; etag: string }>();
  private readonly claimed = new Waiters<void>();
  /** Voice requests waiting for Twilio's attached stream to close (see voice()). */
  private readonly streamClosed = new Waiters<void>();
  /** The alarm this object has set since it woke (null: unknown, or none). */
  private alarmAt: number | null = null;
  /** The offer of the client's resume in progress (one at a time), for a takeover if the worker drops meanwhile. */
  private resuming: { offer: string; offerUfrag: string } | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // SQLite-backed storage reads synchronously: no gate to hold while the record loads.
    this.rec = ctx.storage.kv.get<SessionRecord>('rec') ?? null;
  }

  /** The record as it is now (a method, so TypeScript does not carry narrowing across awaits). */
  private current(): SessionRecord | null {
    return this.rec;
  }

  private get config(): Config {
    return loadConfig(this.env);
  }

  /**
   * Writes the record and, when it moved, its next deadline, in one implicit transaction (both
   * issued in the same synchronous step); the output gate holds replies until it is durable. A
   * write that keeps the deadline (the answer after the claim, say) leaves the alarm as it is.
   */
  private async save(rec: SessionRecord): Promise<void> {
    this.rec = rec;
    this.ctx.storage.kv.put('rec', rec);
    const deadline = nextDeadline(rec);
    if (deadline !== this.alarmAt) await this.setAlarm(deadline);
  }

  private async setAlarm(at: number): Promise<void> {
    this.alarmAt = at;
    try {
      await this.ctx.storage.setAlarm(at);
    } catch (err) {
      this.alarmAt = null;
      throw err;
    }
  }

  /** The open socket with this tag (a closing one still shows in getWebSockets during its close). */
  private openSocket(tag: string): WebSocket | undefined {
    return this.ctx.getWebSockets(tag).find((ws) => ws.readyState === WebSocket.OPEN);
  }

  private controlSocket(): WebSocket | undefined {
    return this.openSocket(CONTROL);
  }

  private twilioSocket(): WebSocket | undefined {
    return this.openSocket(TWILIO);
  }

  private send(msg: ControlToWorker): void {
    this.controlSocket()?.send(JSON.stringify(msg));
  }

  /** Creates the session record and puts its job on the queue. */
  private async createAndQueue(id: string, kind: SessionKind, now: number, extra: Partial<SessionRecord>, waitMs: number) {
    const config = this.config;
    const rec: SessionRecord = {
      id,
      kind,
      state: 'created',
      createdAt: now,
      jobExpiresAt: now + waitMs,
      endsAt: now + config.SESSION_TIME_LIMIT_MS,
      ...extra,
    };
    // Queued before the send: a fast worker may claim before SendMessage returns.
    await this.save(moveTo(rec, 'queued', now));
    try {
      await this.queueJob(rec);
    } catch (err) {
      await this.end('error', err instanceof Error ? err.message : String(err));
      throw err;
    }
  }

  /** Sends the session's job (a control token valid until rec.jobExpiresAt) to the queue. */
  private async queueJob(rec: SessionRecord): Promise<void> {
    const config = this.config;
    const job: SessionJob = {
      v: 1,
      sessionId: rec.id,
      kind: rec.kind,
      createdAt: rec.createdAt,
      expiresAt: rec.jobExpiresAt,
      controlToken: await mintControlToken(requireSetting(config.CONTROL_SECRET, 'CONTROL_SECRET'), rec.id, rec.jobExpiresAt),
    };
    await sendJob(config, job);
  }

  /**
   * A phone call's worker was lost mid-call: Twilio's WebSocket stays open (the caller hears
   * silence, not a hang-up) and the call goes back on the queue; the first worker to claim it
   * takes it over (or the lost worker dials back in, if the drop was transient). Nobody within
   * CONTROL_GRACE_MS: the alarm ends it as worker_lost.
   */
  private async requeue(rec: SessionRecord, detail: string): Promise<void> {
    const takeovers = rec.takeovers ?? 0;
    if (takeovers >= MAX_TAKEOVERS) return this.end('worker_lost', `${detail}; already taken over ${takeovers} times`);
    const now = Date.now();
    const next: SessionRecord = {
      ...rec,
      controlLostAt: now,
      requeuedAt: now,
      detail,
      takeovers: takeovers + 1,
      jobExpiresAt: Math.min(now + CONTROL_GRACE_MS, rec.endsAt),
    };
    await this.save(next);
    try {
      await this.queueJob(next);
    } catch (err) {
      await this.end('worker_lost', `${detail}; re-queue failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Sends a re-queued call's job once more (see REQUEUE_RESEND_MS); the next alarm follows. */
  private async resendJob(rec: SessionRecord, now: number): Promise<void> {
    const next: SessionRecord = { ...rec, requeuedAt: now };
    await this.save(next);
    try {
      await this.queueJob(next);
    } catch (err) {
      console.warn(`session ${rec.id}: re-sending the job failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  // ---- RPC from the routes -------------------------------------------------------------------

  /** WHIP: creates the session, queues it and waits for the claiming worker's SDP answer. */
  async startWebRtc(args: {
    id: string;
    offer: string;
    offerUfrag: string;
    caller: Caller;
    /** The ClientSessions slot the route took for it (released when the session ends) and its expiry. */
    clientKey: string;
    endsAt: number;
  }): Promise<Result<{ answer: string; etag: string }>> {
    if (this.rec) return fail(409, 'conflict', 'session already exists');
    const timeout = this.config.CLAIM_TIMEOUT_MS;
    const extra: Partial<SessionRecord> = { offer: args.offer, offerUfrag: args.offerUfrag, clientKey: args.clientKey, endsAt: args.endsAt };
    if (args.caller.kind === 'client') extra.clientSubject = args.caller.subject;
    try {
      await this.createAndQueue(args.id, 'webrtc', Date.now(), extra, timeout);
    } catch (err) {
      return asFailure(err);
    }
    const now = this.current();
    const early = now?.answer && now.etag ? { answer: now.answer, etag: now.etag } : null;
    const got = early ?? (await this.answered.wait(timeout));
    if (got) return { ok: true, ...got };
    const after = this.current();
    if (after && after.state !== 'ended') await this.end('claim_timeout');
    const final = this.current();
    if (final?.reason === 'claim_timeout') return fail(503, 'no_worker', `no media worker answered within ${timeout} ms`);
    return fail(502, 'session_failed', `session ended before an answer: ${final?.reason ?? 'unknown'} ${final?.detail ?? ''}`.trim());
  }

  async status(caller: Caller): Promise<Result<{ status: SessionStatus }>> {
    const denied = this.checkClient(caller);
    if (denied) return denied;
    return { ok: true, status: toStatus(this.rec!, seesInternals(caller)) };
  }

  /** WHIP PATCH: relays trickled candidates to the worker. */
  async trickle(frag: TrickleFragment, caller: Caller, ifMatch: string | null): Promise<Result<object>> {
    const denied = this.checkClient(caller);
    if (denied) return denied;
    const rec = this.rec!;
    if (rec.state === 'ended') return fail(404, 'not_found', 'session has ended');
    if (ifMatch && ifMatch !== '*' && ifMatch !== rec.etag) return fail(412, 'precondition_failed', 'If-Match does not match the session ETag');
    if (frag.ufrag && rec.offerUfrag && frag.ufrag !== rec.offerUfrag)
      return fail(400, 'ice_restart_unsupported', 'ICE restart is not supported: start a new session');
    this.send({ type: 'candidates', ...frag });
    return { ok: true };
  }

  /** WHIP DELETE: ends the session and returns its status. Ending an ended session is a no-op. */
  async hangup(caller: Caller): Promise<Result<{ status: SessionStatus }>> {
    const denied = this.checkClient(caller);
    if (denied) return denied;
    await this.end('client_hangup');
    return { ok: true, status: toStatus(this.rec!, seesInternals(caller)) };
  }

  /**
   * `POST /v1/sessions/{id}/resume`: a fresh offer for a WebRTC session whose connection failed.
   * A live worker gets it as `offer`; a lost one (within RESUME_WINDOW_MS) is replaced by re-queuing
   * the session as a takeover carrying it. Either way the next `answer` (within CLAIM_TIMEOUT_MS)
   * is the reply, with a new ETag; the session keeps its id.
   */
  async resume(args: { offer: string; offerUfrag: string; caller: Caller }): Promise<Result<{ answer: string; etag: string }>> {
    const denied = this.checkClient(args.caller);
    if (denied) return denied;
    const rec = this.rec!;
    const now = Date.now();
    const decision = decideResume(rec, { controlOpen: this.controlSocket() !== undefined, resuming: this.resuming !== null, now });
    if ('status' in decision) {
      if (decision.endLost) await this.end('worker_lost', `control WebSocket closed; no resume within ${RESUME_WINDOW_MS} ms`);
      return fail(decision.status, decision.code, decision.message);
    }
    const timeout = this.config.CLAIM_TIMEOUT_MS;
    this.resuming = { offer: args.offer, offerUfrag: args.offerUfrag };
    try {
      // Waiting from before the offer leaves: the answer may come back before the send returns.
      const answer = this.answered.wait(timeout);
      if (decision.kind === 'forward') {
        await this.save({ ...rec, offer: args.offer, offerUfrag: args.offerUfrag });
        this.send({ type: 'offer', offer: args.offer });
      } else {
        const failed = await this.requeueForResume(rec, args.offer, args.offerUfrag, now);
        if (failed) return failed;
      }
      const got = await answer;
      if (got) return { ok: true, ...got };
      const after = this.current();
      if (!after || after.state === 'ended') return fail(410, 'gone', `session has ended (${after?.reason ?? 'unknown'})`);
      return fail(503, 'no_worker', `no media worker answered the new offer within ${timeout} ms`);
    } finally {
      this.resuming = null;
    }
  }

  /**
   * Re-queues a WebRTC session whose worker was lost with the client's new offer: the first worker
   * to claim it takes it over (handover with `takeover` and the last checkpoint). A retry while the
   * job is still out replaces the offer and sends the job again without counting another takeover.
   * Returns the failure to answer the resume with, or null once the job is on the queue.
   */
  private async requeueForResume(rec: SessionRecord, offer: string, offerUfrag: string, now: number): Promise<Failure | null> {
    const takeovers = rec.takeovers ?? 0;
    const counted = rec.requeuedAt === undefined;
    if (counted && takeovers >= MAX_TAKEOVERS) {
      await this.end('worker_lost', `control WebSocket closed; already taken over ${takeovers} times`);
      return fail(410, 'gone', `session has ended (worker_lost: already taken over ${takeovers} times)`);
    }
    const next: SessionRecord = {
      ...rec,
      offer,
      offerUfrag,
      controlLostAt: rec.controlLostAt ?? now,
      requeuedAt: now,
      takeovers: counted ? takeovers + 1 : takeovers,
      jobExpiresAt: Math.min(now + this.config.CLAIM_TIMEOUT_MS, rec.endsAt),
    };
    await this.save(next);
    try {
      await this.queueJob(next);
    } catch (err) {
      const { requeuedAt: _requeued, ...waiting } = next;
      await this.save(waiting);
      return fail(502, 'upstream_failed', `re-queuing the session failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    return null;
  }

  /** Creates (idempotently) and queues a phone session. */
  async startPhone(id: string, call: PhoneCall): Promise<Result<object>> {
    if (this.rec) return { ok: true };
    try {
      await this.createAndQueue(id, 'phone', Date.now(), { call }, this.config.PHONE_WAIT_MS);
    } catch (err) {
      return asFailure(err);
    }
    return { ok: true };
  }

  /**
   * The voice webhook, its hold redirects and `<Connect action>` (Twilio's request when a stream
   * ends without the call ending): connect once claimed, else hold, else goodbye. Each connect
   * mints a fresh single-use media token and records its nonce, replacing any earlier unused one
   * (Twilio uses the answer it got last). While a stream is attached no token is handed out: a
   * replayed webhook gets a silent redirect, after waiting briefly for the stream to close, as
   * Twilio's own action request can arrive before the old stream's close does.
   */
  async voice(id: string, call: PhoneCall): Promise<Result<PhoneVoiceAction>> {
    const started = await this.startPhone(id, call);
    if (!started.ok) return started;
    let rec = this.rec!;
    if (rec.state === 'created' || rec.state === 'queued') {
      const left = rec.jobExpiresAt - Date.now();
      if (left > 0) await this.claimed.wait(Math.min(left, VOICE_WEBHOOK_WAIT_MS));
      rec = this.rec!;
    }
    if ((rec.state === 'claimed' || rec.state === 'live') && this.twilioSocket()) {
      await this.streamClosed.wait(STREAM_CLOSE_WAIT_MS);
      rec = this.rec!;
      if (rec.state !== 'ended' && this.twilioSocket()) return { ok: true, action: 'wait' };
    }
    if (rec.state === 'claimed' || rec.state === 'live') {
      const minted = await mintMediaToken(
        requireSetting(this.config.CONTROL_SECRET, 'CONTROL_SECRET'),
        id,
        Date.now() + MEDIA_TOKEN_TTL_MS,
      );
      const now = this.current();
      if (now && now.state !== 'ended') {
        await this.save({ ...now, mediaNonce: minted.nonce, mediaNonceUsed: false });
        return { ok: true, action: 'connect', sessionId: id, token: minted.token };
      }
      rec = this.rec!;
    }
    // A session that ran ends its call without a word; one nobody took says it was busy.
    if (rec.state === 'ended') return { ok: true, action: rec.claimedAt !== undefined ? 'hangup' : 'goodbye' };
    if (Date.now() >= rec.jobExpiresAt) {
      await this.end('claim_timeout');
      return { ok: true, action: 'goodbye' };
    }
    return { ok: true, action: 'hold' };
  }

  /** Twilio status callback: terminal call states end the session. */
  async phoneStatus(callStatus: string): Promise<void> {
    if (!this.rec) return;
    if (callStatus === 'completed') await this.end('phone_hangup');
    else if (['busy', 'failed', 'no-answer', 'canceled'].includes(callStatus)) await this.end('call_failed', callStatus);
  }

  /**
   * The one place this object authorizes a caller (the Caller a route got from requireClient).
   * API keys and AUTH_MODE=none act on any session; a client token only on a WebRTC session
   * created by a token of the same subject. Anything else is the 404 of an unknown session, so a
   * client learns nothing of sessions that are not its own, phone sessions included.
   */
  private checkClient(caller: Caller): Failure | null {
    const rec = this.rec;
    if (!rec) return fail(404, 'not_found', 'no such session');
    if (caller.kind === 'apiKey' || caller.kind === 'open') return null;
    if (rec.kind !== 'webrtc' || rec.clientSubject === undefined || rec.clientSubject !== caller.subject)
      return fail(404, 'not_found', 'no such session');
    return null;
  }

  // ---- WebSocket upgrades (control from workers, media from the Twilio proxy) ----------------

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get('Upgrade')?.toLowerCase() !== 'websocket')
      return jsonError(426, 'upgrade_required', 'expected a WebSocket upgrade');
    const path = new URL(request.url).pathname;
    if (path === '/control') return this.acceptControl(request);
    if (path === '/twilio-media') return this.acceptTwilio(request);
    return jsonError(404, 'not_found', 'unknown session endpoint');
  }

  /** A worker dials the control WebSocket: a claim (first wins) or its resume after a drop. */
  private async acceptControl(request: Request): Promise<Response> {
    const token = /^Bearer\s+(\S+)$/i.exec(request.headers.get('Authorization') ?? '')?.[1];
    if (!token) return jsonError(401, 'unauthorized', 'missing Authorization: Bearer <controlToken>');
    const secret = this.config.CONTROL_SECRET;
    if (!secret) return jsonError(500, 'misconfigured', 'CONTROL_SECRET is not set');
    const workerId = (request.headers.get('X-Worker-Id') ?? 'unknown').slice(0, 128);
    const decision = await decideControlDial({
      secret,
      sessionId: request.headers.get('X-Session-Id') ?? '',
      token,
      workerId,
      rec: this.rec,
      controlOpen: this.controlSocket() !== undefined,
      now: Date.now(),
    });
    if ('status' in decision) return jsonError(decision.status, decision.code, decision.message);
    const rec = this.rec!;
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1], [CONTROL]);
    if (decision.kind === 'resume') {
      const { controlLostAt: _lost, requeuedAt: _requeued, detail: _detail, ...back } = rec;
      await this.save(back);
      // Twilio's stream may have been replaced while the worker was away (an edge restart): its
      // current `start` again (the worker ignores a start it already has).
      if (rec.kind === 'phone' && rec.twilioStart) pair[1].send(`{"type":"twilio","message":${rec.twilioStart}}`);
    } else if (decision.kind === 'takeover') {
      const { controlLostAt: _lost, requeuedAt: _requeued, detail: _detail, ...taken } = rec;
      await this.save({ ...taken, workerId });
      void this.handOver(pair[1], true);
    } else {
      await this.save({ ...moveTo(rec, 'claimed', Date.now()), workerId });
      this.claimed.resolveAll(undefined);
      void this.handOver(pair[1]);
    }
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  /**
   * Sends the claiming worker the session; a TURN provider failure ends it. A worker taking a call
   * over also gets Twilio's `start` frame again (the stream has been running since).
   */
  private async handOver(ws: WebSocket, takeover = false): Promise<void> {
    try {
      ws.send(JSON.stringify(await buildHandover(this.rec!, this.config, takeover)));
      const start = this.current()?.twilioStart;
      if (takeover && start) ws.send(`{"type":"twilio","message":${start}}`);
    } catch (err) {
      await this.end('error', `TURN credentials for the worker: ${(err as Error).message}`);
    }
  }

  /**
   * The stream bridge attaches Twilio's stream once `start` arrived and its token's HMAC checked
   * out (X-Media-Nonce, X-Call-Sid, X-Media-Format-Problem from that `start`). This checks what
   * only the session knows: the nonce is the one it last minted and unused (then consumed: a
   * replayed TwiML answer cannot attach a second stream), and the call is this session's. Only
   * then may a refused audio format end the session. A stream arriving while no worker holds the
   * call, with no drop seen (the edge restarted under both sockets), re-queues it for a worker.
   */
  private async acceptTwilio(request: Request): Promise<Response> {
    const rec = this.rec;
    if (!rec || rec.kind !== 'phone') return jsonError(404, 'not_found', 'no such phone session');
    if (rec.state === 'ended') return jsonError(410, 'gone', 'session has ended');
    if (this.twilioSocket()) return jsonError(409, 'conflict', 'a media stream is already attached');
    const nonce = request.headers.get('X-Media-Nonce');
    if (!rec.mediaNonce || nonce !== rec.mediaNonce || rec.mediaNonceUsed)
      return jsonError(403, 'forbidden', 'stream token already used or superseded');
    if (request.headers.get('X-Call-Sid') !== rec.call?.callSid) return jsonError(403, 'forbidden', 'start.callSid is not this session\'s call');
    const formatProblem = request.headers.get('X-Media-Format-Problem');
    if (formatProblem) {
      await this.end('error', formatProblem);
      return jsonError(415, 'unsupported_media_format', formatProblem);
    }
    const { twilioLostAt: _lost, ...attached } = rec;
    await this.save({ ...attached, mediaNonceUsed: true });
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1], [TWILIO]);
    const now = this.current()!;
    if ((now.state === 'claimed' || now.state === 'live') && !this.controlSocket() && now.controlLostAt === undefined)
      await this.requeue(now, 'control WebSocket gone without a close (the edge restarted)');
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const tag = this.ctx.getTags(ws)[0];
    if (typeof message !== 'string') {
      if (tag === CONTROL) this.send({ type: 'error', message: 'binary frames are not accepted' });
      return;
    }
    if (tag === TWILIO) return this.fromTwilio(message);
    if (tag === CONTROL) {
      const parsed = parseControlToEdge(message);
      if (!parsed.ok) {
        this.send({ type: 'error', message: parsed.error });
        return;
      }
      return this.fromWorker(parsed.value);
    }
  }

  private async fromWorker(msg: ControlToEdge): Promise<void> {
    const rec = this.rec;
    if (!rec || rec.state === 'ended') return;
    switch (msg.type) {
      case 'answer': {
        const etag = `"${crypto.randomUUID()}"`;
        await this.save({ ...rec, answer: msg.sdp, etag });
        this.answered.resolveAll({ answer: msg.sdp, etag });
        return;
      }
      case 'state':
        if (rec.state === 'claimed') await this.save(moveTo(rec, 'live', Date.now()));
        return;
      case 'end':
        // A client that broke the data channel's limits ends as 'abuse'; any other worker end is
        // 'worker_ended', its reason and detail kept as the status detail.
        if (msg.reason === 'abuse') await this.end('abuse', msg.detail);
        else await this.end('worker_ended', [msg.reason, msg.detail].filter(Boolean).join(': ') || undefined);
        return;
      case 'checkpoint': {
        const problem = checkpointProblem(msg.state);
        if (problem) this.send({ type: 'error', message: problem });
        else await this.save({ ...rec, checkpoint: msg.state });
        return;
      }
      case 'ice.refresh': {
        try {
          const ice = await mintIceServers(this.config, `worker:${rec.id}`);
          this.send({ type: 'ice-servers', iceServers: ice.iceServers, expiresAt: ice.expiresAt });
        } catch (err) {
          this.send({ type: 'error', message: (err as Error).message });
        }
        return;
      }
      case 'twilio':
        // One message to the stream's bridge, one line per Twilio frame (JSON text has no raw newline).
        this.twilioSocket()?.send(msg.messages.map((m) => JSON.stringify(m)).join('\n'));
        return;
    }
  }

  /** A Twilio Media Streams frame: validated, then passed to the worker as sent. */
  private async fromTwilio(text: string): Promise<void> {
    const parsed = parseTwilioInbound(text);
    if (!parsed.ok) {
      console.warn(`session ${this.rec?.id}: dropped Twilio frame: ${parsed.error}`);
      return;
    }
    this.controlSocket()?.send(`{"type":"twilio","message":${text}}`);
    const rec = this.rec;
    // The latest stream's `start`: replayed to a worker that takes the call over or dials back in.
    if (parsed.value.event === 'start' && rec && rec.state !== 'ended' && rec.twilioStart !== text) await this.save({ ...rec, twilioStart: text });
    if (parsed.value.event === 'stop') await this.end('phone_hangup');
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    const tag = this.ctx.getTags(ws)[0];
    if (tag === CONTROL) {
      const rec = this.rec;
      if (!rec || rec.state === 'ended' || this.controlSocket()) return;
      // The worker may dial back in with its resume token within CONTROL_GRACE_MS (a transient
      // drop). A phone call is also re-queued for another worker at once; a WebRTC session waits
      // up to RESUME_WINDOW_MS for its client to resume. Otherwise the alarm ends it as worker_lost.
      const detail = `control WebSocket closed (${code})`;
      if (rec.state !== 'claimed' && rec.state !== 'live') await this.end('worker_lost', detail);
      else if (rec.kind === 'phone') await this.requeue(rec, detail);
      else if (this.resuming) {
        // The worker dropped while the client's resume waited for its answer: another worker gets the offer.
        const failed = await this.requeueForResume({ ...rec, controlLostAt: Date.now(), detail }, this.resuming.offer, this.resuming.offerUfrag, Date.now());
        if (failed) console.warn(`session ${rec.id}: ${failed.message}`);
      } else await this.save({ ...rec, controlLostAt: Date.now(), detail });
    } else if (tag === TWILIO) {
      this.streamClosed.resolveAll(undefined);
      const rec = this.rec;
      if (!rec || rec.state === 'ended' || this.twilioSocket()) return;
      // Closed without `stop` (a `stop` ends the session before the close): the edge restarted or
      // this object was reset under the stream. The call goes on: Twilio requests <Connect action>
      // and gets a new stream. A completed status callback, or the worker hearing no media for a
      // while, ends it.
      await this.save({ ...rec, twilioLostAt: Date.now() });
      this.send({ type: 'twilio.lost', code });
    }
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    await this.webSocketClose(ws, 1006);
  }

  /**
   * Deadlines: claim timeout, time limit, a lost worker's (re-sending a re-queued job until it
   * expires, then giving the session up: see lostDeadline), and the purge of an ended session.
   */
  override async alarm(): Promise<void> {
    // A running alarm is no longer set.
    this.alarmAt = null;
    const rec = this.rec;
    if (!rec) return;
    const now = Date.now();
    if (now < nextDeadline(rec)) {
      await this.setAlarm(nextDeadline(rec));
      return;
    }
    if (rec.state === 'created' || rec.state === 'queued') await this.end('claim_timeout');
    else if ((rec.state === 'claimed' || rec.state === 'live') && rec.controlLostAt !== undefined && now < lostDeadline(rec, rec.controlLostAt)) {
      if (rec.requeuedAt !== undefined && now < rec.jobExpiresAt) await this.resendJob(rec, now);
      else {
        // A resumed session's job expired unclaimed: it stays resumable until its window ends.
        const { requeuedAt: _requeued, ...waiting } = rec;
        await this.save(waiting);
      }
    } else if ((rec.state === 'claimed' || rec.state === 'live') && rec.controlLostAt !== undefined && now < rec.endsAt)
      await this.end(
        'worker_lost',
        rec.kind === 'webrtc'
          ? `control WebSocket closed ${now - rec.controlLostAt} ms ago; the worker did not dial back in and no resume was taken over`
          : rec.requeuedAt !== undefined
            ? `control WebSocket closed ${CONTROL_GRACE_MS} ms ago; no worker dialled back in or took the call over`
            : `control WebSocket closed ${CONTROL_GRACE_MS} ms ago and the worker did not dial back in`,
      );
    else if (rec.state === 'claimed' || rec.state === 'live') await this.end('time_limit');
    else {
      await this.ctx.storage.deleteAll();
      this.rec = null;
    }
  }

  /** Ends the session once: records why, tells the worker, closes both sockets. */
  private async end(reason: EndReason, detail?: string): Promise<void> {
    const rec = this.rec;
    if (!rec || rec.state === 'ended') return;
    const ended: SessionRecord = { ...moveTo(rec, 'ended', Date.now()), reason };
    if (detail) ended.detail = detail.slice(0, 256);
    await this.save(ended);
    const control = this.controlSocket();
    if (control) {
      if (reason !== 'worker_ended' && reason !== 'worker_lost') this.send({ type: 'hangup', reason });
      safeClose(control, 1000, reason);
    }
    const twilio = this.twilioSocket();
    if (twilio) safeClose(twilio, 1000, reason);
    this.answered.resolveAll(null);
    this.claimed.resolveAll(null);
    if (rec.clientKey) await releaseSessionSlot(this.env, rec.clientKey, rec.id);
  }
}

function safeClose(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    // already closing
  }
}

function asFailure(err: unknown): Failure {
  if (err instanceof HttpError && (err.status === 500 || err.status === 502 || err.status === 503))
    return fail(err.status, err.code, err.message);
  return fail(502, 'upstream_failed', err instanceof Error ? err.message : String(err));
}
