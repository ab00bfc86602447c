import type { Context } from 'hono';
import { LegId, type PhoneCall, type PhoneProvider } from '@switchboard/protocol';
import type { Config } from '../config.ts';
import type { Env } from '../env.ts';
import { phoneSessionId, sessionStub, unwrap } from '../session/stub.ts';
import { badRequest } from '../errors.ts';
import type { CallMarkup, CallStatus, WebhookForm } from './provider.ts';
import { wsBaseUrl } from './ws-base-url.ts';

type C = Context<{ Bindings: Env }>;

const HOLD_MESSAGE = 'Please hold while we connect you.';
const BUSY_MESSAGE = 'Sorry, nobody is available to take your call right now. Please try again later. Goodbye.';
export const ERROR_MESSAGE = 'Sorry, something went wrong. Goodbye.';

/**
 * The leg a webhook is for: a leg's call (dialled by `POST /v1/sessions/{id}/legs`) names it in
 * its webhook URLs' query (`?leg=l_...`, covered by the providers' signatures), so its own object
 * answers, whatever call id the provider uses.
 */
function legOf(c: C): string | undefined {
  const leg = c.req.query('leg');
  if (leg === undefined) return undefined;
  if (!LegId.safeParse(leg).success) throw badRequest('leg is not a leg id');
  return leg;
}

/** How long the provider rings the human in a cold transfer. */
export const TRANSFER_RING_S = 30;

/** The voice URL of a cold transfer's step: `transfer=dial` (dial the human), `transfer=done` (the dial's outcome). */
export const transferUrl = (voiceUrl: string, step: 'dial' | 'done') => `${voiceUrl}${voiceUrl.includes('?') ? '&' : '?'}transfer=${step}`;

/** A provider webhook URL of a leg: the route's URL with `?leg=<legId>`. */
export const legWebhookUrl = (base: string, legId: string) => `${base}?leg=${legId}`;

/** The edge's URL of a provider's route, e.g. `https://edge.example/telnyx/voice`. */
export const providerUrl = (config: Config, provider: PhoneProvider, route: string) => `${config.PUBLIC_BASE_URL}/${provider}/${route}`;

/**
 * The media stream URL for a call: `PUBLIC_BASE_URL` with `https` made `wss` (`http`: `ws`),
 * then `/<provider>/media/<sessionId>`, and for providers whose stream upgrade carries no
 * signature, `/<token>` (the call's single-use media credential). Twilio signs the exact URL on the
 * upgrade, and its token travels as a `<Parameter>` instead.
 */
export function mediaStreamUrl(config: Config, provider: PhoneProvider, sessionId: string, token: string): string {
  const path = `${wsBaseUrl(config.PUBLIC_BASE_URL)}/${provider}/media/${sessionId}`;
  return provider === 'twilio' ? path : `${path}/${encodeURIComponent(token)}`;
}

/**
 * Answers a provider's voice webhook (already verified and parsed) for any provider: the session
 * decides (connect, hold, wait, hang up, goodbye: phone-calls.ts) and the provider's markup says
 * it. The voice URL doubles as the hold redirect and Twilio's `<Connect action>`.
 */
export async function answerVoice(c: C, config: Config, call: PhoneCall, markup: CallMarkup, form: WebhookForm = {}): Promise<Response> {
  const leg = legOf(c);
  const id = leg ?? (await phoneSessionId(call.provider, call.callSid));
  const step = c.req.query('transfer');
  const transfer = step === 'dial' ? { step: 'dial' as const } : step === 'done' ? { step: 'done' as const, outcome: markup.dialOutcome(form) } : undefined;
  const action = unwrap(await sessionStub(c.env, id).voice(id, call, transfer));
  const voiceUrl = leg ? legWebhookUrl(providerUrl(config, call.provider, 'voice'), leg) : providerUrl(config, call.provider, 'voice');
  const doc =
    action.action === 'dial'
      ? markup.dial({ to: action.to, ...(action.from ? { callerId: action.from } : {}), action: transferUrl(voiceUrl, 'done'), timeoutS: TRANSFER_RING_S })
      : action.action === 'connect'
      ? markup.connect({
          streamUrl: mediaStreamUrl(config, call.provider, action.sessionId, action.token),
          parameters: { sessionId: action.sessionId, token: action.token },
          action: voiceUrl,
        })
      : action.action === 'hold'
        ? markup.hold({ message: HOLD_MESSAGE, redirectUrl: voiceUrl })
        : action.action === 'wait'
          ? markup.hold({ message: '', redirectUrl: voiceUrl })
          : action.action === 'hangup'
            ? markup.hangup()
            : markup.goodbye(BUSY_MESSAGE);
  return c.body(doc, 200, { 'Content-Type': markup.contentType });
}

/**
 * A provider's call status (verified and normalised): terminal states end the session. Answers
 * `okStatus` with no body (Twilio's contract is 204; Telnyx and Plivo want 200).
 */
export async function reportStatus(c: C, provider: PhoneProvider, callSid: string, status: CallStatus, okStatus: 200 | 204 = 200): Promise<Response> {
  const id = legOf(c) ?? (await phoneSessionId(provider, callSid));
  await sessionStub(c.env, id).phoneStatus(status);
  return c.body(null, okStatus);
}
