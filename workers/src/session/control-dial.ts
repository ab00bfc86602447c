import { verifyControlToken } from '@switchboard/protocol';
import { resumeTokenSubject } from './media-token.ts';
import { CONTROL_GRACE_MS, type SessionRecord } from './record.ts';

export type Refusal = { status: 401 | 404 | 409 | 410; code: string; message: string };
export type DialDecision = { kind: 'claim' } | { kind: 'takeover' } | { kind: 'resume' } | Refusal;

const refuse = (status: Refusal['status'], code: string, message: string): Refusal => ({ status, code, message });

/**
 * Decides a worker's dial of a session's control WebSocket. A claim (the job's control token)
 * wins only while the session is queued and unclaimed: later claims get 409, expired tokens and
 * ended sessions 410. A resume (the session's resume token, handed to the claiming worker) is
 * accepted from that same worker while the session runs, no control socket is open and the drop
 * is less than CONTROL_GRACE_MS old; not once the client has resumed a WebRTC session elsewhere
 * (its new offer went on the queue: the old peer connection is dead). A session whose worker was
 * lost and which was re-queued with a fresh job (a phone call, a resumed WebRTC session): a claim
 * for it is a takeover.
 */
export async function decideControlDial(a: {
  secret: string;
  sessionId: string;
  token: string;
  workerId: string;
  rec: SessionRecord | null;
  controlOpen: boolean;
  now: number;
}): Promise<DialDecision> {
  const known = a.rec && a.rec.id === a.sessionId ? a.rec : null;
  const resume = await verifyControlToken(a.secret, resumeTokenSubject(a.sessionId), a.token, a.now);
  if (resume.ok) {
    if (!known) return refuse(404, 'not_found', 'no such session');
    if (known.state === 'ended') return refuse(410, 'gone', `session has ended (${known.reason ?? 'unknown'})`);
    if (a.workerId !== known.workerId || a.controlOpen) return refuse(409, 'conflict', 'session is held by another control connection');
    if (known.controlLostAt !== undefined && a.now >= known.controlLostAt + CONTROL_GRACE_MS)
      return refuse(410, 'gone', `the control WebSocket dropped more than ${CONTROL_GRACE_MS} ms ago`);
    if (known.kind === 'webrtc' && known.requeuedAt !== undefined)
      return refuse(409, 'conflict', 'the client resumed the session: its new offer is queued for another worker');
    return { kind: 'resume' };
  }
  const check = await verifyControlToken(a.secret, a.sessionId, a.token, a.now);
  if (!check.ok) {
    if (check.reason === 'expired') return refuse(410, 'gone', 'the job has expired');
    return refuse(401, 'unauthorized', `control token ${check.reason === 'malformed' ? 'is malformed' : 'is not valid'}`);
  }
  if (!known) return refuse(404, 'not_found', 'no such session');
  if (known.state === 'ended') return refuse(410, 'gone', `session has ended (${known.reason ?? 'unknown'})`);
  if (a.controlOpen) return refuse(409, 'conflict', 'session already claimed by another worker');
  if (known.state === 'claimed' || known.state === 'live') {
    // A phone call re-queued after its worker was lost: the first worker to dial takes it over.
    if (known.requeuedAt !== undefined && known.controlLostAt !== undefined) return { kind: 'takeover' };
    return refuse(409, 'conflict', 'session already claimed by another worker');
  }
  return { kind: 'claim' };
}
