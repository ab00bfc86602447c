import { LegId, MAX_LEG_DIALS, MAX_LEGS, mintControlToken, type EndReason, type LegHandover, type LegRequest, type LegStatus, type PhoneCall, type WorkerEndReason } from '@switchboard/protocol';
import type { Caller } from '../auth/guards.ts';
import { HttpError } from '../errors.ts';
import { telephonyFor } from '../telephony/providers.ts';
import { legWebhookUrl, providerUrl } from '../telephony/voice-flow.ts';
import type { TransferRequest } from './call-transfer.ts';
import type { ClientApi } from './client-api.ts';
import { resumeTokenSubject } from './media-token.ts';
import type { SessionRecord } from './record.ts';
import { asFailure, fail, type Result } from './results.ts';
import type { SessionHost } from './session-host.ts';
import { sessionStub } from './stub.ts';

/** `l_` + 32 random hex digits. */
export function newLegId(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return 'l_' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/**
 * The legs a session adds, in the session's own object: dialling one (the provider's REST call,
 * then the leg's object, then the worker told at once over its control socket: no queue round
 * trip), hanging one up, what the worker and the leg's object report, and the legs' part of a
 * takeover and of the session's end. Each leg's call lives in its own object (leg-call.ts), keyed
 * by the leg id, which answers its webhooks and relays its stream exactly as a phone session's does.
 */
export class SessionLegs {
  private readonly host: SessionHost;
  private readonly client: ClientApi;

  constructor(host: SessionHost, client: ClientApi) {
    this.host = host;
    this.client = client;
  }

  /** `POST /v1/sessions/{id}/legs`: dials `req.to`; the callee joins when they answer. */
  async add(caller: Caller, req: LegRequest): Promise<Result<{ legId: string; callSid: string }>> {
    const denied = this.client.checkClient(caller);
    if (denied) return denied;
    return this.dial(req);
  }

  /** The handler dials (`leg.dial` from the worker): placed like the client's, answered with `leg.dialed`. */
  async dialForWorker(msg: { requestId: string; to: string; from?: string | undefined; provider?: LegRequest['provider'] }): Promise<void> {
    const r = await this.dial({ to: msg.to, ...(msg.from ? { from: msg.from } : {}), ...(msg.provider ? { provider: msg.provider } : {}) });
    if (r.ok) this.host.send({ type: 'leg.dialed', requestId: msg.requestId, legId: r.legId });
    else this.host.send({ type: 'leg.dialed', requestId: msg.requestId, error: { code: r.code, message: r.message.slice(0, 512) } });
  }

  /** A cold transfer of a joined leg's call, in the leg's object. */
  async transferLeg(legId: string, t: TransferRequest): Promise<Result<object>> {
    const leg = this.host.rec?.legs?.find((l) => l.legId === legId);
    if (!leg || leg.state !== 'joined') return fail(404, 'not_found', 'no joined leg with that id');
    return sessionStub(this.host.env, legId).beginTransfer(t);
  }

  /** The handler hung a leg up (`leg.hangup`). */
  async hangupForWorker(legId: string): Promise<void> {
    const leg = this.host.rec?.legs?.find((l) => l.legId === legId);
    if (leg && leg.state !== 'left') await this.end(leg, 'worker_ended', 'the handler hung up');
  }

  private async dial(req: LegRequest): Promise<Result<{ legId: string; callSid: string }>> {
    const h = this.host;
    const rec = h.rec!;
    if (rec.state === 'ended') return fail(410, 'gone', 'session has ended');
    if (rec.state !== 'claimed' && rec.state !== 'live') return fail(409, 'not_live', 'a leg can join once a worker holds the session');
    if (rec.parentId) return fail(409, 'conflict', 'a leg cannot add legs');
    const legs = rec.legs ?? [];
    if (1 + legs.filter((l) => l.state !== 'left').length >= MAX_LEGS) return fail(409, 'too_many_legs', `a session holds at most ${MAX_LEGS} legs`);
    if (legs.length >= MAX_LEG_DIALS) return fail(409, 'too_many_legs', `a session may dial at most ${MAX_LEG_DIALS} legs`);
    const config = h.config;
    const provider = req.provider ?? config.TELEPHONY_PROVIDER;
    const legId = newLegId();
    const now = Date.now();
    const leg: LegStatus = { legId, kind: 'phone', state: 'dialing', provider, to: req.to, createdAt: now };
    await h.save({ ...rec, legs: [...legs, leg] });
    let callSid: string;
    try {
      const placed = await telephonyFor(config, provider).placeCall({
        to: req.to,
        from: req.from,
        voiceUrl: legWebhookUrl(providerUrl(config, provider, 'voice'), legId),
        statusCallbackUrl: legWebhookUrl(providerUrl(config, provider, 'status'), legId),
      });
      callSid = placed.callSid;
    } catch (err) {
      // The provider's refusal of the request (an invalid number) is the caller's 400; anything else upstream's.
      const failure = err instanceof HttpError && err.status === 400 ? fail(400, err.code, err.message) : asFailure(err);
      await this.update(legId, { state: 'left', reason: 'call_failed', detail: failure.message.slice(0, 256), leftAt: Date.now() });
      return failure;
    }
    const call: PhoneCall = { provider, callSid, from: req.from ?? '', to: req.to, direction: 'outbound' };
    await this.update(legId, { callSid });
    const after = h.current();
    const started = await sessionStub(h.env, legId).startLeg({ legId, parentId: rec.id, call, workerId: after?.workerId ?? '', endsAt: rec.endsAt });
    if (!started.ok || !after || after.state === 'ended') {
      await this.hangUpCall(provider, callSid, legId);
      await this.update(legId, { state: 'left', reason: 'error', detail: started.ok ? 'the session ended while dialling' : started.message, leftAt: Date.now() });
      return started.ok ? fail(410, 'gone', 'session has ended') : started;
    }
    h.send({ type: 'leg.add', leg: await this.handover(legId, call) });
    return { ok: true, legId, callSid };
  }

  /** `DELETE /v1/sessions/{id}/legs/{legId}`: hangs the leg up (the provider's REST call), drops it from the call. */
  async remove(caller: Caller, legId: string): Promise<Result<{ leg: LegStatus }>> {
    const denied = this.client.checkClient(caller);
    if (denied) return denied;
    if (!LegId.safeParse(legId).success) return fail(404, 'not_found', 'no such leg');
    const leg = this.host.rec?.legs?.find((l) => l.legId === legId);
    if (!leg) return fail(404, 'not_found', 'no such leg');
    if (leg.state !== 'left') await this.end(leg, 'client_hangup');
    return { ok: true, leg: this.host.rec!.legs!.find((l) => l.legId === legId)! };
  }

  /** The worker's word on a leg: its stream started, or it dropped it (the callee hung up, its stream closed). */
  async fromWorker(msg: { type: 'leg.joined'; legId: string } | { type: 'leg.left'; legId: string; reason: WorkerEndReason; detail?: string | undefined }): Promise<void> {
    const leg = this.host.rec?.legs?.find((l) => l.legId === msg.legId);
    if (!leg || leg.state === 'left') return;
    if (msg.type === 'leg.joined') {
      if (leg.state === 'dialing') await this.update(leg.legId, { state: 'joined', joinedAt: Date.now() });
      return;
    }
    await this.end(leg, msg.reason === 'phone_hangup' ? 'phone_hangup' : 'worker_ended', [msg.reason, msg.detail].filter(Boolean).join(': '), false);
  }

  /** The leg's own object ended (its status callback: hung up, busy, no answer; its time limit): the worker drops it. */
  async legEnded(legId: string, reason: EndReason, detail: string | undefined): Promise<void> {
    const leg = this.host.rec?.legs?.find((l) => l.legId === legId);
    if (!leg || leg.state === 'left') return;
    await this.update(legId, { state: 'left', reason, leftAt: Date.now(), ...(detail ? { detail: detail.slice(0, 256) } : {}) });
    this.host.send({ type: 'leg.remove', legId, reason, ...(detail ? { detail: detail.slice(0, 256) } : {}) });
  }

  /** The legs still up, for a worker that takes the session over (with fresh media socket tokens); their objects learn the new worker. */
  async forTakeover(workerId: string): Promise<LegHandover[]> {
    const rec = this.host.rec!;
    const out: LegHandover[] = [];
    for (const leg of rec.legs ?? []) {
      if (leg.state === 'left' || !leg.callSid || !leg.provider) continue;
      const r = await sessionStub(this.host.env, leg.legId).reassignLeg(rec.id, workerId);
      if (!r.ok) continue;
      out.push(await this.handover(leg.legId, r.call));
    }
    return out;
  }

  /** The session ended: every leg still up is hung up. */
  async sessionEnded(rec: SessionRecord): Promise<void> {
    for (const leg of rec.legs ?? []) if (leg.state !== 'left') await this.end(leg, rec.reason ?? 'client_hangup', undefined, false);
  }

  /** Ends a leg: recorded as left, the worker told, the call hung up at the provider, the leg's object ended. */
  private async end(leg: LegStatus, reason: EndReason, detail?: string, tellWorker = true): Promise<void> {
    await this.update(leg.legId, { state: 'left', reason, leftAt: Date.now(), ...(detail ? { detail: detail.slice(0, 256) } : {}) });
    if (tellWorker) this.host.send({ type: 'leg.remove', legId: leg.legId, reason, ...(detail ? { detail: detail.slice(0, 256) } : {}) });
    if (leg.provider && leg.callSid) await this.hangUpCall(leg.provider, leg.callSid, leg.legId);
    try {
      await sessionStub(this.host.env, leg.legId).endLeg(reason);
    } catch (err) {
      console.warn(`leg ${leg.legId}: ending its object failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Hangs the call up at its provider; a failure is logged (the leg is over for us either way). */
  private async hangUpCall(provider: NonNullable<LegStatus['provider']>, callSid: string, legId: string): Promise<void> {
    try {
      await telephonyFor(this.host.config, provider).hangUp(callSid);
    } catch (err) {
      console.warn(`leg ${legId}: hanging up call ${callSid} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private async handover(legId: string, call: PhoneCall): Promise<LegHandover> {
    const rec = this.host.rec!;
    return { legId, call, resumeToken: await mintControlToken(this.host.config.CONTROL_SECRET, resumeTokenSubject(legId), rec.endsAt) };
  }

  private async update(legId: string, patch: Partial<LegStatus>): Promise<void> {
    const rec = this.host.current();
    if (!rec?.legs) return;
    await this.host.save({ ...rec, legs: rec.legs.map((l) => (l.legId === legId ? { ...l, ...patch } : l)) });
  }
}
