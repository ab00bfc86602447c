import { Hono } from 'hono';
import { callerKey, requireClient } from '../auth/guards.ts';
import { loadConfig } from '../config.ts';
import type { Env } from '../env.ts';
import { HttpError } from '../errors.ts';
import { limitCreation } from '../http/rate-limit.ts';
import { acquireSessionSlot, releaseSessionSlot } from '../session/client-stub.ts';
import { newWebRtcSessionId, sessionStub, unwrap } from '../session/stub.ts';
import { recordQuery } from './sessions.ts';

/**
 * WebSocket audio clients (docs/stream-protocol.md): same auth and per-client limit as WHIP; the
 * session is created and queued, and the client's socket terminates in the session's Durable
 * Object, which relays it to the claiming worker's media socket like a phone provider's stream.
 */
export const stream = new Hono<{ Bindings: Env }>().get('/v1/stream', async (c) => {
  if (c.req.header('Upgrade')?.toLowerCase() !== 'websocket') throw new HttpError(426, 'upgrade_required', 'GET /v1/stream must be a WebSocket upgrade');
  const config = loadConfig(c.env);
  const caller = await requireClient(c, config);
  await limitCreation(c, 'sessions');
  const id = newWebRtcSessionId();
  const clientKey = callerKey(caller);
  const endsAt = Date.now() + config.SESSION_TIME_LIMIT_MS;
  await acquireSessionSlot(c.env, clientKey, id, endsAt, config.MAX_SESSIONS_PER_CLIENT);
  const stub = sessionStub(c.env, id);
  try {
    unwrap(await stub.startStream({ id, caller, clientKey, endsAt, record: recordQuery(c.req.query('record')) }));
  } catch (err) {
    await releaseSessionSlot(c.env, clientKey, id);
    throw err;
  }
  return stub.fetch(new Request('https://session/peer', { headers: { Upgrade: 'websocket', 'X-Peer-Kind': 'stream' } }));
});
