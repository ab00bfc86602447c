import type { Context } from 'hono';
import { SessionId } from '@switchboard/protocol';
import { loadConfig, requireSetting } from '../config.ts';
import type { Env } from '../env.ts';
import { verifyMediaToken } from '../session/media-token.ts';
import { sessionStub } from '../session/stub.ts';

type C = Context<{ Bindings: Env }>;

/**
 * A provider stream's upgrade whose URL carries the call's media token: a forgery or an expired
 * token never wakes the session; the session checks the nonce is its last and unused.
 */
export async function upgradeWithToken(c: C, kind: 'telnyx' | 'plivo'): Promise<Response> {
  if (c.req.header('Upgrade')?.toLowerCase() !== 'websocket') return c.text('Expected a WebSocket upgrade', 426);
  const id = c.req.param('sessionId') ?? '';
  if (!SessionId.safeParse(id).success) return c.text('Not Found', 404);
  const config = loadConfig(c.env);
  const check = await verifyMediaToken(requireSetting(config.CONTROL_SECRET, 'CONTROL_SECRET'), id, decodeURIComponent(c.req.param('token') ?? ''), Date.now());
  if (!check.ok) return c.text(`Forbidden: stream token ${check.reason}`, 403);
  return sessionStub(c.env, id).fetch(
    new Request('https://session/peer', { headers: { Upgrade: 'websocket', 'X-Peer-Kind': kind, 'X-Media-Nonce': check.nonce } }),
  );
}
