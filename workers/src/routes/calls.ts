import { Hono } from 'hono';
import { CallRequest, type CallResponse } from '@switchboard/protocol';
import type { z } from 'zod';
import { requireApiKey } from '../auth/guards.ts';
import { loadConfig } from '../config.ts';
import type { Env } from '../env.ts';
import { badRequest } from '../errors.ts';
import { readJson } from '../http/body.ts';
import { limitApiKey } from '../http/rate-limit.ts';
import { phoneSessionId, sessionStub, unwrap } from '../session/stub.ts';
import { twilioTelephony } from '../twilio/rest-client.ts';

/** Outbound phone call: placed through the telephony provider, served by the same handler. */
export const calls = new Hono<{ Bindings: Env }>().post('/v1/calls', async (c) => {
  const config = loadConfig(c.env);
  const caller = await requireApiKey(c, config);
  await limitApiKey(c, 'calls', caller);
  const parsed = CallRequest.safeParse(await readJson(c));
  if (!parsed.success) throw badRequest(`invalid call request: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'} ${i.message}`).join('; ')}`);
  const { callSid } = await twilioTelephony(config).placeCall({
    to: parsed.data.to,
    from: parsed.data.from,
    voiceUrl: `${config.PUBLIC_BASE_URL}/twilio/voice`,
    statusCallbackUrl: `${config.PUBLIC_BASE_URL}/twilio/status`,
  });
  const sessionId = phoneSessionId(callSid);
  unwrap(await sessionStub(c.env, sessionId).startPhone(sessionId, { callSid, from: parsed.data.from ?? config.TWILIO_FROM, to: parsed.data.to, direction: 'outbound' }));
  const body: z.infer<typeof CallResponse> = { sessionId, callSid };
  return c.json(body, 201);
});
