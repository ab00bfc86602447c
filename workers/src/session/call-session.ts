import { DurableObject } from 'cloudflare:workers';
import type { EndReason, LegRequest, LegStatus, PhoneCall, SessionStatus } from '@switchboard/protocol';
import type { Caller } from '../auth/guards.ts';
import type { Env } from '../env.ts';
import type { TrickleFragment } from '../sdp/trickle.ts';
import type { CallStatus } from '../telephony/provider.ts';
import type { PhoneVoiceAction } from '../telephony/voice-action.ts';
import { ClientApi } from './client-api.ts';
import type { TransferOutcome, TransferRequest } from './call-transfer.ts';
import { jsonError } from './json-error.ts';
import { LegCall } from './leg-call.ts';
import { MediaRelay } from './media-relay.ts';
import type { PeerKind } from './peer-start.ts';
import { PhoneCalls } from './phone-calls.ts';
import { CONTROL_GRACE_MS, lostDeadline, nextDeadline } from './record.ts';
import type { Result } from './results.ts';
import { CONTROL, MEDIA, PEER, SessionHost, closeQuietly } from './session-host.ts';
import { SessionLegs } from './session-legs.ts';
import { WorkerLink } from './worker-link.ts';

/**
 * One per session: the state machine (created -> queued -> claimed -> live -> ended) and its
 * deadlines. The object is a shell over its parts, which share a SessionHost (record, alarm,
 * sockets): ClientApi (the client's routes), WorkerLink (the control WebSocket the claiming worker
 * dials: claim, dial-back, takeover), PhoneCalls (the providers' voice webhooks and call status)
 * and MediaRelay (a provider's or stream client's media socket, relayed to the worker's media
 * socket in one hop). It routes RPC calls, WebSocket upgrades and events (hibernation API), and
 * the alarm.
 */
export class CallSession extends DurableObject<Env> {
  private readonly host: SessionHost;
  private readonly link: WorkerLink;
  private readonly client: ClientApi;
  private readonly phone: PhoneCalls;
  private readonly relay: MediaRelay;
  private readonly legs: SessionLegs;
  private readonly leg: LegCall;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.host = new SessionHost(ctx, env);
    this.link = new WorkerLink(this.host);
    this.client = new ClientApi(this.host, this.link);
    this.phone = new PhoneCalls(this.host);
    this.relay = new MediaRelay(this.host, this.link);
    this.link.transfer = this.phone.transfer;
    this.legs = new SessionLegs(this.host, this.client);
    this.leg = new LegCall(this.host);
    this.link.legs = this.legs;
    this.host.endHooks.push((ended) => (ended.parentId ? this.leg.ended(ended) : this.legs.sessionEnded(ended)));
  }

  // ---- RPC from the routes -------------------------------------------------------------------

  startWebRtc(args: Parameters<ClientApi['startWebRtc']>[0]): Promise<Result<{ answer: string; etag: string }>> {
    return this.client.startWebRtc(args);
  }

  async status(caller: Caller): Promise<Result<{ status: SessionStatus }>> {
    return this.client.status(caller);
  }

  async trickle(frag: TrickleFragment, caller: Caller, ifMatch: string | null): Promise<Result<object>> {
    return this.client.trickle(frag, caller, ifMatch);
  }

  hangup(caller: Caller): Promise<Result<{ status: SessionStatus }>> {
    return this.client.hangup(caller);
  }

  resume(args: { offer: string; offerUfrag: string; caller: Caller }): Promise<Result<{ answer: string; etag: string }>> {
    return this.client.resume(args);
  }

  startPhone(id: string, call: PhoneCall, record?: boolean): Promise<Result<object>> {
    return this.phone.startPhone(id, call, record);
  }

  voice(id: string, call: PhoneCall, transfer?: Parameters<PhoneCalls['voice']>[2]): Promise<Result<PhoneVoiceAction>> {
    return this.phone.voice(id, call, transfer);
  }

  /** A cold transfer of this object's call (the session's own, or a leg's at its session's request). */
  beginTransfer(t: TransferRequest): Promise<Result<object>> {
    return this.phone.transfer.begin(t);
  }

  /** From a leg's object: how the cold transfer of that leg ended. */
  transferResult(requestId: string, outcome: TransferOutcome): void {
    this.host.send({ type: 'transfer.result', requestId, ...outcome });
  }

  phoneStatus(status: CallStatus): Promise<void> {
    return this.phone.phoneStatus(status);
  }

  startStream(args: Parameters<ClientApi['startStream']>[0]): Promise<Result<object>> {
    return this.client.startStream(args);
  }

  // ---- Legs: the session's (`/v1/sessions/{id}/legs`), and a leg's own object ----------------

  addLeg(caller: Caller, req: LegRequest): Promise<Result<{ legId: string; callSid: string }>> {
    return this.legs.add(caller, req);
  }

  removeLeg(caller: Caller, legId: string): Promise<Result<{ leg: LegStatus }>> {
    return this.legs.remove(caller, legId);
  }

  /** From a leg's object: the leg ended. */
  legEnded(legId: string, reason: EndReason, detail: string | undefined): Promise<void> {
    return this.legs.legEnded(legId, reason, detail);
  }

  startLeg(args: Parameters<LegCall['start']>[0]): Promise<Result<object>> {
    return this.leg.start(args);
  }

  reassignLeg(parentId: string, workerId: string): Promise<Result<{ call: PhoneCall }>> {
    return this.leg.reassign(parentId, workerId);
  }

  endLeg(reason: EndReason): Promise<void> {
    return this.leg.end(reason);
  }

  // ---- WebSocket upgrades: the worker's control and media sockets, the peer's media socket ----

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get('Upgrade')?.toLowerCase() !== 'websocket')
      return jsonError(426, 'upgrade_required', 'expected a WebSocket upgrade');
    const path = new URL(request.url).pathname;
    if (path === '/control') return this.link.accept(request);
    if (path === '/media') return this.relay.acceptWorker(request);
    if (path === '/peer') return this.relay.acceptPeer(request, request.headers.get('X-Peer-Kind') as PeerKind);
    return jsonError(404, 'not_found', 'unknown session endpoint');
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const tag = this.ctx.getTags(ws)[0];
    if (tag === PEER) return this.relay.onPeerMessage(ws, message);
    if (tag === MEDIA) return this.relay.onWorkerMessage(message);
    if (typeof message !== 'string') {
      this.host.send({ type: 'error', message: 'binary frames are not accepted' });
      return;
    }
    if (tag === CONTROL) return this.link.onMessage(message);
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    const tag = this.ctx.getTags(ws)[0];
    // The peer's close handshake is answered at once (the hibernation API leaves it to us): a
    // provider that sent `stop` and closed otherwise waits for a close frame that never comes.
    closeQuietly(ws, code === 1005 || code === 1006 || code === 1015 ? 1000 : code, 'closed');
    if (tag === CONTROL) await this.link.onClose(code);
    else if (tag === PEER) await this.relay.onPeerClose(ws, code);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    await this.webSocketClose(ws, 1006);
  }

  /**
   * Deadlines: claim timeout, time limit, a lost worker's (re-sending a re-queued job until it
   * expires, then giving the session up: see lostDeadline), and the purge of an ended session.
   */
  override async alarm(): Promise<void> {
    const h = this.host;
    h.alarmFired();
    const rec = h.rec;
    if (!rec) return;
    const now = Date.now();
    if (now < nextDeadline(rec)) {
      await h.setAlarm(nextDeadline(rec));
      return;
    }
    const running = rec.state === 'claimed' || rec.state === 'live';
    if (rec.state === 'created' || rec.state === 'queued') await h.end('claim_timeout');
    else if (running && rec.controlLostAt !== undefined && now < lostDeadline(rec, rec.controlLostAt)) await this.link.whileLost(rec, now);
    else if (running && rec.controlLostAt !== undefined && now < rec.endsAt)
      await h.end(
        'worker_lost',
        rec.kind === 'webrtc'
          ? `control WebSocket closed ${now - rec.controlLostAt} ms ago; the worker did not dial back in and no resume was taken over`
          : rec.requeuedAt !== undefined
            ? `control WebSocket closed ${CONTROL_GRACE_MS} ms ago; no worker dialled back in or took the call over`
            : `control WebSocket closed ${CONTROL_GRACE_MS} ms ago and the worker did not dial back in`,
      );
    else if (running) await h.end('time_limit');
    else await h.purge();
  }
}
