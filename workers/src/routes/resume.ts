import { Hono } from 'hono';
import { requireClient } from '../auth/guards.ts';
import { loadConfig } from '../config.ts';
import type { Env } from '../env.ts';
import { readText, requireMediaType } from '../http/body.ts';
import { limitCreation } from '../http/rate-limit.ts';
import { validateOffer } from '../sdp/offer.ts';
import { sessionStub, unwrap } from '../session/stub.ts';

/**
 * `POST /v1/sessions/{id}/resume`: a client whose peer connection failed sends a fresh SDP offer
 * (same auth as the session) and gets the answer of the session's worker, or of the worker that
 * takes it over, with the same Location and a new ETag. Limited like session creation, since a
 * resume of a lost worker's session puts a job on the queue.
 */
export const resume = new Hono<{ Bindings: Env }>().post('/v1/sessions/:id/resume', async (c) => {
  const config = loadConfig(c.env);
  const caller = await requireClient(c, config);
  const id = c.req.param('id');
  const stub = sessionStub(c.env, id);
  await limitCreation(c, 'resume');
  requireMediaType(c, 'application/sdp');
  const offer = await readText(c);
  const info = validateOffer(offer);
  const r = unwrap(await stub.resume({ offer, offerUfrag: info.ufrag, caller }));
  return c.body(r.answer, 201, {
    'Content-Type': 'application/sdp',
    Location: `/v1/sessions/${id}`,
    ETag: r.etag,
  });
});
