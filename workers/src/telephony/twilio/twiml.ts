import { dialTimeout } from '../dial.ts';
import type { CallMarkup, DialArgs } from '../provider.ts';
import { wsBaseUrl } from '../ws-base-url.ts';
import { escapeXmlAttr, escapeXmlText, XML_DECLARATION } from '../xml.ts';
import { dialOutcome } from './params.ts';

/**
 * TwiML documents for the voice webhook, built as strings (no twilio package in the Worker).
 * Every attribute and text value is escaped, so caller-controlled text cannot change the markup.
 */

const response = (inner: string) => `${XML_DECLARATION}<Response>${inner}</Response>`;

/**
 * Connects the call to a bidirectional Media Stream. Twilio passes each `<Parameter>` to the
 * stream's `start` message as `customParameters`; the URL itself must stay query-free because
 * Twilio signs it exactly on the WebSocket upgrade.
 */
export function connectStream(opts: { streamUrl: string; parameters: Record<string, string>; action?: string }): string {
  const params = Object.entries(opts.parameters)
    .map(([name, value]) => `<Parameter name="${escapeXmlAttr(name)}" value="${escapeXmlAttr(value)}"/>`)
    .join('');
  // With `action`, Twilio POSTs that URL when the stream ends and runs the TwiML it answers;
  // without it, the call ends with the stream.
  const connect = opts.action ? `<Connect action="${escapeXmlAttr(opts.action)}" method="POST">` : '<Connect>';
  return response(`${connect}<Stream url="${escapeXmlAttr(opts.streamUrl)}">${params}</Stream></Connect>`);
}

/**
 * Keeps the caller waiting: says the message (none when empty), pauses a second, then POSTs the
 * webhook again.
 */
export function holdAndRedirect(opts: { message: string; redirectUrl: string }): string {
  const say = opts.message ? `<Say>${escapeXmlText(opts.message)}</Say>` : '';
  return response(`${say}<Pause length="1"/><Redirect method="POST">${escapeXmlText(opts.redirectUrl)}</Redirect>`);
}

/** Ends the call without a word (the session has ended after it ran). */
export function hangup(): string {
  return response('<Hangup/>');
}

/** Ends the call politely: says the message, then hangs up. */
export function goodbye(message: string): string {
  return response(`<Say>${escapeXmlText(message)}</Say><Hangup/>`);
}

/** Twilio's documented range for `<Dial timeout>`, in seconds. */
export const DIAL_TIMEOUT_MIN_S = 5;
export const DIAL_TIMEOUT_MAX_S = 600;

/**
 * Says the message (none when empty), then `<Dial>`s one `<Number>`. When the dialled call ends
 * (or is busy, unanswered, fails), Twilio POSTs `action` with `DialCallStatus` and runs the TwiML
 * it answers; the rest of this document is never reached.
 */
export function dial(args: DialArgs): string {
  const say = args.message ? `<Say>${escapeXmlText(args.message)}</Say>` : '';
  const timeout = dialTimeout(args.timeoutS, DIAL_TIMEOUT_MIN_S, DIAL_TIMEOUT_MAX_S);
  const callerId = args.callerId ? ` callerId="${escapeXmlAttr(args.callerId)}"` : '';
  return response(
    `${say}<Dial action="${escapeXmlAttr(args.action)}" method="POST" timeout="${timeout}"${callerId}><Number>${escapeXmlText(args.to)}</Number></Dial>`,
  );
}

/** TwiML as the voice flow's CallMarkup. */
export const twiml: CallMarkup = {
  contentType: 'text/xml',
  connect: (a) => connectStream(a),
  hold: (a) => holdAndRedirect(a),
  hangup,
  goodbye,
  dial,
  dialOutcome,
};

/** Twilio's stream URL prefix for an edge at `publicBaseUrl`: `wss://EDGE/twilio/media` (see wsBaseUrl). */
export function streamUrlFromBase(publicBaseUrl: string): string {
  return `${wsBaseUrl(publicBaseUrl)}/twilio/media`;
}
