import { decodeRelayBatch, verifyControlToken } from '@switchboard/protocol';
import { jsonError } from './json-error.ts';
import { verifyMediaNonce } from './media-nonce.ts';
import { resumeTokenSubject, verifyMediaToken } from './media-token.ts';
import { readPeerStart, type PeerKind } from './peer-start.ts';
import type { SessionRecord } from './record.ts';
import { MEDIA, PEER, closeQuietly, type SessionHost } from './session-host.ts';
import type { WorkerLink } from './worker-link.ts';

/** Largest frame relayed either way (a 20 ms media frame is well under 2 KB; a start under 4 KB). */
export const MAX_FRAME_BYTES = 16_384;
/** A peer socket that has not sent its `start` this long after the upgrade is closed (providers send it at once). */
export const START_TIMEOUT_MS = 10_000;
/** Frames a provider may send before `start` (Twilio and Telnyx send one `connected`). */
const MAX_FRAMES_BEFORE_START = 4;

/** What the object keeps on each peer socket (it survives hibernation). */
interface PeerAttachment {
  kind: PeerKind;
  started: boolean;
  before: number;
  /** The stream's id, from its `start`. */
  streamId?: string;
}

/**
 * The session's media relay, in one hop: the peer's WebSocket (a provider's media stream, or a
 * stream client's socket) terminates in this object, and its frames go to the claiming worker's
 * media socket as they came, and the worker's back (a text message may carry several frames, one
 * per line: one event here instead of several). Only a stream's `start` is parsed here, to check
 * the call's credential and to keep it for the workers that attach later (a dial-back, a
 * takeover); every other frame is relayed unread and parsed once, by the worker.
 */
export class MediaRelay {
  private readonly host: SessionHost;
  private readonly link: WorkerLink;
  /** Peer sockets whose stream has started, as far as this wake-up of the object knows. */
  private readonly started = new WeakSet<WebSocket>();
  /** The open worker media socket and peer socket as last looked up (getWebSockets allocates: not once per frame). */
  private media: WebSocket | undefined;
  private peer: WebSocket | undefined;
  /** The current Twilio stream's streamSid (null: not a Twilio stream, or none yet; undefined: not read since waking). */
  private twilioStreamSid: string | null | undefined;
  /**
   * Each peer socket's START_TIMEOUT_MS timer, until its stream starts or the socket closes.
   * Cleared at once then: a pending timer keeps the object from being eligible for hibernation,
   * and a started call's object must be eligible between messages (Durable Objects bill duration
   * while not eligible). Kept in memory only: while a timer is pending the object is not eligible
   * for hibernation, so the handle outlives nothing it guards; a reset of the object closes the
   * peer's socket with it.
   */
  private readonly startTimers = new Map<WebSocket, ReturnType<typeof setTimeout>>();

  constructor(host: SessionHost, link: WorkerLink) {
    this.host = host;
    this.link = link;
  }

  /**
   * The peer's upgrade, forwarded by its route once what the route can check statelessly passed
   * (a provider's signature, a URL credential's HMAC: X-Media-Nonce; a stream client's auth).
   * Checked here: the session runs, has no peer attached, and the nonce is the one it last minted
   * and unused (then consumed). Twilio's credential travels in `start` instead (checked there).
   */
  async acceptPeer(request: Request, kind: PeerKind): Promise<Response> {
    const h = this.host;
    const rec = h.rec;
    const wanted = kind === 'stream' ? 'stream' : 'phone';
    if (!rec || rec.kind !== wanted) return jsonError(404, 'not_found', `no such ${wanted} session`);
    if (rec.state === 'ended') return jsonError(410, 'gone', 'session has ended');
    if (h.peerSocket()) return jsonError(409, 'conflict', 'a media stream is already attached');
    if (kind === 'telnyx' || kind === 'plivo') {
      if (rec.call?.provider !== kind) return jsonError(404, 'not_found', `not a ${kind} call`);
      const denied = verifyMediaNonce(rec, request.headers.get('X-Media-Nonce'));
      if (denied) return jsonError(403, 'forbidden', denied);
      await h.save({ ...withoutLoss(rec), mediaNonceUsed: true });
    }
    const { ws, response } = h.accept(PEER);
    const attachment: PeerAttachment = { kind, started: false, before: 0 };
    ws.serializeAttachment(attachment);
    if (kind === 'stream') ws.send(JSON.stringify({ type: 'session', id: rec.id }));
    this.startTimers.set(
      ws,
      setTimeout(() => {
        this.startTimers.delete(ws);
        const a = ws.deserializeAttachment() as PeerAttachment | null;
        if (ws.readyState === WebSocket.OPEN && a && !a.started) closeQuietly(ws, 1008, `no start within ${START_TIMEOUT_MS} ms`);
      }, START_TIMEOUT_MS),
    );
    return response;
  }

  /** Peer sockets whose start deadline is still pending (0 once every stream has started or closed). */
  get pendingStartDeadlines(): number {
    return this.startTimers.size;
  }

  /** Clears the peer socket's start deadline: its stream started, or the socket is closing. */
  private clearStartDeadline(ws: WebSocket): void {
    const timer = this.startTimers.get(ws);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.startTimers.delete(ws);
  }

  /** Closes a peer socket that has not started (its start deadline goes with it). */
  private refuse(ws: WebSocket, code: number, reason: string): void {
    this.clearStartDeadline(ws);
    closeQuietly(ws, code, reason);
  }

  /** A peer frame: relayed once the stream started; before that, read for its start. */
  async onPeerMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    if (byteSize(data) > MAX_FRAME_BYTES) return this.refuse(ws, 1009, 'frame too large');
    // The media path: one set lookup, no deserialisation (the attachment is read once per wake-up).
    if (this.started.has(ws)) {
      this.mediaSocket()?.send(data);
      return;
    }
    const a = ws.deserializeAttachment() as PeerAttachment;
    if (a.started) {
      this.started.add(ws);
      this.mediaSocket()?.send(data);
      return;
    }
    if (typeof data !== 'string') {
      // A stream client's audio before its start (or before a worker took it) goes nowhere.
      if (a.kind === 'stream') return;
      return this.refuse(ws, 1003, 'binary frame before start');
    }
    const start = readPeerStart(a.kind, data);
    if (start.kind === 'bad') return this.refuse(ws, 1008, start.why);
    if (start.kind === 'before') {
      if (++a.before > MAX_FRAMES_BEFORE_START) return this.refuse(ws, 1008, 'too many frames before start');
      ws.serializeAttachment(a);
      return;
    }
    const h = this.host;
    const rec = h.rec;
    if (!rec || rec.state === 'ended') return this.refuse(ws, 1000, 'session has ended');
    if (a.kind === 'twilio') {
      const denied = await this.checkTwilioStart(rec, start.callId, start.token);
      if (denied) return this.refuse(ws, 1008, denied);
    }
    // Started: nothing of this socket is pending any more (the object may hibernate between frames).
    this.clearStartDeadline(ws);
    a.started = true;
    a.streamId = start.streamId;
    ws.serializeAttachment(a);
    this.started.add(ws);
    const now = h.current()!;
    await h.save({ ...withoutLoss(now), peerStart: data });
    this.twilioStreamSid = undefined;
    h.mediaSocket()?.send(data);
    h.streamClosed.resolveAll(null);
    // The edge restarted under both sockets: no worker holds the call and no drop was seen.
    const after = h.current()!;
    if ((after.state === 'claimed' || after.state === 'live') && !after.parentId && !h.controlSocket() && after.controlLostAt === undefined)
      await this.link.requeue(after, 'control WebSocket gone without a close (the edge restarted)');
  }

  /**
   * Twilio's `start`: its `token` parameter is the media token the voice webhook minted (HMAC,
   * expiry, and the nonce this session last minted, unused), and `callSid` is this session's call.
   */
  private async checkTwilioStart(rec: SessionRecord, callSid: string, token: string | undefined): Promise<string | null> {
    const secret = this.host.config.CONTROL_SECRET;
    const check = await verifyMediaToken(secret, rec.id, token ?? '', Date.now());
    if (!check.ok) return `stream token ${check.reason}`;
    const denied = verifyMediaNonce(rec, check.nonce);
    if (denied) return denied;
    if (callSid !== rec.call?.callSid) return "start.callSid is not this session's call";
    await this.host.save({ ...rec, mediaNonceUsed: true });
    return null;
  }

  /**
   * The peer's socket closed. A stream client hung up. A Twilio stream closed without the call
   * ending (no `stop`: the worker ends the session when it reads one) when the edge restarted or
   * this object was reset: the call goes on, Twilio requests <Connect action> and gets a new
   * stream. Telnyx and Plivo streams end with their call.
   */
  async onPeerClose(ws: WebSocket, code: number): Promise<void> {
    this.clearStartDeadline(ws);
    const h = this.host;
    h.streamClosed.resolveAll(undefined);
    const rec = h.rec;
    if (!rec || rec.state === 'ended' || h.peerSocket()) return;
    const a = ws.deserializeAttachment() as PeerAttachment | null;
    if (a?.kind === 'stream') return h.end('client_hangup', `stream socket closed (${code})`);
    // A cold transfer took the call's stream away on purpose: the call goes on (and may come back).
    if (rec.transfer) {
      await h.save({ ...rec, peerLostAt: Date.now() });
      return;
    }
    if (a?.kind === 'twilio') {
      await h.save({ ...rec, peerLostAt: Date.now() });
      h.send({ type: 'media.lost', code, ...(a.streamId ? { streamId: a.streamId } : {}) });
      return;
    }
    await h.end('phone_hangup', `media stream closed (${code})`);
  }

  /**
   * The claiming worker's media socket: `Authorization: Bearer <resumeToken>` from its handover,
   * from the worker that holds the session. A newer one replaces an older one; the stream's
   * start goes first, so the worker knows the stream it joins.
   */
  async acceptWorker(request: Request): Promise<Response> {
    const h = this.host;
    const rec = h.rec;
    const token = /^Bearer\s+(\S+)$/i.exec(request.headers.get('Authorization') ?? '')?.[1];
    if (!token) return jsonError(401, 'unauthorized', 'missing Authorization: Bearer <resumeToken>');
    if (!rec || rec.id !== request.headers.get('X-Session-Id')) return jsonError(404, 'not_found', 'no such session');
    const check = await verifyControlToken(h.config.CONTROL_SECRET, resumeTokenSubject(rec.id), token, Date.now());
    if (!check.ok) return jsonError(401, 'unauthorized', `resume token ${check.reason}`);
    if (rec.state === 'ended') return jsonError(410, 'gone', `session has ended (${rec.reason ?? 'unknown'})`);
    if (rec.kind === 'webrtc') return jsonError(404, 'not_found', 'a WebRTC session has no media socket');
    if (request.headers.get('X-Worker-Id') !== rec.workerId) return jsonError(409, 'conflict', 'session is held by another worker');
    for (const old of h.ctx.getWebSockets(MEDIA)) closeQuietly(old, 1000, 'replaced');
    const { ws, response } = h.accept(MEDIA);
    if (rec.peerStart) ws.send(rec.peerStart);
    return response;
  }

  /**
   * The worker's frames for the peer: one per line of a text message; for a provider's stream, a
   * binary message is a relay batch (protocol relay-batch.ts: its media frames' payloads travel as
   * bytes and are written in here as base64), for a stream client one binary frame. A batch that
   * does not decode is dropped whole, with a log line. Twilio addresses every message to its
   * stream: when a stream was replaced (Twilio's `<Connect action>` after a drop), frames the
   * worker wrote for the old one before it read the new `start` are dropped here (a substring
   * test, no parse), as Twilio would refuse them on the new stream.
   */
  onWorkerMessage(data: string | ArrayBuffer): void {
    const peer = this.peerSocket();
    if (!peer) return;
    let frames: string[];
    if (typeof data === 'string') frames = data.indexOf('\n') < 0 ? [data] : data.split('\n');
    else if (this.host.rec?.kind !== 'phone') return peer.send(data);
    else {
      try {
        frames = decodeRelayBatch(new Uint8Array(data));
      } catch (err) {
        console.error(`session ${this.host.rec.id}: dropped a worker message: ${(err as Error).message}`);
        return;
      }
    }
    const sid = this.currentTwilioStreamSid();
    for (const frame of frames) if (sid === null || frame.includes(sid)) peer.send(frame);
  }

  /** The worker's open media socket: the one last seen while it stays open, else looked up again. */
  private mediaSocket(): WebSocket | undefined {
    if (this.media?.readyState !== WebSocket.OPEN) this.media = this.host.mediaSocket();
    return this.media;
  }

  private peerSocket(): WebSocket | undefined {
    if (this.peer?.readyState !== WebSocket.OPEN) this.peer = this.host.peerSocket();
    return this.peer;
  }

  private currentTwilioStreamSid(): string | null {
    if (this.twilioStreamSid !== undefined) return this.twilioStreamSid;
    const rec = this.host.rec;
    let sid: string | null = null;
    if (rec?.kind === 'phone' && (rec.call?.provider ?? 'twilio') === 'twilio' && rec.peerStart) {
      const start = readPeerStart('twilio', rec.peerStart);
      if (start.kind === 'start') sid = start.streamId;
    }
    this.twilioStreamSid = sid;
    return sid;
  }
}

function withoutLoss(rec: SessionRecord): SessionRecord {
  const { peerLostAt: _lost, ...rest } = rec;
  return rest;
}

/** A frame's size in bytes (UTF-8 for text); a text that cannot be over the limit is not encoded. */
function byteSize(data: string | ArrayBuffer): number {
  if (typeof data !== 'string') return data.byteLength;
  return data.length * 3 <= MAX_FRAME_BYTES ? data.length : new TextEncoder().encode(data).byteLength;
}
