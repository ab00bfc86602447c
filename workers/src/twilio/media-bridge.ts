import { SessionId, parseTwilioInbound, verifyControlToken } from '@switchboard/protocol';
import type { Env } from '../env.ts';
import { mediaTokenSubject } from '../session/media-token.ts';

/** Frames Twilio may send before `start` names the session (normally just `connected`). */
const MAX_EARLY_FRAMES = 16;

/**
 * Holds Twilio's Media Stream WebSocket at the edge. The stream URL carries no session (Twilio
 * signs it exactly, without a query string), so the session is learned from `start`'s
 * `customParameters` (`sessionId`, `token`). Once the token checks out, frames are piped both ways
 * to the session's Durable Object, which relays them to the claiming worker.
 */
export function bridgeTwilioStream(twilio: WebSocket, env: Env, controlSecret: string): void {
  const early: string[] = [];
  let session: WebSocket | null = null;
  let connecting = false;
  let closed = false;

  const closeAll = (code: number, reason: string) => {
    if (closed) return;
    closed = true;
    for (const ws of [twilio, session]) {
      try {
        ws?.close(code, reason);
      } catch {
        // already closed
      }
    }
  };

  const connect = async (start: { sessionId?: string; token?: string }) => {
    const id = start.sessionId ?? '';
    const token = start.token ?? '';
    if (!SessionId.safeParse(id).success) return closeAll(1008, 'start has no valid sessionId parameter');
    const check = await verifyControlToken(controlSecret, mediaTokenSubject(id), token, Date.now());
    if (!check.ok) return closeAll(1008, `stream token ${check.reason}`);
    const stub = env.CALL_SESSION.get(env.CALL_SESSION.idFromName(id));
    const res = await stub.fetch(new Request('https://session/twilio-media', { headers: { Upgrade: 'websocket' } }));
    const ws = res.webSocket;
    if (res.status !== 101 || !ws) return closeAll(1011, `session refused the stream (${res.status})`);
    ws.accept();
    session = ws;
    ws.addEventListener('message', (e) => {
      // The session sends one line per Twilio frame; frames for a closed stream are dropped.
      if (typeof e.data !== 'string' || closed || twilio.readyState !== WebSocket.OPEN) return;
      for (const frame of e.data.split('\n')) twilio.send(frame);
    });
    ws.addEventListener('close', (e) => closeAll(1000, e.reason || 'session ended'));
    ws.addEventListener('error', () => closeAll(1011, 'session socket failed'));
    for (const frame of early.splice(0)) ws.send(frame);
    if (closed) ws.close(1000, 'twilio closed');
  };

  twilio.addEventListener('message', (e) => {
    if (typeof e.data !== 'string' || closed) return;
    if (session) {
      if (session.readyState === WebSocket.OPEN) session.send(e.data);
      return;
    }
    if (early.length >= MAX_EARLY_FRAMES) return closeAll(1008, 'no start message');
    early.push(e.data);
    if (connecting) return;
    const parsed = parseTwilioInbound(e.data);
    if (parsed.ok && parsed.value.event === 'start') {
      connecting = true;
      const params = parsed.value.start.customParameters;
      connect({ sessionId: params['sessionId'], token: params['token'] }).catch((err: unknown) =>
        closeAll(1011, `could not reach the session: ${(err as Error).message}`.slice(0, 120)),
      );
    }
  });
  twilio.addEventListener('close', () => {
    closed = true;
    try {
      session?.close(1000, 'twilio closed');
    } catch {
      // already closed
    }
  });
}
