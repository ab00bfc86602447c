import { SessionId, mediaFormatProblem, parseTwilioInbound } from '@switchboard/protocol';
import type { Env } from '../env.ts';
import { verifyMediaToken } from '../session/media-token.ts';

/** Twilio sends `start` right after `connected`: a stream without one this long is closed. */
export const START_TIMEOUT_MS = 5000;
/** Bytes of frames held before `start` (normally one `connected`, under 100 bytes). */
export const MAX_EARLY_BYTES = 16_384;
/** Largest frame accepted from the stream (a 20 ms media frame is ~300 bytes; `start` well under 4 KB). */
export const MAX_FRAME_BYTES = 16_384;

/**
 * Holds Twilio's Media Stream WebSocket at the edge. The stream URL carries no session (Twilio
 * signs it exactly, without a query string), so the session is learned from `start`'s
 * `customParameters` (`sessionId`, `token`). The token's HMAC is checked here (a forgery never
 * wakes the session); the session then checks that the token is the one it last minted and
 * unused, that `start.callSid` is its call, and refuses an audio format other than 8 kHz mono
 * mu-law. From then on frames are piped both ways to the session's Durable Object, which relays
 * them to the claiming worker. A stream that sends no `start` within START_TIMEOUT_MS, or more
 * than MAX_EARLY_BYTES before it, is closed.
 */
export function bridgeTwilioStream(twilio: WebSocket, env: Env, controlSecret: string): void {
  const early: string[] = [];
  let earlyBytes = 0;
  let session: WebSocket | null = null;
  let connecting = false;
  let closed = false;
  const noStart = setTimeout(() => closeAll(1008, `no start within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);

  function closeAll(code: number, reason: string): void {
    clearTimeout(noStart);
    if (closed) return;
    closed = true;
    for (const ws of [twilio, session]) {
      try {
        ws?.close(code, reason.slice(0, 120));
      } catch {
        // already closed
      }
    }
  }

  const connect = async (start: { sessionId?: string; token?: string; callSid: string; formatProblem: string | null }) => {
    const id = start.sessionId ?? '';
    if (!SessionId.safeParse(id).success) return closeAll(1008, 'start has no valid sessionId parameter');
    const check = await verifyMediaToken(controlSecret, id, start.token ?? '', Date.now());
    if (!check.ok) return closeAll(1008, `stream token ${check.reason}`);
    const headers: Record<string, string> = { Upgrade: 'websocket', 'X-Media-Nonce': check.nonce, 'X-Call-Sid': start.callSid };
    if (start.formatProblem) headers['X-Media-Format-Problem'] = start.formatProblem;
    const stub = env.CALL_SESSION.get(env.CALL_SESSION.idFromName(id));
    const res = await stub.fetch(new Request('https://session/twilio-media', { headers }));
    const ws = res.webSocket;
    if (res.status !== 101 || !ws) {
      const why = await res.text().catch(() => '');
      return closeAll(1008, `session refused the stream (${res.status}) ${why}`);
    }
    clearTimeout(noStart);
    ws.accept();
    session = ws;
    ws.addEventListener('message', (e) => {
      // The session sends one line per Twilio frame; frames for a closed stream are dropped.
      if (typeof e.data !== 'string' || closed || twilio.readyState !== WebSocket.OPEN) return;
      for (const frame of e.data.split('\n')) twilio.send(frame);
    });
    // The session closing normally (1000) ends the call; any other close (the object was reset)
    // closes Twilio's stream too, and Twilio asks <Connect action> for a new one.
    ws.addEventListener('close', (e) => closeAll(e.code === 1000 ? 1000 : 1011, e.reason || 'session socket closed'));
    ws.addEventListener('error', () => closeAll(1011, 'session socket failed'));
    for (const frame of early.splice(0)) ws.send(frame);
    if (closed) ws.close(1000, 'twilio closed');
  };

  twilio.addEventListener('message', (e) => {
    if (typeof e.data !== 'string' || closed) return;
    if (e.data.length > MAX_FRAME_BYTES) return closeAll(1009, 'frame too large');
    if (session) {
      if (session.readyState === WebSocket.OPEN) session.send(e.data);
      return;
    }
    earlyBytes += e.data.length;
    if (earlyBytes > MAX_EARLY_BYTES) return closeAll(1008, 'too much before start');
    early.push(e.data);
    if (connecting) return;
    const parsed = parseTwilioInbound(e.data);
    if (parsed.ok && parsed.value.event === 'start') {
      connecting = true;
      const { customParameters: params, callSid, mediaFormat } = parsed.value.start;
      connect({ sessionId: params['sessionId'], token: params['token'], callSid, formatProblem: mediaFormatProblem(mediaFormat) }).catch(
        (err: unknown) => closeAll(1011, `could not reach the session: ${(err as Error).message}`),
      );
    }
  });
  twilio.addEventListener('close', () => {
    clearTimeout(noStart);
    closed = true;
    try {
      session?.close(1000, 'twilio closed');
    } catch {
      // already closed
    }
  });
}
