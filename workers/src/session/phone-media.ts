import { parseTwilioInbound, type PhoneCall } from '@switchboard/protocol';
import { requireSetting } from '../config.ts';
import type { PhoneVoiceAction } from '../telephony/voice-action.ts';
import { jsonError } from './json-error.ts';
import { mintMediaToken } from './media-token.ts';
import type { Result } from './results.ts';
import { asFailure } from './results.ts';
import { TWILIO, type SessionHost } from './session-host.ts';
import type { WorkerLink } from './worker-link.ts';

/** How long one voice webhook waits for a claim before answering with hold music and a redirect. */
const VOICE_WEBHOOK_WAIT_MS = 3000;
/** Lifetime of the `<Parameter name="token">` handed to Twilio's stream. */
const MEDIA_TOKEN_TTL_MS = 300_000;
/** How long a voice request waits for an attached stream to close before answering without a token. */
const STREAM_CLOSE_WAIT_MS = 2000;

/**
 * A phone session's side of its Durable Object: the voice webhook (connect, hold, goodbye), the
 * status callback, and the relay of Twilio's Media Stream (attached by the stream bridge, its
 * frames parsed once here and passed to the worker over the control WebSocket as sent).
 */
export class PhoneMedia {
  private readonly host: SessionHost;
  private readonly link: WorkerLink;

  constructor(host: SessionHost, link: WorkerLink) {
    this.host = host;
    this.link = link;
  }

  /** Creates (idempotently) and queues a phone session. */
  async startPhone(id: string, call: PhoneCall): Promise<Result<object>> {
    if (this.host.rec) return { ok: true };
    try {
      await this.host.createAndQueue(id, 'phone', Date.now(), { call }, this.host.config.PHONE_WAIT_MS);
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
    const h = this.host;
    const started = await this.startPhone(id, call);
    if (!started.ok) return started;
    let rec = h.rec!;
    if (rec.state === 'created' || rec.state === 'queued') {
      const left = rec.jobExpiresAt - Date.now();
      if (left > 0) await h.claimed.wait(Math.min(left, VOICE_WEBHOOK_WAIT_MS));
      rec = h.rec!;
    }
    if ((rec.state === 'claimed' || rec.state === 'live') && h.twilioSocket()) {
      await h.streamClosed.wait(STREAM_CLOSE_WAIT_MS);
      rec = h.rec!;
      if (rec.state !== 'ended' && h.twilioSocket()) return { ok: true, action: 'wait' };
    }
    if (rec.state === 'claimed' || rec.state === 'live') {
      const minted = await mintMediaToken(requireSetting(h.config.CONTROL_SECRET, 'CONTROL_SECRET'), id, Date.now() + MEDIA_TOKEN_TTL_MS);
      const now = h.current();
      if (now && now.state !== 'ended') {
        await h.save({ ...now, mediaNonce: minted.nonce, mediaNonceUsed: false });
        return { ok: true, action: 'connect', sessionId: id, token: minted.token };
      }
      rec = h.rec!;
    }
    // A session that ran ends its call without a word; one nobody took says it was busy.
    if (rec.state === 'ended') return { ok: true, action: rec.claimedAt !== undefined ? 'hangup' : 'goodbye' };
    if (Date.now() >= rec.jobExpiresAt) {
      await h.end('claim_timeout');
      return { ok: true, action: 'goodbye' };
    }
    return { ok: true, action: 'hold' };
  }

  /** Twilio status callback: terminal call states end the session. */
  async phoneStatus(callStatus: string): Promise<void> {
    if (!this.host.rec) return;
    if (callStatus === 'completed') await this.host.end('phone_hangup');
    else if (['busy', 'failed', 'no-answer', 'canceled'].includes(callStatus)) await this.host.end('call_failed', callStatus);
  }

  /**
   * The stream bridge attaches Twilio's stream once `start` arrived and its token's HMAC checked
   * out (X-Media-Nonce, X-Call-Sid, X-Media-Format-Problem from that `start`). This checks what
   * only the session knows: the nonce is the one it last minted and unused (then consumed: a
   * replayed TwiML answer cannot attach a second stream), and the call is this session's. Only
   * then may a refused audio format end the session. A stream arriving while no worker holds the
   * call, with no drop seen (the edge restarted under both sockets), re-queues it for a worker.
   */
  async accept(request: Request): Promise<Response> {
    const h = this.host;
    const rec = h.rec;
    if (!rec || rec.kind !== 'phone') return jsonError(404, 'not_found', 'no such phone session');
    if (rec.state === 'ended') return jsonError(410, 'gone', 'session has ended');
    if (h.twilioSocket()) return jsonError(409, 'conflict', 'a media stream is already attached');
    const nonce = request.headers.get('X-Media-Nonce');
    if (!rec.mediaNonce || nonce !== rec.mediaNonce || rec.mediaNonceUsed)
      return jsonError(403, 'forbidden', 'stream token already used or superseded');
    if (request.headers.get('X-Call-Sid') !== rec.call?.callSid) return jsonError(403, 'forbidden', "start.callSid is not this session's call");
    const formatProblem = request.headers.get('X-Media-Format-Problem');
    if (formatProblem) {
      await h.end('error', formatProblem);
      return jsonError(415, 'unsupported_media_format', formatProblem);
    }
    const { twilioLostAt: _lost, ...attached } = rec;
    await h.save({ ...attached, mediaNonceUsed: true });
    const { response } = h.accept(TWILIO);
    const now = h.current()!;
    if ((now.state === 'claimed' || now.state === 'live') && !h.controlSocket() && now.controlLostAt === undefined)
      await this.link.requeue(now, 'control WebSocket gone without a close (the edge restarted)');
    return response;
  }

  /** A Twilio Media Streams frame: validated, then passed to the worker as sent. */
  async onMessage(text: string): Promise<void> {
    const h = this.host;
    const parsed = parseTwilioInbound(text);
    if (!parsed.ok) {
      console.warn(`session ${h.rec?.id}: dropped Twilio frame: ${parsed.error}`);
      return;
    }
    h.controlSocket()?.send(`{"type":"twilio","message":${text}}`);
    const rec = h.rec;
    // The latest stream's `start`: replayed to a worker that takes the call over or dials back in.
    if (parsed.value.event === 'start' && rec && rec.state !== 'ended' && rec.twilioStart !== text) await h.save({ ...rec, twilioStart: text });
    if (parsed.value.event === 'stop') await h.end('phone_hangup');
  }

  /**
   * Twilio's stream closed. Without `stop` (a `stop` ends the session before the close) the edge
   * restarted or this object was reset under the stream: the call goes on, Twilio requests
   * <Connect action> and gets a new stream. A completed status callback, or the worker hearing no
   * media for a while, ends it.
   */
  async onClose(code: number): Promise<void> {
    const h = this.host;
    h.streamClosed.resolveAll(undefined);
    const rec = h.rec;
    if (!rec || rec.state === 'ended' || h.twilioSocket()) return;
    await h.save({ ...rec, twilioLostAt: Date.now() });
    h.send({ type: 'twilio.lost', code });
  }
}
