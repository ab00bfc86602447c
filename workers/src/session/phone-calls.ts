import { LegId, type PhoneCall } from '@switchboard/protocol';
import { requireSetting } from '../config.ts';
import type { PhoneVoiceAction } from '../telephony/voice-action.ts';
import { mintMediaToken } from './media-token.ts';
import type { Result } from './results.ts';
import { asFailure } from './results.ts';
import type { SessionHost } from './session-host.ts';
import type { CallStatus, DialOutcome } from '../telephony/provider.ts';
import { CallTransfer } from './call-transfer.ts';

/** Lifetime of the media token handed to the provider's stream (in its URL, or Twilio's `<Parameter name="token">`). */
const MEDIA_TOKEN_TTL_MS = 300_000;
/** How long a voice request waits for an attached stream to close before answering without a token. */
const STREAM_CLOSE_WAIT_MS = 2000;

/**
 * A phone session's calls from its provider, whichever it is: the voice webhook (connect, hold,
 * goodbye) and the call status. The stream itself attaches to the media relay (media-relay.ts).
 */
export class PhoneCalls {
  private readonly host: SessionHost;
  readonly transfer: CallTransfer;

  constructor(host: SessionHost) {
    this.host = host;
    this.transfer = new CallTransfer(host);
  }

  /** Creates (idempotently) and queues a phone session. */
  async startPhone(id: string, call: PhoneCall, record = false): Promise<Result<object>> {
    if (this.host.rec) return { ok: true };
    try {
      await this.host.createAndQueue(id, 'phone', Date.now(), record ? { call, record } : { call }, this.host.config.PHONE_WAIT_MS);
    } catch (err) {
      return asFailure(err);
    }
    return { ok: true };
  }

  /**
   * The voice webhook, its hold redirects and Twilio's `<Connect action>` (its request when a
   * stream ends without the call ending): connect once claimed, else hold, else goodbye. Each connect
   * mints a fresh single-use media token and records its nonce, replacing any earlier unused one
   * (the provider uses the answer it got last). While a stream is attached no token is handed out:
   * a replayed webhook gets a silent redirect, after waiting briefly for the stream to close, as
   * Twilio's own action request can arrive before the old stream's close does.
   */
  async voice(id: string, call: PhoneCall, transfer?: { step: 'dial' } | { step: 'done'; outcome: DialOutcome }): Promise<Result<PhoneVoiceAction>> {
    const h = this.host;
    if (transfer?.step === 'dial') {
      const dial = await this.transfer.dial();
      if (dial) return { ok: true, action: 'dial', ...dial };
    } else if (transfer?.step === 'done' && (await this.transfer.done(transfer.outcome))) return { ok: true, action: 'hangup' };
    if (LegId.safeParse(id).success) {
      // A leg's object is made by its session as the call is placed: the callee may answer first.
      if (!h.rec) await h.claimed.wait(h.config.PHONE_WEBHOOK_WAIT_MS);
      if (!h.rec) return { ok: true, action: 'hold' };
    } else {
      const started = await this.startPhone(id, call);
      if (!started.ok) return started;
    }
    let rec = h.rec!;
    if (rec.state === 'created' || rec.state === 'queued') {
      const left = rec.jobExpiresAt - Date.now();
      if (left > 0) await h.claimed.wait(Math.min(left, h.config.PHONE_WEBHOOK_WAIT_MS));
      rec = h.rec!;
    }
    if ((rec.state === 'claimed' || rec.state === 'live') && h.peerSocket()) {
      await h.streamClosed.wait(STREAM_CLOSE_WAIT_MS);
      rec = h.rec!;
      if (rec.state !== 'ended' && h.peerSocket()) return { ok: true, action: 'wait' };
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

  /** The provider's call status (normalised): terminal states end the session. */
  async phoneStatus(status: CallStatus): Promise<void> {
    if (!this.host.rec) return;
    if (status === 'completed') await this.host.end('phone_hangup');
    else if (status !== 'other') await this.host.end('call_failed', status);
  }
}
