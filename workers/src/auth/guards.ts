import type { Context } from 'hono';
import type { Config } from '../config.ts';
import { requireSetting } from '../config.ts';
import { unauthorized } from '../errors.ts';
import { verifyClientToken } from './client-token.ts';
import { constantTimeEqual, sha256Hex } from './digest.ts';

function bearer(c: Context): string | null {
  const h = c.req.header('Authorization');
  const m = h ? /^Bearer\s+(\S+)$/i.exec(h) : null;
  return m?.[1] ?? null;
}

/**
 * Browser-facing `/v1` routes. With AUTH_MODE=token they need a valid client token; returns the
 * token's digest so the session can require the same token later (null with AUTH_MODE=none).
 */
export async function requireClient(c: Context, config: Config): Promise<string | null> {
  if (config.AUTH_MODE === 'none') return null;
  const token = bearer(c);
  if (!token) throw unauthorized('missing Authorization: Bearer <client token>');
  if (!(await verifyClientToken(requireSetting(config.TOKEN_SECRET, 'TOKEN_SECRET'), token)))
    throw unauthorized('client token is invalid or expired');
  return sha256Hex(token);
}

/** Server routes (`/v1/tokens`, `/v1/calls`): with AUTH_MODE=token they need one of API_KEYS. */
export async function requireApiKey(c: Context, config: Config): Promise<void> {
  if (config.AUTH_MODE === 'none') return;
  const key = bearer(c);
  if (!key) throw unauthorized('missing Authorization: Bearer <API key>');
  let match = false;
  for (const k of config.API_KEYS) if (await constantTimeEqual(k, key)) match = true;
  if (!match) throw unauthorized('API key is not valid');
}
