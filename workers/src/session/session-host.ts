import { mintControlToken, type ControlToWorker, type EndReason, type SessionJob, type SessionKind } from '@switchboard/protocol';
import { loadConfig, requireSetting, type Config } from '../config.ts';
import type { Env } from '../env.ts';
import { sendJob } from '../queue/sqs.ts';
import { releaseSessionSlot } from './client-stub.ts';
import { moveTo, nextDeadline, type SessionRecord } from './record.ts';
import { Waiters } from './waiters.ts';

/**
 * Tags of the Durable Object's hibernatable WebSockets: the claiming worker's control socket, the
 * peer's media socket (a provider's media stream, or a stream client's socket) and the claiming
 * worker's media socket, over which the peer's frames are relayed (media-relay.ts).
 */
export const CONTROL = 'control';
export const PEER = 'peer';
export const MEDIA = 'media';

/**
 * What every part of a session's Durable Object shares: the record and its deadline (storage and
 * alarm), the state machine's moves that create, queue and end a session, the open sockets, and
 * the waiters that RPC calls block on. The parts (client-api.ts, worker-link.ts, phone-media.ts)
 * each take one; call-session.ts is the object itself.
 */
export class SessionHost {
  rec: SessionRecord | null;
  /** WHIP and resume requests waiting for the worker's SDP answer. */
  readonly answered = new Waiters<{ answer: string; etag: string }>();
  /** Voice webhooks waiting for a worker to claim the call. */
  readonly claimed = new Waiters<void>();
  /** Voice requests waiting for the provider's attached stream to close (phone-calls.ts voice()). */
  readonly streamClosed = new Waiters<void>();
  /** Called once the session has ended (its legs hung up; a leg's session told). */
  readonly endHooks: Array<(ended: SessionRecord) => Promise<void>> = [];
  /** The alarm this object has set since it woke (null: unknown, or none). */
  private alarmAt: number | null = null;
  readonly ctx: DurableObjectState;
  readonly env: Env;

  constructor(ctx: DurableObjectState, env: Env) {
    this.ctx = ctx;
    this.env = env;
    // SQLite-backed storage reads synchronously: no gate to hold while the record loads.
    this.rec = ctx.storage.kv.get<SessionRecord>('rec') ?? null;
  }

  /** The record as it is now (a method, so TypeScript does not carry narrowing across awaits). */
  current(): SessionRecord | null {
    return this.rec;
  }

  get config(): Config {
    return loadConfig(this.env);
  }

  /**
   * Writes the record and, when it moved, its next deadline, in one implicit transaction (both
   * issued in the same synchronous step); the output gate holds replies until it is durable. A
   * write that keeps the deadline (the answer after the claim, say) leaves the alarm as it is.
   */
  async save(rec: SessionRecord): Promise<void> {
    this.rec = rec;
    this.ctx.storage.kv.put('rec', rec);
    const deadline = nextDeadline(rec);
    if (deadline !== this.alarmAt) await this.setAlarm(deadline);
  }

  async setAlarm(at: number): Promise<void> {
    this.alarmAt = at;
    try {
      await this.ctx.storage.setAlarm(at);
    } catch (err) {
      this.alarmAt = null;
      throw err;
    }
  }

  /** A running alarm is no longer set. */
  alarmFired(): void {
    this.alarmAt = null;
  }

  /** Forgets the session: its retention after the end is over. */
  async purge(): Promise<void> {
    await this.ctx.storage.deleteAll();
    this.rec = null;
  }

  /** The open socket with this tag (a closing one still shows in getWebSockets during its close). */
  private openSocket(tag: string): WebSocket | undefined {
    return this.ctx.getWebSockets(tag).find((ws) => ws.readyState === WebSocket.OPEN);
  }

  controlSocket(): WebSocket | undefined {
    return this.openSocket(CONTROL);
  }

  peerSocket(): WebSocket | undefined {
    return this.openSocket(PEER);
  }

  mediaSocket(): WebSocket | undefined {
    return this.openSocket(MEDIA);
  }

  /** Accepts one end of a new pair as a hibernatable socket with `tags` (the first is its role); returns the 101 with the other end. */
  accept(...tags: string[]): { ws: WebSocket; response: Response } {
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1], tags);
    return { ws: pair[1], response: new Response(null, { status: 101, webSocket: pair[0] }) };
  }

  /** To the claiming worker, if its control socket is open. */
  send(msg: ControlToWorker): void {
    this.controlSocket()?.send(JSON.stringify(msg));
  }

  /** Creates the session record and puts its job on the queue. */
  async createAndQueue(id: string, kind: SessionKind, now: number, extra: Partial<SessionRecord>, waitMs: number): Promise<void> {
    const rec: SessionRecord = {
      id,
      kind,
      state: 'created',
      createdAt: now,
      jobExpiresAt: now + waitMs,
      endsAt: now + this.config.SESSION_TIME_LIMIT_MS,
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
  async queueJob(rec: SessionRecord): Promise<void> {
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

  /** Ends the session once: records why, tells the worker, closes every socket, frees the client's slot. */
  async end(reason: EndReason, detail?: string): Promise<void> {
    const rec = this.rec;
    if (!rec || rec.state === 'ended') return;
    const ended: SessionRecord = { ...moveTo(rec, 'ended', Date.now()), reason };
    if (detail) ended.detail = detail.slice(0, 256);
    await this.save(ended);
    const control = this.controlSocket();
    if (control) {
      if (reason !== 'worker_ended' && reason !== 'worker_lost') this.send({ type: 'hangup', reason });
      // A recorded session's worker still reports where the files went: it closes the socket after.
      if (!rec.record || reason === 'worker_ended') safeClose(control, 1000, reason);
    }
    for (const tag of [PEER, MEDIA]) for (const ws of this.ctx.getWebSockets(tag)) safeClose(ws, 1000, reason);
    this.answered.resolveAll(null);
    this.claimed.resolveAll(null);
    if (rec.clientKey) await releaseSessionSlot(this.env, rec.clientKey, rec.id);
    for (const hook of this.endHooks) await hook(ended);
  }
}

/** Closes a socket, whatever state it is in (a closing or closed one is left as it is). */
export function closeQuietly(ws: WebSocket, code: number, reason: string): void {
  safeClose(ws, code, reason.slice(0, 120));
}

function safeClose(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    // already closing
  }
}
