import { randomBytes } from 'node:crypto';
import { LOCAL_TELNYX_SIGNING_KEY } from '../../stack/config.ts';
import { transportUrl } from '../public-url.ts';
import { sendWebhook, type FormParams } from '../signed-webhook.ts';
import { telnyxKey, telnyxSigner } from './telnyx-signature.ts';
import { telnyxStream } from './telnyx-stream.ts';
import { parseTexml } from './telnyx-texml.ts';
import type { CallContext, ProviderAdapter } from './types.ts';

/**
 * Telnyx TeXML, from its documentation: instruction requests form-encoded with AccountSid,
 * CallSid, CallSidLegacy, From, To, ConnectionId, ApiVersion and CallStatus (no Direction), signed
 * with Ed25519 (telnyx-signature-ed25519 + telnyx-timestamp); TeXML; Telnyx media streams
 * (no signature on the upgrade: the stream URL carries its own credential); a signed status
 * callback (CallStatus completed) when the call ends.
 */
export interface TelnyxCredentials {
  /** PKCS#8 DER Ed25519 private key, base64 (default: the local key). */
  signingKey?: string;
  accountSid?: string;
  connectionId?: string;
}

/** A local stand-in for a Telnyx account id (a UUID in Telnyx's documents). */
export const LOCAL_TELNYX_ACCOUNT_SID = '00000000-0000-4000-8000-00000000c0de';
export const LOCAL_TELNYX_CONNECTION_ID = '1000000000000000001';

/** A TeXML call id: `v3:` then URL-safe base64, as in Telnyx's examples. */
export const telnyxCallSid = () => `v3:${randomBytes(39).toString('base64url')}`;

export function telnyxAdapter(ctx: CallContext, creds: TelnyxCredentials = {}): ProviderAdapter {
  const sign = telnyxSigner(telnyxKey(creds.signingKey ?? LOCAL_TELNYX_SIGNING_KEY));
  const accountSid = creds.accountSid ?? LOCAL_TELNYX_ACCOUNT_SID;
  const connectionId = creds.connectionId ?? LOCAL_TELNYX_CONNECTION_ID;
  const callSid = ctx.callSid ?? telnyxCallSid();
  const startedAt = new Date();
  let sequence = 0;
  const params = (callStatus: string): FormParams => ({
    AccountSid: accountSid,
    ApiVersion: '2010-04-01',
    CallSid: callSid,
    CallSidLegacy: callSid,
    CallStatus: callStatus,
    ConnectionId: connectionId,
    From: ctx.from,
    To: ctx.to,
  });
  const send = (method: 'GET' | 'POST', url: string, p: FormParams, signal?: AbortSignal) =>
    sendWebhook({ method, signedUrl: url, requestUrl: transportUrl(url, ctx.publicBase, ctx.base), params: p, sign, signal });

  return {
    provider: 'telnyx',
    callSid,
    firstUrl: ctx.voiceUrl ?? `${ctx.publicBase}/telnyx/voice`,
    signatureHeader: 'telnyx-signature-ed25519',
    // Telnyx answers an inbound call before it fetches instructions, so every request is in-progress.
    webhook: (r) => send(r.method, r.url, { ...params('in-progress'), ...r.extra }, r.signal),
    markup: (body, documentUrl) => parseTexml(body, documentUrl),
    // TeXML's <Dial action> request (TwiML-compatible): DialCallStatus, DialCallSid, DialCallDuration (answered legs).
    dialParams: (outcome, talkS) => ({
      DialCallSid: telnyxCallSid(),
      DialCallStatus: outcome,
      ...(outcome === 'completed' ? { DialCallDuration: String(talkS) } : {}),
    }),
    upgradeHeaders: () => ({}),
    stream: (target) => telnyxStream({ accountSid, callSid, from: ctx.from, to: ctx.to }, target),
    async end(durationS) {
      const url = ctx.statusCallbackUrl ?? `${ctx.publicBase}/telnyx/status`;
      const p: FormParams = {
        ...params('completed'),
        CallbackSource: 'call-progress-events',
        CallDuration: String(durationS),
        CallInitiatedAt: startedAt.toISOString(),
        HangupCause: 'normal_clearing',
        HangupSource: 'caller',
        SequenceNumber: String(++sequence),
        Timestamp: new Date().toISOString(),
      };
      delete p.ApiVersion; // the documented status callback does not carry it
      return { ...(await send('POST', url, p)), url };
    },
  };
}
