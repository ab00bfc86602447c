import { SELF } from 'cloudflare:test';
import { computeTwilioSignature } from '../../src/telephony/twilio/signature.ts';
import { socketOf, type Socket } from './media.ts';

export const AUTH_TOKEN = 'test-twilio-auth-token';
export const BASE = 'http://127.0.0.1:8787';
export const ACCOUNT = 'AC00000000000000000000000000000000';

export function callSid(): string {
  return 'CA' + [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The fields Twilio posts to a voice webhook (a realistic subset). */
export function voiceForm(sid: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    AccountSid: ACCOUNT,
    ApiVersion: '2010-04-01',
    CallSid: sid,
    CallStatus: 'ringing',
    Called: '+15550001111',
    Caller: '+15557654321',
    Direction: 'inbound',
    From: '+15557654321',
    To: '+15550001111',
    ...extra,
  };
}

/** POSTs a form to `path` signed as Twilio signs it (over PUBLIC_BASE_URL + path). */
export async function postSigned(path: string, form: Record<string, string>, opts: { token?: string; tamper?: boolean } = {}) {
  const signature = await computeTwilioSignature(opts.token ?? AUTH_TOKEN, BASE + path, form);
  const body = new URLSearchParams(opts.tamper ? { ...form, From: '+10000000000' } : form).toString();
  return SELF.fetch(`http://edge.test${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': signature },
    body,
  });
}

/**
 * Opens the session's media WebSocket as Twilio does: a GET upgrade of `/twilio/media/<id>`,
 * signed over that exact stream URL as the TwiML gave it (`ws://127.0.0.1:8787/...`). `signedUrl`
 * signs another URL instead (a forgery).
 */
export async function openMediaStream(sessionId: string, opts: { token?: string; signedUrl?: string } = {}) {
  const signature = await computeTwilioSignature(opts.token ?? AUTH_TOKEN, opts.signedUrl ?? `ws://127.0.0.1:8787/twilio/media/${sessionId}`, {});
  return SELF.fetch(`http://edge.test/twilio/media/${sessionId}`, { headers: { Upgrade: 'websocket', 'X-Twilio-Signature': signature } });
}

/** Twilio's side of one media stream (accepted: throws unless the edge answered 101). */
export async function twilioStream(sessionId: string): Promise<Socket> {
  const s = await socketOf(await openMediaStream(sessionId));
  if (s.status !== 101) throw new Error(`media stream upgrade: ${s.status} ${s.body}`);
  return s;
}

/** A `<Parameter>` of a TwiML document. */
export const twimlParam = (xml: string, name: string) => new RegExp(`<Parameter name="${name}" value="([^"]+)"`).exec(xml)?.[1];

export const streamSid = (digit: string) => 'MZ' + digit.repeat(32);

export const MULAW = { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 };

/** Twilio's `start` for `sid`'s stream, carrying the TwiML's parameters (or another `token`). */
export function twilioStart(o: { sid: string; stream: string; twiml: string; mediaFormat?: object; token?: string }): string {
  return JSON.stringify({
    event: 'start',
    sequenceNumber: '1',
    streamSid: o.stream,
    start: {
      accountSid: ACCOUNT,
      streamSid: o.stream,
      callSid: o.sid,
      tracks: ['inbound'],
      customParameters: { sessionId: twimlParam(o.twiml, 'sessionId'), token: o.token ?? twimlParam(o.twiml, 'token') },
      mediaFormat: o.mediaFormat ?? MULAW,
    },
  });
}

export const twilioConnected = JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' });

/** A `media` frame of `stream` (sequence `seq`). */
export const twilioMedia = (stream: string, seq: number, payload = '/////w==') =>
  JSON.stringify({ event: 'media', sequenceNumber: String(seq), streamSid: stream, media: { track: 'inbound', chunk: String(seq - 1), timestamp: String(20 * seq), payload } });
