import { Hono } from 'hono';
import { CallRequest, type CallResponse, type PhoneCall } from '@switchboard/protocol';
import type { z } from 'zod';
import { requireApiKey } from '../auth/guards.ts';
import { loadConfig } from '../config.ts';
import type { Env } from '../env.ts';
import { badRequest } from '../errors.ts';
import { readJson } from '../http/body.ts';
import { limitApiKey } from '../http/rate-limit.ts';
import { phoneSessionId, sessionStub, unwrap } from '../session/stub.ts';
import { telephonyFor } from '../telephony/providers.ts';
import { providerUrl } from '../telephony/voice-flow.ts';

/**
 * Outbound phone call through `provider` (default TELEPHONY_PROVIDER), served by the same handler:
 * the session is queued at once, so a worker holds it (and its greeting) when the callee answers
 * and the provider requests the voice webhook.
 */
export const calls = new Hono<{ Bindings: Env }>().post('/v1/calls', async (c) => {
  const config = loadConfig(c.env);
  const caller = await requireApiKey(c, config);
  await limitApiKey(c, 'calls', caller);
  const parsed = CallRequest.safeParse(await readJson(c));
  if (!parsed.success) throw badRequest(`invalid call request: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'} ${i.message}`).join('; ')}`);
  const provider = parsed.data.provider ?? config.TELEPHONY_PROVIDER;
  const telephony = telephonyFor(config, provider);
  const { callSid } = await telephony.placeCall({
    to: parsed.data.to,
    from: parsed.data.from,
    voiceUrl: providerUrl(config, provider, 'voice'),
    statusCallbackUrl: providerUrl(config, provider, 'status'),
  });
  const sessionId = await phoneSessionId(provider, callSid);
  const call: PhoneCall = { provider, callSid, from: parsed.data.from ?? defaultFrom(config, provider), to: parsed.data.to, direction: 'outbound' };
  unwrap(await sessionStub(c.env, sessionId).startPhone(sessionId, call, parsed.data.record === true));
  const body: z.infer<typeof CallResponse> = { sessionId, callSid };
  return c.json(body, 201);
});

function defaultFrom(config: ReturnType<typeof loadConfig>, provider: PhoneCall['provider']): string {
  return provider === 'twilio' ? config.TWILIO_FROM : provider === 'telnyx' ? config.TELNYX_FROM : config.PLIVO_FROM;
}
