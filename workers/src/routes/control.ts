import { Hono } from 'hono';
import type { Env } from '../env.ts';
import { sessionStub } from '../session/stub.ts';

/** The worker's headers the session's object decides on, from the request. */
function forward(c: { req: { header(name: string): string | undefined } }, id: string): Headers {
  return new Headers({
    Upgrade: c.req.header('Upgrade') ?? '',
    Authorization: c.req.header('Authorization') ?? '',
    'X-Session-Id': id,
    'X-Worker-Id': c.req.header('X-Worker-Id') ?? '',
  });
}

/**
 * Internal: a media worker claims a session by dialing its control WebSocket with the job's
 * control token; the Durable Object decides the claim (101, 401, 404, 409 or 410). A phone or
 * stream session's worker then dials its media socket with the session's resume token.
 */
export const control = new Hono<{ Bindings: Env }>()
  .get('/internal/sessions/:id/control', async (c) => {
    const id = c.req.param('id');
    return sessionStub(c.env, id).fetch(new Request('https://session/control', { headers: forward(c, id) }));
  })
  .get('/internal/sessions/:id/media', async (c) => {
    const id = c.req.param('id');
    return sessionStub(c.env, id).fetch(new Request('https://session/media', { headers: forward(c, id) }));
  });
