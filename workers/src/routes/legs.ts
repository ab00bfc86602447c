import { Hono } from 'hono';
import { LegRequest, type LegResponse } from '@switchboard/protocol';
import { requireClient } from '../auth/guards.ts';
import { loadConfig } from '../config.ts';
import type { Env } from '../env.ts';
import { badRequest } from '../errors.ts';
import { readJson } from '../http/body.ts';
import { limitApiKey } from '../http/rate-limit.ts';
import { sessionStub, unwrap } from '../session/stub.ts';

/**
 * A session's legs: `POST` dials a phone number into the conversation (the callee joins when they
 * answer), `DELETE` hangs one up. The session's client token or an API key; the session's status
 * lists the legs. Dials are rate limited per caller, and a session holds MAX_LEGS at once.
 */
export const legs = new Hono<{ Bindings: Env }>()
  .post('/v1/sessions/:id/legs', async (c) => {
    const caller = await requireClient(c, loadConfig(c.env));
    const stub = sessionStub(c.env, c.req.param('id'));
    await limitApiKey(c, 'legs', caller);
    const parsed = LegRequest.safeParse(await readJson(c));
    if (!parsed.success) throw badRequest(`invalid leg request: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'} ${i.message}`).join('; ')}`);
    const { legId, callSid } = unwrap(await stub.addLeg(caller, parsed.data));
    const body: LegResponse = { legId, callSid };
    return c.json(body, 201, { Location: `/v1/sessions/${c.req.param('id')}/legs/${legId}` });
  })
  .delete('/v1/sessions/:id/legs/:legId', async (c) => {
    const caller = await requireClient(c, loadConfig(c.env));
    const { leg } = unwrap(await sessionStub(c.env, c.req.param('id')).removeLeg(caller, c.req.param('legId')));
    return c.json(leg, 200);
  });
