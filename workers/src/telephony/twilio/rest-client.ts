import { z } from 'zod';
import { requireSetting, type Config } from '../../config.ts';
import { badGateway, badRequest } from '../../errors.ts';
import { callControlRequest, callGone, callNotInProgress, controlFailed, isOk } from '../call-control.ts';
import { basicAuth, placeCallRequest } from '../rest-call.ts';
import type { PlaceCallRequest, PlacedCall, TelephonyProvider } from '../provider.ts';

/** Twilio's messages are echoed to our clients; a cap keeps an odd upstream answer small. */
const MAX_MESSAGE_CHARS = 300;
/** Progress events Twilio posts to the status callback; `completed` ends the session. */
const STATUS_EVENTS = ['initiated', 'ringing', 'answered', 'completed'] as const;

/** Twilio's 201 answer to "create call": many fields; only the call's `sid` is used. */
const CreatedCall = z.looseObject({
  sid: z.string().regex(/^CA[0-9a-fA-F]{32}$/),
});

/** Twilio's REST error body: `{"code", "message", "more_info", "status"}`. */
const TwilioError = z.looseObject({
  code: z.number().optional(),
  message: z.string().optional(),
});

/** Twilio's error for updating a call in a state that does not allow it ("Call is not in-progress"). */
const NOT_IN_PROGRESS = 21220;

/** The `code` of a Twilio error body, if it has one. */
function twilioErrorCode(text: string): number | undefined {
  try {
    const r = TwilioError.safeParse(JSON.parse(text));
    return r.success ? r.data.code : undefined;
  } catch {
    return undefined;
  }
}

/** `Twilio error 21211: <message>` from an error body, or '' when it carries no message. */
function describeTwilioError(text: string): string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return '';
  }
  const r = TwilioError.safeParse(json);
  if (!r.success || !r.data.message) return '';
  const message = r.data.message.slice(0, MAX_MESSAGE_CHARS);
  return r.data.code === undefined ? message : `Twilio error ${r.data.code}: ${message}`;
}

/**
 * Telephony through Twilio's REST API with Basic auth (account SID, auth token) and form bodies:
 * "create call" `POST {TWILIO_API_BASE}/2010-04-01/Accounts/{sid}/Calls.json`, and "update call"
 * `POST .../Calls/{CallSid}.json` to hang up (`Status`) or redirect (`Url`, `Method`). The auth
 * token only ever travels in the `Authorization` header; no error message contains it. `fetchFn`
 * is injectable for tests and is called as a plain function (workerd's `fetch` must not be called
 * as a method of another object).
 */
export function twilioTelephony(config: Config, fetchFn: typeof fetch = fetch): TelephonyProvider {
  /** One "update call" request with `fields` as its form; its status and Twilio's error code. */
  async function updateCall(callSid: string, fields: Record<string, string>, what: string) {
    const accountSid = requireSetting(config.TWILIO_ACCOUNT_SID, 'TWILIO_ACCOUNT_SID');
    const authToken = requireSetting(config.TWILIO_AUTH_TOKEN, 'TWILIO_AUTH_TOKEN');
    const base = config.TWILIO_API_BASE.replace(/\/+$/, '');
    const url = `${base}/2010-04-01/Accounts/${encodeURIComponent(accountSid)}/Calls/${encodeURIComponent(callSid)}.json`;
    const res = await callControlRequest({
      provider: 'Twilio',
      what,
      fetchFn,
      url,
      method: 'POST',
      headers: { Authorization: basicAuth(accountSid, authToken), 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
    return { ...res, code: isOk(res.status) ? undefined : twilioErrorCode(res.text) };
  }

  return {
    name: 'twilio',

    /**
     * `Status=completed`, which Twilio documents as ending a call in any state (queued, ringing or
     * in progress). Should Twilio still answer 21220 (not in progress), `Status=canceled` (for
     * queued or ringing calls) is tried once. A 404, or 21220 to both, means the call is over.
     */
    async hangUp(callSid: string): Promise<void> {
      const what = 'hang up the call';
      let res = await updateCall(callSid, { Status: 'completed' }, what);
      if (res.code === NOT_IN_PROGRESS) res = await updateCall(callSid, { Status: 'canceled' }, what);
      if (isOk(res.status) || res.status === 404 || res.code === NOT_IN_PROGRESS) return;
      throw controlFailed('Twilio', what, res.status, describeTwilioError(res.text));
    },

    /** `Url` and `Method=POST`: Twilio fetches TwiML there at once. 404: 410; 21220: 409. */
    async redirect(callSid: string, url: string): Promise<void> {
      const what = 'redirect the call';
      const res = await updateCall(callSid, { Url: url, Method: 'POST' }, what);
      if (isOk(res.status)) return;
      if (res.status === 404) throw callGone('Twilio');
      if (res.code === NOT_IN_PROGRESS) throw callNotInProgress('Twilio', describeTwilioError(res.text));
      throw controlFailed('Twilio', what, res.status, describeTwilioError(res.text));
    },

    async placeCall(req: PlaceCallRequest): Promise<PlacedCall> {
      const accountSid = requireSetting(config.TWILIO_ACCOUNT_SID, 'TWILIO_ACCOUNT_SID');
      const authToken = requireSetting(config.TWILIO_AUTH_TOKEN, 'TWILIO_AUTH_TOKEN');
      const from = req.from || config.TWILIO_FROM;
      if (!from) throw badRequest('from is required: set TWILIO_FROM or pass "from"');

      const form = new URLSearchParams({
        To: req.to,
        From: from,
        Url: req.voiceUrl,
        Method: 'POST',
        StatusCallback: req.statusCallbackUrl,
        StatusCallbackMethod: 'POST',
      });
      // Twilio takes a list parameter as the same name repeated.
      for (const event of STATUS_EVENTS) form.append('StatusCallbackEvent', event);

      const base = config.TWILIO_API_BASE.replace(/\/+$/, '');
      const url = `${base}/2010-04-01/Accounts/${encodeURIComponent(accountSid)}/Calls.json`;

      const json = await placeCallRequest({
        provider: 'Twilio',
        fetchFn,
        url,
        headers: { Authorization: basicAuth(accountSid, authToken), 'Content-Type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
        rejected: [400],
        describe: describeTwilioError,
      });
      const created = CreatedCall.safeParse(json);
      if (!created.success) throw badGateway('Twilio answered the call request without a valid call sid');
      return { callSid: created.data.sid };
    },
  };
}
