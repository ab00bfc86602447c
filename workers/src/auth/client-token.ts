import { sign, verify } from 'hono/jwt';

/** Short-lived client tokens: HS256 JWTs signed with TOKEN_SECRET. Lifetimes in ms. */
export const DEFAULT_CLIENT_TOKEN_TTL_MS = 600_000;

export async function mintClientToken(
  secret: string,
  identity: string | undefined,
  ttlMs: number,
  now = Date.now(),
): Promise<{ token: string; expiresAt: number }> {
  const expiresAt = now + ttlMs;
  const token = await sign(
    { sub: identity ?? 'anonymous', iat: Math.floor(now / 1000), exp: Math.floor(expiresAt / 1000), jti: crypto.randomUUID() },
    secret,
    'HS256',
  );
  return { token, expiresAt: Math.floor(expiresAt / 1000) * 1000 };
}

/** True when the token is a JWT signed with `secret` and not expired. */
export async function verifyClientToken(secret: string, token: string): Promise<boolean> {
  try {
    await verify(token, secret, 'HS256');
    return true;
  } catch {
    return false;
  }
}
