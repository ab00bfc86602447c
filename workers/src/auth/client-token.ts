import { sign, verify } from 'hono/jwt';
import { z } from 'zod';

/** Short-lived client tokens: HS256 JWTs signed with TOKEN_SECRET. Lifetimes in ms. */
export const DEFAULT_CLIENT_TOKEN_TTL_MS = 600_000;

/** Subjects of tokens minted without an identity: unique per token, so no two anonymous clients share sessions. */
export const ANONYMOUS_SUBJECT_PREFIX = 'anon:';

/** The claims the edge reads from a verified client token. */
const ClientClaims = z.object({ sub: z.string().min(1).max(256) });

export async function mintClientToken(
  secret: string,
  identity: string | undefined,
  ttlMs: number,
  now = Date.now(),
): Promise<{ token: string; expiresAt: number }> {
  const expiresAt = now + ttlMs;
  const sub = identity ?? `${ANONYMOUS_SUBJECT_PREFIX}${crypto.randomUUID()}`;
  const token = await sign(
    { sub, iat: Math.floor(now / 1000), exp: Math.floor(expiresAt / 1000), jti: crypto.randomUUID() },
    secret,
    'HS256',
  );
  return { token, expiresAt: Math.floor(expiresAt / 1000) * 1000 };
}

/**
 * The token's subject when it is a JWT signed with `secret`, not expired and carrying a `sub`;
 * null otherwise. Sessions are bound to the subject, so a refreshed token of the same client
 * keeps control of its calls.
 */
export async function verifyClientToken(secret: string, token: string): Promise<{ subject: string } | null> {
  let payload: unknown;
  try {
    payload = await verify(token, secret, 'HS256');
  } catch {
    return null;
  }
  const claims = ClientClaims.safeParse(payload);
  return claims.success ? { subject: claims.data.sub } : null;
}
