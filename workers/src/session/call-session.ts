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
import { loadConfig, requireSetting, type Config } from '../config.ts';
import type { Env } from '../env.ts';
import { HttpError } from '../errors.ts';
import { sendJob } from '../queue/sqs.ts';
import type { TrickleFragment } from '../sdp/trickle.ts';
import { mintIceServers } from '../turn/mint.ts';
import { jsonError } from './json-error.ts';
import { decideControlDial } from './control-dial.ts';
import { buildHandover } from './handover.ts';
import { mediaTokenSubject } from './media-token.ts';
import { CONTROL_GRACE_MS, MAX_TAKEOVERS, moveTo, nextDeadline, toStatus, type SessionRecord } from './record.ts';
import { fail, type Failure, type Result, type VoiceAction } from './results.ts';
import { Waiters } from './waiters.ts';

const CONTROL = 'control';
const TWILIO = 'twilio';
/** How long one voice webhook waits for a claim before answering with hold music and a redirect. */
const VOICE_WEBHOOK_WAIT_MS = 3000;
/** Lifetime of the `<Parameter name="token">` handed to Twilio's stream. */
const MEDIA_TOKEN_TTL_MS = 300_000;

/**
 * One per session: the state machine (created -> queued -> claimed -> live -> ended), the
 * rendezvous between the client and the media worker that claims it over the control WebSocket
 * (hibernation API), and the pipe between Twilio's Media Stream and that worker.
 */
export class CallSession extends DurableObject<Env> {
  private rec: SessionRecord | null = null;
  private readonly answered = new Waiters<{ answer: string; etag: string }>();
  private readonly claimed = new Waiters<void>();
  /** The alarm this object has set since it woke (null: unknown, or none). */
  private alarmAt: number | null = null;

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
    const next: SessionRecord = { ...rec, requeuedAt: now, jobExpiresAt: Math.min(rec.controlLostAt! + CONTROL_GRACE_MS, rec.endsAt) };
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
    clientTokenDigest: string | null;
  }): Promise<Result<{ answer: string; etag: string }>> {
    if (this.rec) return fail(409, 'conflict', 'session already exists');
    const timeout = this.config.CLAIM_TIMEOUT_MS;
    const extra: Partial<SessionRecord> = { offer: args.offer, offerUfrag: args.offerUfrag };
    if (args.clientTokenDigest) extra.clientTokenDigest = args.clientTokenDigest;
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

  async status(clientTokenDigest: string | null): Promise<Result<{ status: SessionStatus }>> {
    const denied = this.checkClient(clientTokenDigest);
    if (denied) return denied;
    return { ok: true, status: toStatus(this.rec!) };
  }

  /** WHIP PATCH: relays trickled candidates to the worker. */
  async trickle(frag: TrickleFragment, clientTokenDigest: string | null, ifMatch: string | null): Promise<Result<object>> {
    const denied = this.checkClient(clientTokenDigest);
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
  async hangup(clientTokenDigest: string | null): Promise<Result<{ status: SessionStatus }>> {
    const denied = this.checkClient(clientTokenDigest);
    if (denied) return denied;
    await this.end('client_hangup');
    return { ok: true, status: toStatus(this.rec!) };
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

  /** The voice webhook (and its redirects): connect once claimed, else hold, else goodbye. */
  async voice(id: string, call: PhoneCall): Promise<Result<VoiceAction>> {
    const started = await this.startPhone(id, call);
    if (!started.ok) return started;
    let rec = this.rec!;
    if (rec.state === 'created' || rec.state === 'queued') {
      const left = rec.jobExpiresAt - Date.now();
      if (left > 0) await this.claimed.wait(Math.min(left, VOICE_WEBHOOK_WAIT_MS));
      rec = this.rec!;
    }
    if (rec.state === 'claimed' || rec.state === 'live') {
      const config = this.config;
      const token = await mintControlToken(
        requireSetting(config.CONTROL_SECRET, 'CONTROL_SECRET'),
        mediaTokenSubject(id),
        Date.now() + MEDIA_TOKEN_TTL_MS,
      );
      return { ok: true, action: 'connect', sessionId: id, token };
    }
    if (rec.state === 'ended') return { ok: true, action: 'goodbye' };
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

  private checkClient(digest: string | null): Failure | null {
    if (!this.rec) return fail(404, 'not_found', 'no such session');
    if (this.rec.clientTokenDigest && this.rec.clientTokenDigest !== digest)
      return fail(401, 'unauthorized', 'this session belongs to another client token');
    return null;
  }

  // ---- WebSocket upgrades (control from workers, media from the Twilio proxy) ----------------

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get('Upgrade')?.toLowerCase() !== 'websocket')
      return jsonError(426, 'upgrade_required', 'expected a WebSocket upgrade');
    const path = new URL(request.url).pathname;
    if (path === '/control') return this.acceptControl(request);
    if (path === '/twilio-media') return this.acceptTwilio();
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

  private acceptTwilio(): Response {
    const rec = this.rec;
    if (!rec || rec.kind !== 'phone') return jsonError(404, 'not_found', 'no such phone session');
    if (rec.state === 'ended') return jsonError(410, 'gone', 'session has ended');
    if (this.twilioSocket()) return jsonError(409, 'conflict', 'a media stream is already attached');
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1], [TWILIO]);
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
        await this.end('worker_ended', msg.detail);
        return;
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
    if (parsed.value.event === 'start' && rec && rec.state !== 'ended' && !rec.twilioStart) await this.save({ ...rec, twilioStart: text });
    if (parsed.value.event === 'stop') await this.end('phone_hangup');
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    const tag = this.ctx.getTags(ws)[0];
    if (tag === CONTROL) {
      const rec = this.rec;
      if (!rec || rec.state === 'ended' || this.controlSocket()) return;
      // The worker may dial back in with its resume token (a transient drop); a phone call is also
      // re-queued for another worker. The alarm ends the session as worker_lost if nobody has
      // dialled within CONTROL_GRACE_MS.
      const detail = `control WebSocket closed (${code})`;
      if (rec.state !== 'claimed' && rec.state !== 'live') await this.end('worker_lost', detail);
      else if (rec.kind === 'phone') await this.requeue(rec, detail);
      else await this.save({ ...rec, controlLostAt: Date.now(), detail });
    } else if (tag === TWILIO) {
      this.send({ type: 'twilio.closed', code });
      await this.end('phone_hangup');
    }
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    await this.webSocketClose(ws, 1006);
  }

  /** Deadlines: claim timeout, time limit, and the purge of an ended session's record. */
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
    else if (
      (rec.state === 'claimed' || rec.state === 'live') &&
      rec.controlLostAt !== undefined &&
      rec.requeuedAt !== undefined &&
      now < Math.min(rec.endsAt, rec.controlLostAt + CONTROL_GRACE_MS)
    )
      await this.resendJob(rec, now);
    else if ((rec.state === 'claimed' || rec.state === 'live') && rec.controlLostAt !== undefined && now < rec.endsAt)
      await this.end(
        'worker_lost',
        rec.requeuedAt !== undefined
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
