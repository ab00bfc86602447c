import { SELF } from 'cloudflare:test';
import { parseControlToWorker, type ControlToEdge, type ControlToWorker, type SessionJob } from '@switchboard/protocol';
import { Inbox } from './inbox.ts';
import { socketOf, type Socket } from './media.ts';

export interface Claim {
  status: number;
  body: string;
  ws: WebSocket | null;
  inbox: Inbox<ControlToWorker>;
  closed: Promise<{ code: number; reason: string }>;
  send(msg: ControlToEdge): void;
}

/** Dials the session's control WebSocket as a media worker does, with the job's token. */
export async function claim(job: Pick<SessionJob, 'sessionId' | 'controlToken'>, workerId = 'w-test'): Promise<Claim> {
  const res = await SELF.fetch(`http://edge.test/internal/sessions/${job.sessionId}/control`, {
    headers: { Upgrade: 'websocket', Authorization: `Bearer ${job.controlToken}`, 'X-Worker-Id': workerId },
  });
  const inbox = new Inbox<ControlToWorker>();
  const ws = res.webSocket;
  let onClose: (v: { code: number; reason: string }) => void = () => {};
  const closed = new Promise<{ code: number; reason: string }>((r) => (onClose = r));
  if (ws) {
    ws.accept();
    ws.addEventListener('message', (e) => {
      const parsed = parseControlToWorker(String(e.data));
      if (!parsed.ok) throw new Error(parsed.error);
      inbox.push(parsed.value);
    });
    ws.addEventListener('close', (e) => onClose({ code: e.code, reason: e.reason }));
  }
  return {
    status: res.status,
    body: ws ? '' : await res.text(),
    ws,
    inbox,
    closed,
    send: (msg) => ws?.send(JSON.stringify(msg)),
  };
}

/** The `session` handover a claim receives first (throws on anything else). */
export async function handover(c: Claim): Promise<Extract<ControlToWorker, { type: 'session' }>> {
  const m = await c.inbox.next();
  if (m.type !== 'session') throw new Error(`expected the session handover, got ${m.type}`);
  return m;
}

/**
 * Dials the session's media socket as the claiming worker's transport does
 * (`GET /internal/sessions/<id>/media`, `Authorization: Bearer <resumeToken>` from the handover,
 * `X-Worker-Id` of the worker holding the session). The edge relays the peer's frames over it
 * verbatim, the stream's stored `start` first; a refusal keeps its status and JSON body.
 */
export async function dialMedia(sessionId: string, resumeToken: string, workerId = 'w-test', headers: Record<string, string> = {}): Promise<Socket> {
  const res = await SELF.fetch(`http://edge.test/internal/sessions/${sessionId}/media`, {
    headers: { Upgrade: 'websocket', Authorization: `Bearer ${resumeToken}`, 'X-Worker-Id': workerId, ...headers },
  });
  return socketOf(res);
}
