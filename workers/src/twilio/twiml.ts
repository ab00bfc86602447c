import { serverMisconfigured } from '../errors.ts';

/**
 * TwiML documents for the voice webhook, built as strings (no twilio package in the Worker).
 * Every attribute and text value is escaped, so caller-controlled text cannot change the markup.
 */

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

/**
 * Characters XML 1.0 cannot carry at all, not even as character references: C0 controls other
 * than tab, newline and carriage return, lone surrogates, U+FFFE and U+FFFF. They are dropped.
 */
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Escapes text content: `&` and `<` (and `>` for `]]>`); `\r` as a reference so parsers keep it. */
export function escapeXmlText(s: string): string {
  return s
    .replace(NOT_XML, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\r/g, '&#13;');
}

/**
 * Escapes a double-quoted attribute value: quotes too, and tab/newline/CR as references because
 * attribute-value normalisation would otherwise turn them into spaces.
 */
export function escapeXmlAttr(s: string): string {
  return escapeXmlText(s)
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;');
}

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

/**
 * The Media Stream URL for an edge at `publicBaseUrl`: `https` becomes `wss`, `http` becomes `ws`,
 * the path is `/twilio/media` under the base's path, and there is no query string or fragment
 * (Twilio signs this exact URL on the upgrade, and the upgrade route recomputes it the same way).
 */
export function streamUrlFromBase(publicBaseUrl: string): string {
  let url: URL;
  try {
    url = new URL(publicBaseUrl);
  } catch {
    throw serverMisconfigured('PUBLIC_BASE_URL is not a valid URL');
  }
  const scheme = url.protocol === 'https:' ? 'wss:' : url.protocol === 'http:' ? 'ws:' : null;
  if (!scheme) throw serverMisconfigured('PUBLIC_BASE_URL must be an http:// or https:// URL');
  const path = url.pathname.replace(/\/+$/, '');
  return `${scheme}//${url.host}${path}/twilio/media`;
}
