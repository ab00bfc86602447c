import { dialTimeout } from '../dial.ts';
import type { CallMarkup } from '../provider.ts';
import { escapeXmlAttr, escapeXmlText, XML_DECLARATION } from '../xml.ts';
import { plivoNumber } from './address.ts';
import { dialOutcome } from './params.ts';

/**
 * Plivo XML documents for the voice webhooks, built as strings. Every attribute and text value is
 * escaped, so caller-controlled text cannot change the markup. Plivo takes the answer as
 * `text/xml` or `application/xml`.
 */

/** The media the stream carries both ways: 16-bit linear PCM at 16 kHz (Plivo's `audio/x-l16;rate=16000`). */
export const PLIVO_STREAM_CONTENT_TYPE = 'audio/x-l16;rate=16000';
/** How long a hold pauses before requesting the webhook again (`<Wait length>`, whole seconds). */
export const HOLD_WAIT_S = 1;
/**
 * The range a `<Dial timeout>` is clamped to, in seconds: Plivo documents any positive integer;
 * the upper bound is the edge's own cap on how long a dialled number may ring.
 */
export const DIAL_TIMEOUT_MIN_S = 1;
export const DIAL_TIMEOUT_MAX_S = 600;
/** Plivo's limit on the `extraHeaders` attribute. */
const MAX_EXTRA_HEADERS_BYTES = 512;
/** Plivo allows only these characters in `extraHeaders` names and values. */
const EXTRA_HEADER_TOKEN = /^[A-Za-z0-9]+$/;

const response = (inner: string) => `${XML_DECLARATION}<Response>${inner}</Response>`;

/**
 * `name=value,name=value` for the parameters Plivo can carry in `extraHeaders` (it hands them to
 * the WebSocket service as the `start` event's `extra_headers`): only names and values made of
 * A-Z, a-z and 0-9 (Plivo allows no other characters), at most 512 bytes in all. Other
 * parameters are left out; the stream URL carries what the media route needs.
 */
export function extraHeaders(parameters: Record<string, string>): string {
  let out = '';
  for (const [name, value] of Object.entries(parameters)) {
    if (!EXTRA_HEADER_TOKEN.test(name) || !EXTRA_HEADER_TOKEN.test(value)) continue;
    const next = out ? `${out},${name}=${value}` : `${name}=${value}`;
    if (next.length > MAX_EXTRA_HEADERS_BYTES) continue;
    out = next;
  }
  return out;
}

export const plivoMarkup: CallMarkup = {
  contentType: 'application/xml',

  /**
   * A bidirectional `<Stream>` with `keepCallAlive="true"`: without it Plivo runs the next element
   * (or ends the call with the document) while the stream runs. With it, the elements after the
   * stream run once the stream disconnects, so `action` becomes a `<Redirect>` there: Plivo
   * requests it and runs the XML it answers, as a Twilio `<Connect action>` does. Without
   * `action` the call ends when the stream does.
   */
  connect({ streamUrl, parameters, action }) {
    const headers = extraHeaders(parameters);
    const attrs =
      `bidirectional="true" keepCallAlive="true" contentType="${escapeXmlAttr(PLIVO_STREAM_CONTENT_TYPE)}"` +
      (headers ? ` extraHeaders="${escapeXmlAttr(headers)}"` : '');
    const after = action ? `<Redirect method="POST">${escapeXmlText(action)}</Redirect>` : '';
    return response(`<Stream ${attrs}>${escapeXmlText(streamUrl)}</Stream>${after}`);
  },

  /** Says the message (none when empty), waits, then POSTs `redirectUrl` and runs what it answers. */
  hold({ message, redirectUrl }) {
    const speak = message ? `<Speak>${escapeXmlText(message)}</Speak>` : '';
    return response(`${speak}<Wait length="${HOLD_WAIT_S}"/><Redirect method="POST">${escapeXmlText(redirectUrl)}</Redirect>`);
  },

  hangup() {
    return response('<Hangup/>');
  },

  /** An empty message says nothing (no empty `<Speak>`). */
  goodbye(message) {
    const speak = message ? `<Speak>${escapeXmlText(message)}</Speak>` : '';
    return response(`${speak}<Hangup/>`);
  },

  /**
   * Speaks the message (none when empty), then `<Dial>`s one `<Number>`; when the dialled call
   * ends, Plivo requests `action` (POST) with `DialStatus` and runs the XML it answers. The number
   * and the caller ID go without `+`, as Plivo writes numbers.
   */
  dial({ to, callerId, action, timeoutS, message }) {
    const speak = message ? `<Speak>${escapeXmlText(message)}</Speak>` : '';
    const timeout = dialTimeout(timeoutS, DIAL_TIMEOUT_MIN_S, DIAL_TIMEOUT_MAX_S);
    const caller = callerId ? ` callerId="${escapeXmlAttr(plivoNumber(callerId))}"` : '';
    return response(
      `${speak}<Dial action="${escapeXmlAttr(action)}" method="POST" timeout="${timeout}"${caller}><Number>${escapeXmlText(plivoNumber(to))}</Number></Dial>`,
    );
  },

  dialOutcome,
};
