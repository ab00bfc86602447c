import { randomUUID } from 'node:crypto';
import { LOCAL_DEFAULTS } from '../../stack/config.ts';
import { transportUrl } from '../public-url.ts';
import { sendWebhook, type FormParams } from '../signed-webhook.ts';
import { plivoSigner } from './plivo-signature.ts';
import { plivoStream } from './plivo-stream.ts';
import { parsePlivoXml } from './plivo-xml.ts';
import type { CallContext, MarkupAction, ProviderAdapter, StreamTarget } from './types.ts';

/**
 * Plivo, from its documentation: the answer URL and the hangup URL requested form-encoded with
 * CallUUID, From, To, CallStatus, Direction (and, for a call placed through the Call API,
 * ALegUUID and ALegRequestUUID), signed with X-Plivo-Signature-V3 + nonce; Plivo XML; Plivo audio
 * streams (no signature on the upgrade: the stream URL carries its own credential). Numbers are
 * country code then number, without '+'.
 */
export interface PlivoCredentials {
  authId?: string;
  authToken?: string;
  /** Answering a call placed with the Call API: the request_uuid its answer returned. */
  requestUuid?: string;
}

const plivoNumber = (n: string) => n.replace(/^\+/, '');

export function plivoAdapter(ctx: CallContext, creds: PlivoCredentials = {}): ProviderAdapter {
  const authId = creds.authId ?? LOCAL_DEFAULTS.PLIVO_AUTH_ID ?? 'MA00000000000000LOCAL';
  const sign = plivoSigner(creds.authToken ?? LOCAL_DEFAULTS.PLIVO_AUTH_TOKEN ?? '');
  const callUuid = ctx.callSid ?? randomUUID();
  const requestUuid = ctx.outbound ? (creds.requestUuid ?? randomUUID()) : undefined;
  const params = (callStatus: string): FormParams => ({
    CallStatus: callStatus,
    CallUUID: callUuid,
    Direction: ctx.outbound ? 'outbound' : 'inbound',
    From: plivoNumber(ctx.from),
    To: plivoNumber(ctx.to),
    // Documented for Call API calls as ALegUUID / ALegRequestUUID; RequestUUID as well, the
    // name the Call API's answer (request_uuid) and older Plivo callbacks use.
    ...(requestUuid ? { ALegUUID: callUuid, ALegRequestUUID: requestUuid, RequestUUID: requestUuid } : {}),
  });
  const send = (method: 'GET' | 'POST', url: string, p: FormParams, signal?: AbortSignal) =>
    sendWebhook({ method, signedUrl: url, requestUrl: transportUrl(url, ctx.publicBase, ctx.base), params: p, sign, signal });
  const startedAt = Date.now();

  return {
    provider: 'plivo',
    callSid: callUuid,
    firstUrl: ctx.voiceUrl ?? `${ctx.publicBase}/plivo/voice`,
    signatureHeader: 'X-Plivo-Signature-V3',
    // An inbound call is answered while it rings; a Call API call once the callee has answered.
    webhook: (r) => send(r.method, r.url, { ...params(!ctx.outbound && r.first ? 'ringing' : 'in-progress'), ...r.extra }, r.signal),
    markup: (body, documentUrl): MarkupAction => parsePlivoXml(body, documentUrl),
    // Plivo's <Dial action> request: DialStatus, DialALegUUID, DialBLegUUID (answered legs).
    dialParams: (outcome) => ({
      DialALegUUID: callUuid,
      DialStatus: outcome,
      ...(outcome === 'completed' ? { DialBLegUUID: randomUUID() } : {}),
    }),
    upgradeHeaders: () => ({}),
    stream: (target: StreamTarget) =>
      plivoStream({ accountId: authId, callUuid, extraHeaders: (target as { extraHeaders?: string }).extraHeaders ?? '' }, target),
    async end(durationS) {
      const url = ctx.statusCallbackUrl ?? `${ctx.publicBase}/plivo/status`;
      const p: FormParams = {
        ...params('completed'),
        BillDuration: String(durationS),
        Duration: String(durationS),
        EndTime: new Date().toISOString().replace('T', ' ').slice(0, 19),
        HangupCause: 'NORMAL_CLEARING',
        StartTime: new Date(startedAt).toISOString().replace('T', ' ').slice(0, 19),
      };
      return { ...(await send('POST', url, p)), url };
    },
  };
}
