import { dialTimeout } from '../dial.ts';
import type { CallMarkup, DialArgs } from '../provider.ts';
import { escapeXmlAttr, escapeXmlText, XML_DECLARATION } from '../xml.ts';
import { dialOutcome } from './params.ts';

/**
 * TeXML documents for the voice webhook, built as strings. Every attribute and text value is
 * escaped, so caller-controlled text cannot change the markup.
 *
 * The stream is `<Connect><Stream>`: TeXML's `<Connect>` runs its noun synchronously, so the call
 * stays up while the stream runs and the instructions after `</Connect>` run once it stops
 * (`<Start><Stream>` would continue at once and need a long `<Pause>` to hold the call).
 * `<Connect>` documents no `action` attribute, so the action URL is a `<Redirect method="POST">`
 * after it: the same "request this URL when the stream ends" that Twilio's `<Connect action>` gives.
 *
 * `bidirectionalMode="rtp"` makes the stream two-way (the default, `mp3`, only plays files sent
 * back). The stream asks for wideband both ways: L16 at 16 kHz (Telnyx's media streaming lists
 * L16 among its codecs; `bidirectionalSamplingRate` sets the rate of the audio sent back). Where
 * Telnyx does not offer it, the stream's `start` names what it sends instead (PCMU at 8 kHz), and
 * the worker answers in that format: it takes either. The track is the caller's (`inbound_track`).
 */

/** Codec of the stream in both directions (`codec`, `bidirectionalCodec`). */
export const TELNYX_STREAM_CODEC = 'L16';
/** Rate of the audio sent back (`bidirectionalSamplingRate`). */
export const TELNYX_STREAM_RATE = 16000;
/** Seconds a hold pauses before requesting the webhook again (TeXML allows 1 to 180). */
export const HOLD_PAUSE_S = 1;

const response = (inner: string) => `${XML_DECLARATION}<Response>${inner}</Response>`;

function connect(args: { streamUrl: string; parameters: Record<string, string>; action: string }): string {
  const params = Object.entries(args.parameters)
    .map(([name, value]) => `<Parameter name="${escapeXmlAttr(name)}" value="${escapeXmlAttr(value)}"/>`)
    .join('');
  const stream =
    `<Stream url="${escapeXmlAttr(args.streamUrl)}" track="inbound_track" codec="${TELNYX_STREAM_CODEC}" ` +
    `bidirectionalMode="rtp" bidirectionalCodec="${TELNYX_STREAM_CODEC}" bidirectionalSamplingRate="${TELNYX_STREAM_RATE}">${params}</Stream>`;
  const after = args.action ? `<Redirect method="POST">${escapeXmlText(args.action)}</Redirect>` : '';
  return response(`<Connect>${stream}</Connect>${after}`);
}

/** Says the message (none when empty), pauses, then POSTs the webhook again. */
function hold(args: { message: string; redirectUrl: string }): string {
  const say = args.message ? `<Say>${escapeXmlText(args.message)}</Say>` : '';
  return response(`${say}<Pause length="${HOLD_PAUSE_S}"/><Redirect method="POST">${escapeXmlText(args.redirectUrl)}</Redirect>`);
}

/** Ends the call without a word. */
function hangup(): string {
  return response('<Hangup/>');
}

/** Says the message, then hangs up. */
function goodbye(message: string): string {
  return response(`<Say>${escapeXmlText(message)}</Say><Hangup/>`);
}

/** TeXML's documented range for `<Dial timeout>`, in seconds. */
export const DIAL_TIMEOUT_MIN_S = 5;
export const DIAL_TIMEOUT_MAX_S = 120;

/**
 * Says the message (none when empty), then `<Dial>`s one `<Number>`; when the dialled call ends,
 * Telnyx requests `action` (POST) with `DialCallStatus` and runs the TeXML it answers. TeXML wants
 * `callerId` in E.164.
 */
function dial(args: DialArgs): string {
  const say = args.message ? `<Say>${escapeXmlText(args.message)}</Say>` : '';
  const timeout = dialTimeout(args.timeoutS, DIAL_TIMEOUT_MIN_S, DIAL_TIMEOUT_MAX_S);
  const callerId = args.callerId ? ` callerId="${escapeXmlAttr(args.callerId)}"` : '';
  return response(
    `${say}<Dial action="${escapeXmlAttr(args.action)}" method="POST" timeout="${timeout}"${callerId}><Number>${escapeXmlText(args.to)}</Number></Dial>`,
  );
}

export const texmlMarkup: CallMarkup = { contentType: 'text/xml', connect, hold, hangup, goodbye, dial, dialOutcome };
