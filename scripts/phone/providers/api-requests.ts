import type { ApiRequest } from '../api-log.ts';
import type { Provider } from './types.ts';

/**
 * What a provider does with the REST requests the edge sends it, from each provider's documented
 * call resources, read from the fake API's log (api-log.ts):
 *
 * Twilio  create    POST   /2010-04-01/Accounts/{AccountSid}/Calls.json              Url, Method, StatusCallback, To, From
 *         update    POST   /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json    Status=completed (hang up) or Url [Method] (redirect);
 *                                                                                   Status=canceled leaves an answered call alone
 * Telnyx  create    POST   /v2/texml/Accounts/{account_sid}/Calls                    Url (or VoiceUrl), Method, StatusCallback, To, From
 *                   POST   /v2/texml/calls/{application_id}                          the same
 *         update    POST   /v2/texml/Accounts/{account_sid}/Calls/{call_sid}         Status=completed|canceled or Url [Method]
 *                   POST   /v2/texml/calls/{call_sid}/update                         the same (deprecated, JSON)
 * Plivo   create    POST   /v1/Account/{auth_id}/Call/                               answer_url, answer_method, hangup_url, to, from
 *         hang up   DELETE /v1/Account/{auth_id}/Call/{call_uuid}/
 *                   DELETE /v1/Account/{auth_id}/Request/{request_uuid}/              (a call not answered yet)
 *         transfer  POST   /v1/Account/{auth_id}/Call/{call_uuid}/                   legs=aleg|both, aleg_url, aleg_method
 */
export type CallCommand = { kind: 'hangup' } | { kind: 'redirect'; url: string; method: 'GET' | 'POST' } | { kind: 'unsupported'; what: string };

/** The call a request addresses: its CallSid / CallUUID (and Plivo's request uuid). */
export interface CallIds {
  callSid: string;
  requestUuid?: string;
}

const segment = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};
const methodOf = (m: string | undefined): 'GET' | 'POST' => (m?.toUpperCase() === 'GET' ? 'GET' : 'POST');
/**
 * A Twilio / TeXML call update: Status (hang up) wins over Url (redirect), as Twilio documents.
 * Twilio's `canceled` only ends a call that is not in progress yet (a simulated call is answered).
 */
function callUpdate(r: ApiRequest, hangup: ReadonlySet<string>): CallCommand {
  const f = r.fields;
  if (f.Status !== undefined) return hangup.has(f.Status) ? { kind: 'hangup' } : { kind: 'unsupported', what: `Status=${f.Status} on an answered call` };
  if (f.Url) return { kind: 'redirect', url: f.Url, method: methodOf(f.Method) };
  return { kind: 'unsupported', what: `call update with ${Object.keys(f).join(', ') || 'no fields'}` };
}

const TWILIO_HANGUP: ReadonlySet<string> = new Set(['completed']);
const TELNYX_HANGUP: ReadonlySet<string> = new Set(['completed', 'canceled']);

/** What `r` asks the provider to do with the call `ids`, or null when it is about another call or nothing this simulator plays. */
export function callCommand(provider: Provider, r: ApiRequest, ids: CallIds): CallCommand | null {
  if (provider === 'twilio') {
    const m = /^\/2010-04-01\/Accounts\/[^/]+\/Calls\/([^/]+?)(?:\.json)?$/.exec(r.path);
    return m && r.method === 'POST' && segment(m[1]!) === ids.callSid ? callUpdate(r, TWILIO_HANGUP) : null;
  }
  if (provider === 'telnyx') {
    const m = /^\/v2\/texml\/Accounts\/[^/]+\/Calls\/([^/]+?)(?:\.json)?$/i.exec(r.path) ?? /^\/v2\/texml\/calls\/([^/]+)\/update$/.exec(r.path);
    return m && r.method === 'POST' && segment(m[1]!) === ids.callSid ? callUpdate(r, TELNYX_HANGUP) : null;
  }
  const call = /^\/v1\/Account\/[^/]+\/Call\/([^/]+)\/?$/.exec(r.path);
  const request = /^\/v1\/Account\/[^/]+\/Request\/([^/]+)\/?$/.exec(r.path);
  if (request && r.method === 'DELETE' && ids.requestUuid !== undefined && segment(request[1]!) === ids.requestUuid) return { kind: 'hangup' };
  if (!call || segment(call[1]!) !== ids.callSid) return null;
  if (r.method === 'DELETE') return { kind: 'hangup' };
  if (r.method !== 'POST') return null;
  const { legs, aleg_url: url, aleg_method: method } = r.fields;
  if ((legs === 'aleg' || legs === 'both') && url) return { kind: 'redirect', url, method: methodOf(method) };
  return { kind: 'unsupported', what: `transfer with legs=${legs ?? '(none)'}${url ? '' : ' and no aleg_url'}` };
}

/** A call the edge asked the provider to place. */
export interface PlacedCall {
  /** Where the callee's first instruction request goes, and how. */
  url: string;
  method: 'GET' | 'POST';
  statusCallbackUrl?: string;
  from?: string;
  to?: string;
  /**
   * The id the provider answered with (Twilio / Telnyx call sid, Plivo request_uuid), when the
   * fake logs its answer (`response`); the current fakes do not.
   */
  id?: string;
}

/** The id in a logged answer, under the names the providers answer with. */
function answeredId(entry: Record<string, unknown>): string | undefined {
  const res = entry.response ?? entry.answer;
  if (typeof res !== 'object' || res === null) return undefined;
  const o = res as Record<string, unknown>;
  const data = typeof o.data === 'object' && o.data !== null ? (o.data as Record<string, unknown>) : {};
  for (const v of [o.sid, o.call_sid, o.request_uuid, data.call_sid, data.sid]) if (typeof v === 'string' && v) return v;
  return undefined;
}

/** The call `r` places, or null when it is no call creation. */
export function placedCall(provider: Provider, r: ApiRequest): PlacedCall | null {
  if (r.method !== 'POST') return null;
  const f = r.fields;
  const id = answeredId(r.entry);
  const common = (url: string | undefined, method: string | undefined, statusCallbackUrl: string | undefined, from?: string, to?: string): PlacedCall | null =>
    url ? { url, method: methodOf(method), ...(statusCallbackUrl ? { statusCallbackUrl } : {}), ...(from ? { from } : {}), ...(to ? { to } : {}), ...(id ? { id } : {}) } : null;
  if (provider === 'twilio') {
    return /^\/2010-04-01\/Accounts\/[^/]+\/Calls(?:\.json)?$/.test(r.path) ? common(f.Url, f.Method, f.StatusCallback, f.From, f.To) : null;
  }
  if (provider === 'telnyx') {
    const texml = /^\/v2\/texml\/Accounts\/[^/]+\/Calls$/i.test(r.path) || /^\/v2\/texml\/calls\/[^/]+$/.test(r.path);
    return texml ? common(f.Url ?? f.VoiceUrl, f.Method ?? f.UrlMethod, f.StatusCallback, f.From, f.To) : null;
  }
  return /^\/v1\/Account\/[^/]+\/Call\/?$/.test(r.path) ? common(f.answer_url, f.answer_method, f.hangup_url, f.from, f.to) : null;
}

/**
 * The fakes' own `POST /__calls` body (not part of any provider's API) that declares a call they
 * did not place, so that the edge's hang-ups and redirects of it are answered as for a live call.
 */
export function declareCallBody(provider: Provider, ids: CallIds, from: string, to: string): Record<string, string> {
  if (provider === 'plivo') return { call_uuid: ids.callSid, ...(ids.requestUuid ? { request_uuid: ids.requestUuid } : {}) };
  return { CallSid: ids.callSid, From: from, To: to, ...(provider === 'twilio' ? { Status: 'in-progress' } : {}) };
}
