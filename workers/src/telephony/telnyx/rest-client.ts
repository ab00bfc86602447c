import { z } from 'zod';
import { requireSetting, type Config } from '../../config.ts';
import { badGateway, badRequest } from '../../errors.ts';
import { callControlRequest, callGone, controlFailed, isOk } from '../call-control.ts';
import { placeCallRequest } from '../rest-call.ts';
import type { PlaceCallRequest, PlacedCall, TelephonyProvider } from '../provider.ts';

/** Telnyx's error texts are echoed to our clients; a cap keeps an odd upstream answer small. */
const MAX_MESSAGE_CHARS = 300;
/** At most this many of Telnyx's errors are summarised. */
const MAX_ERRORS = 3;

/**
 * Telnyx's answer to "create a connection-scoped TeXML call": a flat
 * `{"call_sid", "from", "to", "status": "queued"}`. `call_sid` (`v3:...`) is the call control id,
 * the same value TeXML webhooks carry as `CallSid`. The same path's earlier schema wrapped its
 * answer in `data`, so `data.call_sid` is read too.
 */
const CallSid = z.string().regex(/^[\x21-\x7E]{1,256}$/);
const CreatedCall = z.union([
  z.looseObject({ call_sid: CallSid }).transform((r) => r.call_sid),
  z.looseObject({ data: z.looseObject({ call_sid: CallSid }) }).transform((r) => r.data.call_sid),
]);

/** Telnyx's API error body: `{"errors": [{"code", "title", "detail", "source", "meta"}]}`. */
const TelnyxErrors = z.looseObject({
  errors: z.array(
    z.looseObject({
      code: z.union([z.string(), z.number()]).optional(),
      title: z.string().optional(),
      detail: z.string().optional(),
    }),
  ),
});

/**
 * Telnyx's error code for a command on a call that has already ended (documented for its call
 * commands); taken, like a 404, to mean the call is over.
 */
const CALL_ENDED = '90018';

/** The codes in a Telnyx error body, as strings. */
function telnyxErrorCodes(text: string): string[] {
  try {
    const r = TelnyxErrors.safeParse(JSON.parse(text));
    return r.success ? r.data.errors.flatMap((e) => (e.code === undefined ? [] : [String(e.code)])) : [];
  } catch {
    return [];
  }
}

/** `Telnyx error 10016: Invalid phone number (detail)`; several joined by `; `; '' when there is nothing to say. */
function describeTelnyxErrors(text: string): string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return '';
  }
  const r = TelnyxErrors.safeParse(json);
  if (!r.success) return '';
  const parts: string[] = [];
  for (const e of r.data.errors.slice(0, MAX_ERRORS)) {
    const words = [e.title, e.detail && e.detail !== e.title ? e.detail : undefined].filter(Boolean).join(': ');
    if (!words) continue;
    parts.push(e.code === undefined ? words : `Telnyx error ${e.code}: ${words}`);
  }
  const summary = parts.join('; ');
  return summary.length > MAX_MESSAGE_CHARS ? `${summary.slice(0, MAX_MESSAGE_CHARS - 1)}…` : summary;
}

/**
 * Telephony through Telnyx's TeXML Calls API, with `Authorization: Bearer {TELNYX_API_KEY}`:
 * - placing a call: `POST {TELNYX_API_BASE}/v2/texml/calls/{TELNYX_APP_ID}` (the TeXML
 *   application's connection id) with a JSON body. Telnyx then requests `Url` (POST) for the
 *   call's TeXML when the callee answers and posts the call's end to `StatusCallback`.
 * - hanging up (`Status=completed`) and redirecting (`Url`, `Method=POST`): TeXML's "update call".
 *   Its current path, `POST /v2/texml/Accounts/{account_sid}/Calls/{call_sid}` with a form body,
 *   needs the account's id, which the edge's settings do not carry; with `options.accountSid` that
 *   path is used, without it the connection-free `POST /v2/texml/calls/{call_sid}/update` with a
 *   JSON body (documented as deprecated, same fields).
 * The API key only ever travels in the `Authorization` header; no error message contains it.
 * `fetchFn` is injectable for tests and is called as a plain function (workerd's `fetch` must not
 * be called as a method of another object).
 */
export function telnyxTelephony(config: Config, fetchFn: typeof fetch = fetch, options: { accountSid?: string } = {}): TelephonyProvider {
  /** One "update call" request; whether Telnyx says the call is over (404, or "already ended"). */
  async function updateCall(callSid: string, fields: Record<string, string>, what: string) {
    const apiKey = requireSetting(config.TELNYX_API_KEY, 'TELNYX_API_KEY');
    const base = config.TELNYX_API_BASE.replace(/\/+$/, '');
    const sid = encodeURIComponent(callSid);
    const scoped = options.accountSid
      ? {
          url: `${base}/v2/texml/Accounts/${encodeURIComponent(options.accountSid)}/Calls/${sid}`,
          type: 'application/x-www-form-urlencoded',
          body: new URLSearchParams(fields).toString(),
        }
      : { url: `${base}/v2/texml/calls/${sid}/update`, type: 'application/json', body: JSON.stringify(fields) };
    const res = await callControlRequest({
      provider: 'Telnyx',
      what,
      fetchFn,
      url: scoped.url,
      method: 'POST',
      headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': scoped.type },
      body: scoped.body,
    });
    const over = res.status === 404 || (!isOk(res.status) && telnyxErrorCodes(res.text).includes(CALL_ENDED));
    return { ...res, over };
  }

  return {
    name: 'telnyx',

    /** `Status=completed` ends the call, ringing or live; a call Telnyx says is over is done. */
    async hangUp(callSid: string): Promise<void> {
      const what = 'hang up the call';
      const res = await updateCall(callSid, { Status: 'completed' }, what);
      if (isOk(res.status) || res.over) return;
      throw controlFailed('Telnyx', what, res.status, describeTelnyxErrors(res.text));
    },

    /** `Url` with `Method=POST`: Telnyx fetches TeXML there. A call that is over: 410. */
    async redirect(callSid: string, url: string): Promise<void> {
      const what = 'redirect the call';
      const res = await updateCall(callSid, { Url: url, Method: 'POST' }, what);
      if (isOk(res.status)) return;
      if (res.over) throw callGone('Telnyx');
      throw controlFailed('Telnyx', what, res.status, describeTelnyxErrors(res.text));
    },

    async placeCall(req: PlaceCallRequest): Promise<PlacedCall> {
      const apiKey = requireSetting(config.TELNYX_API_KEY, 'TELNYX_API_KEY');
      const appId = requireSetting(config.TELNYX_APP_ID, 'TELNYX_APP_ID');
      const from = req.from || config.TELNYX_FROM;
      if (!from) throw badRequest('from is required: set TELNYX_FROM or pass "from"');

      // Names are case-sensitive. The path's current schema names the Url's method `Method`, its
      // earlier one `UrlMethod`; both are sent, both POST. `StatusCallbackEvent` `completed` is the
      // documented default: the one event whose `CallStatus` can end the session.
      const body = {
        To: req.to,
        From: from,
        Url: req.voiceUrl,
        Method: 'POST',
        UrlMethod: 'POST',
        StatusCallback: req.statusCallbackUrl,
        StatusCallbackMethod: 'POST',
        StatusCallbackEvent: 'completed',
      };

      const base = config.TELNYX_API_BASE.replace(/\/+$/, '');
      const url = `${base}/v2/texml/calls/${encodeURIComponent(appId)}`;

      const json = await placeCallRequest({
        provider: 'Telnyx',
        fetchFn,
        url,
        headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        rejected: [400, 422],
        describe: describeTelnyxErrors,
      });
      const created = CreatedCall.safeParse(json);
      if (!created.success) throw badGateway('Telnyx answered the call request without a valid call_sid');
      return { callSid: created.data };
    },
  };
}
