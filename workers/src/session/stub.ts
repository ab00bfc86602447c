import { SessionId } from '@switchboard/protocol';
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

/** `s_` + 32 random hex digits. */
export function newWebRtcSessionId(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return 's_' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** Phone sessions are keyed by CallSid, so Twilio's webhook retries land on the same session. */
export const phoneSessionId = (callSid: string) => `c_${callSid}`;
