import { Hono } from 'hono';
import { callerKey, requireClient } from '../auth/guards.ts';
import { loadConfig } from '../config.ts';
import type { Env } from '../env.ts';
import { badRequest } from '../errors.ts';
import { readText, requireMediaType } from '../http/body.ts';
import { limitCreation } from '../http/rate-limit.ts';
import { validateOffer } from '../sdp/offer.ts';
import { parseTrickleFragment } from '../sdp/trickle.ts';
import { acquireSessionSlot, releaseSessionSlot } from '../session/client-stub.ts';
import { newWebRtcSessionId, sessionStub, unwrap } from '../session/stub.ts';

/** `?record=true` asks for the session to be recorded (`false` or absent: not); anything else is a 400. */
export function recordQuery(value: string | undefined): boolean {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw badRequest('record must be true or false');
}

/** WHIP (RFC 9725): create with an SDP offer, trickle with PATCH, end with DELETE, read status. */
export const sessions = new Hono<{ Bindings: Env }>()
  .post('/v1/sessions', async (c) => {
    const config = loadConfig(c.env);
    const caller = await requireClient(c, config);
    await limitCreation(c, 'sessions');
    requireMediaType(c, 'application/sdp');
    const offer = await readText(c);
    const info = validateOffer(offer);
    const id = newWebRtcSessionId();
    const clientKey = callerKey(caller);
    const endsAt = Date.now() + config.SESSION_TIME_LIMIT_MS;
    // The slot is taken before the job is queued; the session's object gives it back when the
    // session ends, and here if it never started.
    await acquireSessionSlot(c.env, clientKey, id, endsAt, config.MAX_SESSIONS_PER_CLIENT);
    let r;
    try {
      r = unwrap(await sessionStub(c.env, id).startWebRtc({ id, offer, offerUfrag: info.ufrag, caller, clientKey, endsAt, record: recordQuery(c.req.query('record')) }));
    } catch (err) {
      await releaseSessionSlot(c.env, clientKey, id);
      throw err;
    }
    return c.body(r.answer, 201, {
      'Content-Type': 'application/sdp',
      Location: `/v1/sessions/${id}`,
      ETag: r.etag,
    });
  })
  .patch('/v1/sessions/:id', async (c) => {
    const caller = await requireClient(c, loadConfig(c.env));
    const stub = sessionStub(c.env, c.req.param('id'));
    requireMediaType(c, 'application/trickle-ice-sdpfrag');
    const frag = parseTrickleFragment(await readText(c));
    unwrap(await stub.trickle(frag, caller, c.req.header('If-Match') ?? null));
    return c.body(null, 204);
  })
  .delete('/v1/sessions/:id', async (c) => {
    const caller = await requireClient(c, loadConfig(c.env));
    const stub = sessionStub(c.env, c.req.param('id'));
    const { status } = unwrap(await stub.hangup(caller));
    return c.json(status, 200);
  })
  .get('/v1/sessions/:id/status', async (c) => {
    const caller = await requireClient(c, loadConfig(c.env));
    const { status } = unwrap(await sessionStub(c.env, c.req.param('id')).status(caller));
    return c.json(status, 200);
  });
