import type { Context } from 'hono';
import type { Config } from '../config.ts';
import { requireSetting } from '../config.ts';
import { unauthorized } from '../errors.ts';
import { verifyClientToken } from './client-token.ts';
import { constantTimeEqual, sha256Hex } from './digest.ts';

/**
 * Who is calling a `/v1` route, as the routes and the session's Durable Object see it:
 * - `client`: a browser with a valid client token, identified by the token's subject (`sub`);
 * - `apiKey`: a server with one of API_KEYS (its digest, never the key itself);
 * - `open`: AUTH_MODE=none (local only), identified by its address for the per-client limits.
 * A plain object, so it crosses the Durable Object RPC boundary as is.
 */
export type Caller =
  | { kind: 'client'; subject: string }
  | { kind: 'apiKey'; keyDigest: string }
  | { kind: 'open'; ip: string };

/**
 * The bearer credential: `Authorization: Bearer <x>`, or, on a WebSocket upgrade only (browsers
 * cannot set headers on one), the `access_token` query parameter.
 */
function bearer(c: Context): string | null {
  const h = c.req.header('Authorization');
  const m = h ? /^Bearer\s+(\S+)$/i.exec(h) : null;
  if (m?.[1]) return m[1];
  if (c.req.header('Upgrade')?.toLowerCase() === 'websocket') return c.req.query('access_token') || null;
  return null;
}

/** The client's address: CF-Connecting-IP, else the first X-Forwarded-For hop, else 'local'. */
export function clientIp(c: Context): string {
  const ip = c.req.header('CF-Connecting-IP') ?? c.req.header('X-Forwarded-For')?.split(',')[0]?.trim();
  return ip ? ip.slice(0, 64) : 'local';
}

/** The digest of `key` when it is one of API_KEYS (every key compared, in constant time each). */
async function matchApiKey(config: Config, key: string): Promise<string | null> {
  let match = false;
  for (const k of config.API_KEYS) if (await constantTimeEqual(k, key)) match = true;
  return match ? sha256Hex(key) : null;
}

/**
 * Browser-facing `/v1` routes. With AUTH_MODE=token they need a valid client token or one of
 * API_KEYS (servers may read and end any session, phone sessions included); AUTH_MODE=none lets
 * anyone in, keyed by address.
 */
export async function requireClient(c: Context, config: Config): Promise<Caller> {
  if (config.AUTH_MODE === 'none') return { kind: 'open', ip: clientIp(c) };
  const token = bearer(c);
  if (!token) throw unauthorized('missing Authorization: Bearer <client token>');
  const keyDigest = await matchApiKey(config, token);
  if (keyDigest) return { kind: 'apiKey', keyDigest };
  const verified = await verifyClientToken(requireSetting(config.TOKEN_SECRET, 'TOKEN_SECRET'), token);
  if (!verified) throw unauthorized('client token is invalid or expired');
  return { kind: 'client', subject: verified.subject };
}

/** Server routes (`/v1/tokens`, `/v1/calls`): with AUTH_MODE=token they need one of API_KEYS. */
export async function requireApiKey(c: Context, config: Config): Promise<Extract<Caller, { kind: 'apiKey' | 'open' }>> {
  if (config.AUTH_MODE === 'none') return { kind: 'open', ip: clientIp(c) };
  const key = bearer(c);
  if (!key) throw unauthorized('missing Authorization: Bearer <API key>');
  const keyDigest = await matchApiKey(config, key);
  if (!keyDigest) throw unauthorized('API key is not valid');
  return { kind: 'apiKey', keyDigest };
}

/**
 * The key per-client limits count under: the token subject, the API key's digest, or the address.
 * Bounded in length (a subject is at most 256 characters).
 */
export function callerKey(caller: Caller): string {
  switch (caller.kind) {
    case 'client':
      return `sub:${caller.subject}`;
    case 'apiKey':
      return `key:${caller.keyDigest}`;
    case 'open':
      return `ip:${caller.ip}`;
  }
}

/** Whether the caller may see what the platform says about itself (worker ids, free-text detail). */
export const seesInternals = (caller: Caller): boolean => caller.kind !== 'client';
