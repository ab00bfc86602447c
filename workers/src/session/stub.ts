import { SessionId, type PhoneProvider } from '@switchboard/protocol';
import type { Env } from '../env.ts';
import { HttpError, notFound } from '../errors.ts';
import type { Failure } from './results.ts';

/** The session's Durable Object; ids that are not session ids are unknown sessions (404). */
export function sessionStub(env: Env, id: string) {
  if (!SessionId.safeParse(id).success) throw notFound('no such session');
  return env.CALL_SESSION.get(env.CALL_SESSION.idFromName(id));
}

/** Turns an RPC failure into the edge's error family. */
export function unwrap<R extends { ok: true } | Failure>(r: R): Exclude<R, Failure> {
  if (r.ok) return r as Exclude<R, Failure>;
  const f = r as Failure;
  const headers: Record<string, string> = f.status === 503 ? { 'Retry-After': '5' } : {};
  throw new HttpError(f.status, f.code, f.message, headers);
}

/** `s_` + 32 random hex digits (WebRTC and stream sessions). */
export function newWebRtcSessionId(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return 's_' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/**
 * Phone sessions are keyed by the provider's call id, so its webhook retries land on the same
 * session: `c_` + a Twilio CallSid; `c_tx_` / `c_pv_` + 32 hex digits of the SHA-256 of a Telnyx or
 * Plivo call id (their ids have no fixed shape).
 */
export async function phoneSessionId(provider: PhoneProvider, callSid: string): Promise<string> {
  if (provider === 'twilio') return `c_${callSid}`;
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(callSid)));
  const hex = Array.from(digest.subarray(0, 16), (x) => x.toString(16).padStart(2, '0')).join('');
  return `c_${provider === 'telnyx' ? 'tx' : 'pv'}_${hex}`;
}
