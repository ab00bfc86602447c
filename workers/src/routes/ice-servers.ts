import { Hono } from 'hono';
import type { IceServersResponse } from '@switchboard/protocol';
import { requireClient } from '../auth/guards.ts';
import { loadConfig } from '../config.ts';
import type { Env } from '../env.ts';
import { limitIceServers } from '../http/rate-limit.ts';
import { mintIceServers } from '../turn/mint.ts';

/** TURN credentials minted per request by the configured provider, limited per caller. */
export const iceServers = new Hono<{ Bindings: Env }>().get('/v1/ice-servers', async (c) => {
  const config = loadConfig(c.env);
  const caller = await requireClient(c, config);
  await limitIceServers(c, caller);
  const minted = await mintIceServers(config, `client:${crypto.randomUUID()}`);
  const body: IceServersResponse = { iceServers: minted.iceServers, expiresAt: minted.expiresAt };
  return c.json(body, 200, { 'Cache-Control': 'no-store' });
});
