/**
 * Control tokens: `<expiresAt>.<base64url(HMAC-SHA256(secret, "<sessionId>.<expiresAt>"))>`.
 * Minted by the edge for each job; presented by the worker when it dials the control WebSocket.
 * Verification uses WebCrypto's `verify`, which compares in constant time (Node and workerd).
 */
const enc = new TextEncoder();

async function hmacKey(secret: string) {
  return crypto.subtle.importKey('raw', enc.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
    'verify',
  ]);
}

function toBase64Url(bytes: ArrayBuffer): string {
  let s = '';
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(s: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9_-]+$/.test(s)) return null;
  const b = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4));
  const out = new Uint8Array(b.length);
  for (let i = 0; i < b.length; i++) out[i] = b.charCodeAt(i);
  return out;
}

export async function mintControlToken(secret: string, sessionId: string, expiresAt: number): Promise<string> {
  const mac = await crypto.subtle.sign('HMAC', await hmacKey(secret), enc.encode(`${sessionId}.${expiresAt}`));
  return `${expiresAt}.${toBase64Url(mac)}`;
}

export type ControlTokenCheck = { ok: true; expiresAt: number } | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' };

/** Checks the signature first, then the expiry, so an expired forged token reads as forged. */
export async function verifyControlToken(
  secret: string,
  sessionId: string,
  token: string,
  now: number,
): Promise<ControlTokenCheck> {
  const m = /^(\d{1,16})\.([A-Za-z0-9_-]{16,128})$/.exec(token);
  if (!m) return { ok: false, reason: 'malformed' };
  const expiresAt = Number(m[1]);
  const mac = fromBase64Url(m[2]!);
  if (!mac) return { ok: false, reason: 'malformed' };
  const good = await crypto.subtle.verify('HMAC', await hmacKey(secret), mac, enc.encode(`${sessionId}.${expiresAt}`));
  if (!good) return { ok: false, reason: 'bad_signature' };
  if (now >= expiresAt) return { ok: false, reason: 'expired' };
  return { ok: true, expiresAt };
}
