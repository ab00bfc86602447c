import { Hono } from 'hono';
import type { Env } from '../env.ts';
import { sessionStub } from '../session/stub.ts';

/**
 * Internal: a media worker claims a session by dialing its control WebSocket with the job's
 * control token. The Durable Object decides the claim (101, 401, 404, 409 or 410).
 */
export const control = new Hono<{ Bindings: Env }>().get('/internal/sessions/:id/control', async (c) => {
  const id = c.req.param('id');
  const stub = sessionStub(c.env, id);
  const headers = new Headers({
    Upgrade: c.req.header('Upgrade') ?? '',
    Authorization: c.req.header('Authorization') ?? '',
    'X-Session-Id': id,
    'X-Worker-Id': c.req.header('X-Worker-Id') ?? '',
  });
  return stub.fetch(new Request('https://session/control', { headers }));
});
