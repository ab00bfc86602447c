import { z } from 'zod';
import { requireSetting, type Config } from '../../config.ts';
import { badGateway, badRequest } from '../../errors.ts';
import { callControlRequest, callGone, controlFailed, isOk } from '../call-control.ts';
import { basicAuth, placeCallRequest } from '../rest-call.ts';
import type { PlaceCallRequest, PlacedCall, TelephonyProvider } from '../provider.ts';
import { plivoNumber } from './address.ts';

/** Plivo's messages are echoed to our clients; a cap keeps an odd upstream answer small. */
const MAX_MESSAGE_CHARS = 300;

/** Plivo's 201 answer to "make a call": `{"api_id", "message": "call fired", "request_uuid"}`. */
const CallFired = z.looseObject({
  request_uuid: z.string().regex(/^[A-Za-z0-9-]{1,256}$/),
});

/** Plivo's error body: `{"api_id", "error"}`, the error mostly a sentence, sometimes an object. */
const PlivoError = z.looseObject({
  error: z.unknown().optional(),
});

/** `Plivo: <error>` from an error body, or '' when it carries none. */
function describePlivoError(text: string): string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return '';
  }
  const r = PlivoError.safeParse(json);
  if (!r.success || r.data.error === undefined || r.data.error === null || r.data.error === '') return '';
  const error = typeof r.data.error === 'string' ? r.data.error : JSON.stringify(r.data.error);
  return `Plivo: ${error.slice(0, MAX_MESSAGE_CHARS)}`;
}

/**
 * A number as Plivo's Call API takes it: country code and number without `+` (`14155550100`);
 * a SIP URI as is. `<` separates destinations of a bulk call in `to` (and caller IDs in `from`),
 * so it is refused: one request places one call.
 */
function plivoAddress(value: string, field: 'to' | 'from'): string {
  if (value.includes('<')) throw badRequest(`${field} must be a single number or SIP URI`);
  return plivoNumber(value);
}

/**
 * Telephony through Plivo's Call API with Basic auth (auth id, auth token), under
 * `{PLIVO_API_BASE}/v1/Account/{auth_id}/`:
 * - "make a call", `POST Call/` with a JSON body; Plivo requests `answer_url` (POST) when the
 *   callee answers and posts the hang-up to `hangup_url`. The call's id is the answer's
 *   `request_uuid`, which the webhooks carry as RequestUUID (params.ts `plivoCallId`).
 * - "hang up a call", `DELETE Call/{call_uuid}/`, and "cancel a queued call",
 *   `DELETE Request/{request_uuid}/` (both 204), for `hangUp`.
 * - "transfer a call", `POST Call/{call_uuid}/` with `legs=aleg`, `aleg_url`, `aleg_method` (202),
 *   for `redirect`.
 * The auth token only ever travels in the `Authorization` header; no error message contains it.
 * `fetchFn` is injectable for tests and is called as a plain function (workerd's `fetch` must not
 * be called as a method of another object).
 */
export function plivoTelephony(config: Config, fetchFn: typeof fetch = fetch): TelephonyProvider {
  /** One request on `Call/{id}/` or `Request/{id}/`. */
  async function control(method: 'POST' | 'DELETE', resource: 'Call' | 'Request', id: string, what: string, body?: unknown) {
    const authId = requireSetting(config.PLIVO_AUTH_ID, 'PLIVO_AUTH_ID');
    const authToken = requireSetting(config.PLIVO_AUTH_TOKEN, 'PLIVO_AUTH_TOKEN');
    const base = config.PLIVO_API_BASE.replace(/\/+$/, '');
    const headers: Record<string, string> = { Authorization: basicAuth(authId, authToken) };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    return callControlRequest({
      provider: 'Plivo',
      what,
      fetchFn,
      url: `${base}/v1/Account/${encodeURIComponent(authId)}/${resource}/${encodeURIComponent(id)}/`,
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }

  return {
    name: 'plivo',

    /**
     * The id is what the edge knows the call by: a CallUUID (inbound calls; outbound ones once
     * answered, where Plivo gives the CallUUID the request_uuid's value) or a request_uuid (an
     * outbound call still queued, before any CallUUID exists). So the live call is hung up first,
     * `DELETE Call/{id}/` (which also cancels a ringing outbound call); when Plivo knows no such
     * call (404), the queued request is cancelled, `DELETE Request/{id}/`. 404 to both: the call
     * is over.
     */
    async hangUp(callSid: string): Promise<void> {
      const what = 'hang up the call';
      let res = await control('DELETE', 'Call', callSid, what);
      if (res.status === 404) res = await control('DELETE', 'Request', callSid, 'cancel the call');
      if (isOk(res.status) || res.status === 404) return;
      throw controlFailed('Plivo', what, res.status, describePlivoError(res.text));
    },

    /** Transfers the call's A leg to `url` (POST). A call Plivo does not know (404): 410. */
    async redirect(callSid: string, url: string): Promise<void> {
      const what = 'redirect the call';
      const res = await control('POST', 'Call', callSid, what, { legs: 'aleg', aleg_url: url, aleg_method: 'POST' });
      if (isOk(res.status)) return;
      if (res.status === 404) throw callGone('Plivo');
      throw controlFailed('Plivo', what, res.status, describePlivoError(res.text));
    },

    async placeCall(req: PlaceCallRequest): Promise<PlacedCall> {
      const authId = requireSetting(config.PLIVO_AUTH_ID, 'PLIVO_AUTH_ID');
      const authToken = requireSetting(config.PLIVO_AUTH_TOKEN, 'PLIVO_AUTH_TOKEN');
      const from = req.from || config.PLIVO_FROM;
      if (!from) throw badRequest('from is required: set PLIVO_FROM or pass "from"');

      const body = {
        from: plivoAddress(from, 'from'),
        to: plivoAddress(req.to, 'to'),
        answer_url: req.voiceUrl,
        answer_method: 'POST',
        hangup_url: req.statusCallbackUrl,
        hangup_method: 'POST',
      };
      const base = config.PLIVO_API_BASE.replace(/\/+$/, '');
      const url = `${base}/v1/Account/${encodeURIComponent(authId)}/Call/`;

      const json = await placeCallRequest({
        provider: 'Plivo',
        fetchFn,
        url,
        headers: { Authorization: basicAuth(authId, authToken), 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        rejected: [400],
        describe: describePlivoError,
      });
      const fired = CallFired.safeParse(json);
      if (!fired.success) throw badGateway('Plivo answered the call request without a valid request_uuid');
      return { callSid: fired.data.request_uuid };
    },
  };
}
