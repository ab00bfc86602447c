import { mintControlToken, verifyControlToken } from '@switchboard/protocol';

/**
 * The media token a provider's stream presents (in the stream URL's path, or Twilio's `<Parameter
 * name="token">`): `<nonce>.<expiresAt>.<mac>`, a control-token-format HMAC over
 * `media:<sessionId>:<nonce>`, so a media token can never be used as a worker's control token and
 * vice versa. The HMAC lets the upgrade's route refuse a forgery without waking the session; the
 * nonce makes the token single-use: the session records the nonce of the one token it last minted
 * and accepts a stream only with that nonce, once.
 */
export const mediaTokenSubject = (sessionId: string, nonce: string) => `media:${sessionId}:${nonce}`;

/** Subject of the claiming worker's resume token (re-dialing the control WebSocket). */
export const resumeTokenSubject = (sessionId: string) => `resume:${sessionId}`;

/** 16 random bytes, base64url: 22 characters. */
const NONCE = /^[A-Za-z0-9_-]{22}$/;

function newNonce(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...b)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** A fresh media token for the session and the nonce the session must record. */
export async function mintMediaToken(secret: string, sessionId: string, expiresAt: number): Promise<{ token: string; nonce: string }> {
  const nonce = newNonce();
  const token = `${nonce}.${await mintControlToken(secret, mediaTokenSubject(sessionId, nonce), expiresAt)}`;
  return { token, nonce };
}

export type MediaTokenCheck = { ok: true; nonce: string } | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' };

/** Checks the token's HMAC and expiry; whether its nonce is still unused is the session's to say. */
export async function verifyMediaToken(secret: string, sessionId: string, token: string, now: number): Promise<MediaTokenCheck> {
  const dot = token.indexOf('.');
  const nonce = token.slice(0, dot);
  if (dot < 0 || !NONCE.test(nonce)) return { ok: false, reason: 'malformed' };
  const check = await verifyControlToken(secret, mediaTokenSubject(sessionId, nonce), token.slice(dot + 1), now);
  return check.ok ? { ok: true, nonce } : check;
}
