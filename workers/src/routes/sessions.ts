import { Hono } from 'hono';
import { requireClient } from '../auth/guards.ts';
import { loadConfig } from '../config.ts';
import type { Env } from '../env.ts';
import { readText, requireMediaType } from '../http/body.ts';
import { limitCreation } from '../http/rate-limit.ts';
import { validateOffer } from '../sdp/offer.ts';
import { parseTrickleFragment } from '../sdp/trickle.ts';
import { newWebRtcSessionId, sessionStub, unwrap } from '../session/stub.ts';

/** WHIP (RFC 9725): create with an SDP offer, trickle with PATCH, end with DELETE, read status. */
export const sessions = new Hono<{ Bindings: Env }>()
  .post('/v1/sessions', async (c) => {
    const config = loadConfig(c.env);
    const digest = await requireClient(c, config);
    await limitCreation(c, 'sessions');
    requireMediaType(c, 'application/sdp');
    const offer = await readText(c);
    const info = validateOffer(offer);
    const id = newWebRtcSessionId();
    const r = unwrap(
      await sessionStub(c.env, id).startWebRtc({ id, offer, offerUfrag: info.ufrag, clientTokenDigest: digest }),
    );
    return c.body(r.answer, 201, {
      'Content-Type': 'application/sdp',
      Location: `/v1/sessions/${id}`,
      ETag: r.etag,
    });
  })
  .patch('/v1/sessions/:id', async (c) => {
    const digest = await requireClient(c, loadConfig(c.env));
    const stub = sessionStub(c.env, c.req.param('id'));
    requireMediaType(c, 'application/trickle-ice-sdpfrag');
    const frag = parseTrickleFragment(await readText(c));
    unwrap(await stub.trickle(frag, digest, c.req.header('If-Match') ?? null));
    return c.body(null, 204);
  })
  .delete('/v1/sessions/:id', async (c) => {
    const digest = await requireClient(c, loadConfig(c.env));
    const stub = sessionStub(c.env, c.req.param('id'));
    const { status } = unwrap(await stub.hangup(digest));
    return c.json(status, 200);
  })
  .get('/v1/sessions/:id/status', async (c) => {
    const digest = await requireClient(c, loadConfig(c.env));
    const { status } = unwrap(await sessionStub(c.env, c.req.param('id')).status(digest));
    return c.json(status, 200);
  });
