import type { DialOutcome } from '../telephony/provider.ts';
import { telephonyFor } from '../telephony/providers.ts';
import { legWebhookUrl, providerUrl, transferUrl } from '../telephony/voice-flow.ts';
import type { SessionRecord } from './record.ts';
import { fail, type Result } from './results.ts';
import type { SessionHost } from './session-host.ts';
import { sessionStub } from './stub.ts';

export interface TransferRequest {
  requestId: string;
  to: string;
  from?: string | undefined;
}

export type TransferOutcome = { ok: boolean; reason?: string; detail?: string };

/**
 * Cold transfer of a phone call (the session's own, or a leg's, in the leg's object): the
 * provider's REST API redirects the live call to this call's voice URL with `transfer=dial`,
 * which answers a `<Dial>` of the human (their stream ends meanwhile; the call stays ours); the
 * dial's action (`transfer=done`) brings its outcome: the human answered and that call is over
 * (the call ends as `transferred`), or busy / no answer / failed (the caller is connected back
 * to a new stream of the same session, and the handler hears why). The worker learns the
 * outcome as `transfer.result`, through the session's object for a leg.
 */
export class CallTransfer {
  private readonly host: SessionHost;

  constructor(host: SessionHost) {
    this.host = host;
  }

  /** Starts it: the redirect is placed, or the failure returned (nothing changed). */
  async begin(t: TransferRequest): Promise<Result<object>> {
    const h = this.host;
    const rec = h.rec;
    if (!rec || rec.state === 'ended') return fail(410, 'gone', 'the call has ended');
    if (!rec.call) return fail(409, 'not_phone', 'only a phone call can be transferred cold');
    if (rec.transfer) return fail(409, 'conflict', 'a transfer of this call is already under way');
    await h.save({ ...rec, transfer: { ...t, state: 'redirecting' } });
    const config = h.config;
    const base = rec.parentId ? legWebhookUrl(providerUrl(config, rec.call.provider, 'voice'), rec.id) : providerUrl(config, rec.call.provider, 'voice');
    try {
      await telephonyFor(config, rec.call.provider).redirect(rec.call.callSid, transferUrl(base, 'dial'));
    } catch (err) {
      const now = h.current();
      if (now) await h.save(withoutTransfer(now));
      return fail(502, 'redirect_failed', err instanceof Error ? err.message : String(err));
    }
    return { ok: true };
  }

  /** The provider fetched the redirect: dial the human. Null when no transfer waits (a stale request). */
  async dial(): Promise<{ to: string; from?: string } | null> {
    const rec = this.host.rec;
    if (!rec?.transfer || rec.state === 'ended') return null;
    await this.host.save({ ...rec, transfer: { ...rec.transfer, state: 'dialing' } });
    return { to: rec.transfer.to, ...(rec.transfer.from ? { from: rec.transfer.from } : {}) };
  }

  /**
   * The dial's outcome: 'completed' ends the call as transferred (true: hang up); anything else
   * tells the worker and leaves the call to be connected back (false).
   */
  async done(outcome: DialOutcome): Promise<boolean> {
    const h = this.host;
    const rec = h.rec;
    if (!rec?.transfer) return false;
    const t = rec.transfer;
    await h.save(withoutTransfer(rec));
    if (outcome === 'completed') {
      await this.report(rec, t.requestId, { ok: true });
      await h.end('transferred', `to ${t.to}`);
      return true;
    }
    await this.report(rec, t.requestId, { ok: false, reason: 'call_failed', detail: outcome });
    return false;
  }

  /** Whether a transfer has taken the call's stream away on purpose (its close is not a hang-up). */
  get active(): boolean {
    return this.host.rec?.transfer !== undefined;
  }

  private async report(rec: SessionRecord, requestId: string, outcome: TransferOutcome): Promise<void> {
    if (!rec.parentId) {
      this.host.send({ type: 'transfer.result', requestId, ...outcome });
      return;
    }
    try {
      await sessionStub(this.host.env, rec.parentId).transferResult(requestId, outcome);
    } catch (err) {
      console.warn(`leg ${rec.id}: reporting its transfer failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

function withoutTransfer(rec: SessionRecord): SessionRecord {
  const { transfer: _t, ...rest } = rec;
  return rest;
}
