import { Hono } from 'hono';
import { TokenRequest } from '@switchboard/protocol';
import { requireApiKey } from '../auth/guards.ts';
import { DEFAULT_CLIENT_TOKEN_TTL_MS, mintClientToken } from '../auth/client-token.ts';
import { loadConfig, requireSetting } from '../config.ts';
import type { Env } from '../env.ts';
import { badRequest } from '../errors.ts';
import { readJson } from '../http/body.ts';
import { limitApiKey } from '../http/rate-limit.ts';

/** Server-side: mints a short-lived client token for a browser. */
export const tokens = new Hono<{ Bindings: Env }>().post('/v1/tokens', async (c) => {
  const config = loadConfig(c.env);
  const caller = await requireApiKey(c, config);
  await limitApiKey(c, 'tokens', caller);
  const parsed = TokenRequest.safeParse((await readJson(c)) ?? {});
  if (!parsed.success) throw badRequest(`invalid token request: ${parsed.error.issues[0]?.message ?? ''}`);
  const minted = await mintClientToken(
    requireSetting(config.TOKEN_SECRET, 'TOKEN_SECRET'),
    parsed.data.identity,
    parsed.data.ttlMs ?? DEFAULT_CLIENT_TOKEN_TTL_MS,
  );
  return c.json(minted, 201);
});
