import type { Context } from 'hono';
import { callerKey, clientIp, type Caller } from '../auth/guards.ts';
import type { Env } from '../env.ts';
import { rateLimited } from '../errors.ts';

/** Retry-After of a rate-limited request, in s: the bindings' period (wrangler.jsonc). */
const RETRY_AFTER_S = 60;

async function limit(limiter: RateLimit | undefined, key: string): Promise<void> {
  if (!limiter) return;
  const { success } = await limiter.limit({ key });
  if (!success) throw rateLimited(RETRY_AFTER_S);
}

/** Session creation, per client address, by the `CREATE_LIMITER` binding. */
export async function limitCreation(c: Context<{ Bindings: Env }>, route: string): Promise<void> {
  await limit(c.env.CREATE_LIMITER, `${route}:${clientIp(c)}`);
}

/** TURN credentials, per caller (token subject, API key, or address), by the `ICE_LIMITER` binding. */
export async function limitIceServers(c: Context<{ Bindings: Env }>, caller: Caller): Promise<void> {
  await limit(c.env.ICE_LIMITER, `ice:${callerKey(caller)}`);
}

/**
 * Server routes (`/v1/tokens`, `/v1/calls`), per API key (its digest: one key's traffic from many
 * servers counts together), by the `API_KEY_LIMITER` binding; per address with AUTH_MODE=none.
 */
export async function limitApiKey(c: Context<{ Bindings: Env }>, route: string, caller: Caller): Promise<void> {
  await limit(c.env.API_KEY_LIMITER, `${route}:${callerKey(caller)}`);
}
