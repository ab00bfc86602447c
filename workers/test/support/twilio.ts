import { SELF } from 'cloudflare:test';
import { computeTwilioSignature } from '../../src/twilio/signature.ts';

export const AUTH_TOKEN = 'test-twilio-auth-token';
export const BASE = 'http://127.0.0.1:8787';

export function callSid(): string {
  return 'CA' + [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The fields Twilio posts to a voice webhook (a realistic subset). */
export function voiceForm(sid: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    AccountSid: 'AC00000000000000000000000000000000',
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

/** Opens the media WebSocket as Twilio does: GET upgrade signed over the exact stream URL. */
export async function openMediaStream(opts: { token?: string } = {}) {
  const signature = await computeTwilioSignature(opts.token ?? AUTH_TOKEN, 'ws://127.0.0.1:8787/twilio/media', {});
  return SELF.fetch('http://edge.test/twilio/media', { headers: { Upgrade: 'websocket', 'X-Twilio-Signature': signature } });
}
