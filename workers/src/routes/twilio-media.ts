import { Hono } from 'hono';
import { loadConfig, requireSetting } from '../config.ts';
import type { Env } from '../env.ts';
import { bridgeTwilioStream } from '../twilio/media-bridge.ts';
import { streamUrlFromBase } from '../twilio/twiml.ts';
import { signingKeys, verifyTwilioRequest } from '../twilio/verify-request.ts';

/**
 * Twilio's Media Stream WebSocket: signature checked on the upgrade (the bare stream URL, no
 * params; auth token or a webhook rule's shared key), then bridged to the session.
 */
export const twilioMedia = new Hono<{ Bindings: Env }>().get('/twilio/media', async (c) => {
  if (c.req.header('Upgrade')?.toLowerCase() !== 'websocket') return c.text('Expected a WebSocket upgrade', 426);
  const config = loadConfig(c.env);
  const keys = signingKeys(requireSetting(config.TWILIO_AUTH_TOKEN, 'TWILIO_AUTH_TOKEN'), config.TWILIO_SHARED_KEY_SECRETS);
  const verdict = await verifyTwilioRequest(keys, c.req.raw.headers, streamUrlFromBase(config.PUBLIC_BASE_URL), { params: {} });
  if (!verdict.ok) return c.text('Forbidden: invalid Twilio signature', 403);
  const pair = new WebSocketPair();
  pair[1].accept();
  bridgeTwilioStream(pair[1], c.env, requireSetting(config.CONTROL_SECRET, 'CONTROL_SECRET'));
  return new Response(null, { status: 101, webSocket: pair[0] });
});
