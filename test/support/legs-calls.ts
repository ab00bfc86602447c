import { LOCAL_DEFAULTS, LOCAL_TELNYX_SIGNING_KEY } from '../../scripts/stack/config.ts';
import { readApiLog } from '../../scripts/phone/api-log.ts';
import { simulateCall, type CallResult, type SimulateCallOptions } from '../../scripts/phone/caller.ts';
import { placedCall } from '../../scripts/phone/providers/api-requests.ts';
import { plivoSigner } from '../../scripts/phone/providers/plivo-signature.ts';
import { telnyxKey, telnyxSigner } from '../../scripts/phone/providers/telnyx-signature.ts';
import type { Provider } from '../../scripts/phone/providers/types.ts';
import { sendWebhook, type WebhookAnswer } from '../../scripts/phone/signed-webhook.ts';

/**
 * Phone legs of a session (`POST /v1/sessions/{id}/legs`) against the local fakes of the
 * providers' REST APIs: dial one and learn the call the edge placed (its Url / answer_url and
 * status URL, both with `?leg=`, from the fake's request log), answer it with the caller simulator
 * as the callee, or end it unanswered with the provider's signed status callback.
 */
export interface DialledLeg {
  legId: string;
  /** The provider's id of the call (Twilio / Telnyx call sid, Plivo request_uuid). */
  callSid: string;
  provider: Provider;
  to: string;
  /** The call's first instruction URL (Url / answer_url) as the edge asked the provider. */
  voiceUrl: string;
  /** The call's status callback (StatusCallback / hangup_url). */
  statusUrl: string;
}

/** Dials `to` into session `sessionId` through `provider`; `apiBase` is that provider's fake API. */
export async function dialLeg(o: { edge: string; sessionId: string; provider: Provider; to: string; apiBase: string }): Promise<DialledLeg> {
  const res = await fetch(`${o.edge}/v1/sessions/${o.sessionId}/legs`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ to: o.to, provider: o.provider }),
  });
  if (res.status !== 201) throw new Error(`POST /legs (${o.provider}) answered ${res.status}: ${await res.text()}`);
  const { legId, callSid } = (await res.json()) as { legId: string; callSid: string };
  const placed = (await readApiLog(o.apiBase))
    .map((r) => (r ? placedCall(o.provider, r) : null))
    .filter((p) => p !== null)
    .reverse();
  // The fakes log their answer, so the call is found by its id; by the number otherwise.
  const call = placed.find((p) => p.id === callSid) ?? placed.find((p) => p.id === undefined && p.url.includes(legId));
  if (!call) throw new Error(`the ${o.provider} fake logged no call ${callSid} for leg ${legId}`);
  if (!call.statusCallbackUrl) throw new Error(`the ${o.provider} call of leg ${legId} has no status URL`);
  return { legId, callSid, provider: o.provider, to: o.to, voiceUrl: call.url, statusUrl: call.statusCallbackUrl };
}

/** The callee answers leg `leg` (the simulator, outbound-api) and talks `audio`; `extra` adds any simulator option. */
export function answerLeg(edge: string, leg: DialledLeg, extra: Omit<SimulateCallOptions, 'baseUrl' | 'provider'>): Promise<CallResult> {
  return simulateCall({
    baseUrl: edge,
    provider: leg.provider,
    voiceUrl: leg.voiceUrl,
    statusCallbackUrl: leg.statusUrl,
    direction: 'outbound-api',
    to: leg.to,
    ...(leg.provider === 'plivo' ? { plivoRequestUuid: leg.callSid } : { callSid: leg.callSid }),
    ...extra,
  });
}

/**
 * The provider's signed status callback for a leg nobody answered (`no-answer`) or a busy line
 * (`busy`), to the leg's status URL, as Telnyx (TeXML) and Plivo (hangup_url) send it.
 */
export function postUnanswered(edge: string, leg: DialledLeg, status: 'no-answer' | 'busy'): Promise<WebhookAnswer> {
  const from = '+15550100100';
  if (leg.provider === 'telnyx') {
    const params = {
      AccountSid: '00000000-0000-4000-8000-00000000c0de',
      CallSid: leg.callSid,
      CallSidLegacy: leg.callSid,
      CallStatus: status,
      CallbackSource: 'call-progress-events',
      ConnectionId: '1000000000000000001',
      From: from,
      To: leg.to,
      HangupCause: status === 'busy' ? 'user_busy' : 'timeout',
      HangupSource: 'callee',
      SequenceNumber: '1',
      Timestamp: new Date().toISOString(),
    };
    return sendWebhook({ signedUrl: leg.statusUrl, requestUrl: leg.statusUrl, params, sign: telnyxSigner(telnyxKey(LOCAL_TELNYX_SIGNING_KEY)) });
  }
  if (leg.provider === 'plivo') {
    const params = {
      CallUUID: '',
      CallStatus: status,
      Direction: 'outbound',
      From: from.replace(/^\+/, ''),
      To: leg.to.replace(/^\+/, ''),
      RequestUUID: leg.callSid,
      ALegRequestUUID: leg.callSid,
      HangupCause: status === 'busy' ? 'USER_BUSY' : 'NO_ANSWER',
      Duration: '0',
      BillDuration: '0',
    };
    return sendWebhook({ signedUrl: leg.statusUrl, requestUrl: leg.statusUrl, params, sign: plivoSigner(LOCAL_DEFAULTS['PLIVO_AUTH_TOKEN'] ?? '') });
  }
  throw new Error(`postUnanswered: ${leg.provider} is not supported here`);
}

/** A session's status as the edge shows it, with its legs. */
export interface LegsStatus {
  state: string;
  workerId?: string;
  legs?: Array<{ legId: string; state: string; reason?: string; provider?: string }>;
}

export async function sessionStatus(edge: string, sessionId: string): Promise<LegsStatus> {
  return (await fetch(`${edge}/v1/sessions/${sessionId}/status`)).json() as Promise<LegsStatus>;
}
