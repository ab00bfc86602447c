import { MAX_STATE_BYTES } from '@switchboard/protocol';
import type { Refusal } from './control-dial.ts';
import { lostDeadline, RESUME_WINDOW_MS, type SessionRecord } from './record.ts';

/**
 * What a client's `POST /v1/sessions/{id}/resume` does: `forward` the new offer to the worker
 * that holds the session (its control WebSocket is open), or re-queue the session with it as a
 * `takeover` (the worker was lost less than RESUME_WINDOW_MS ago), or a refusal. `endLost` says
 * the session is past every deadline of its lost worker and should end now (the alarm may not
 * have run yet).
 */
export type ResumeDecision = { kind: 'forward' } | { kind: 'takeover' } | (Refusal & { endLost?: boolean });

const refuse = (status: Refusal['status'], code: string, message: string): Refusal => ({ status, code, message });

/**
 * Decides a client's resume of a session it is authorized for. Only a WebRTC session that was
 * answered at least once can be resumed (a phone call is re-queued by the edge itself, and a
 * session still waiting for its first answer has that request to finish), one resume at a time.
 */
export function decideResume(rec: SessionRecord, a: { controlOpen: boolean; resuming: boolean; now: number }): ResumeDecision {
  if (rec.kind !== 'webrtc') return refuse(409, 'conflict', 'a phone session cannot be resumed');
  if (rec.state === 'ended') return refuse(410, 'gone', `session has ended (${rec.reason ?? 'unknown'})`);
  if ((rec.state !== 'claimed' && rec.state !== 'live') || rec.answer === undefined)
    return refuse(409, 'conflict', 'session has not been answered yet');
  if (a.resuming) return refuse(409, 'conflict', 'a resume of this session is already in progress');
  if (a.controlOpen) return { kind: 'forward' };
  // No open control socket but no loss recorded yet: the close is being handled right now.
  const lostAt = rec.controlLostAt ?? a.now;
  if (a.now >= Math.min(rec.endsAt, lostAt + RESUME_WINDOW_MS))
    return {
      ...refuse(410, 'gone', `the session's worker was lost more than ${RESUME_WINDOW_MS} ms ago`),
      endLost: a.now >= lostDeadline(rec, lostAt),
    };
  return { kind: 'takeover' };
}

/** Why a worker's checkpoint cannot be kept (null: keep it): over MAX_STATE_BYTES of UTF-8, or not JSON. */
export function checkpointProblem(state: string): string | null {
  const bytes = new TextEncoder().encode(state).byteLength;
  if (bytes > MAX_STATE_BYTES) return `checkpoint is ${bytes} bytes, over the ${MAX_STATE_BYTES}-byte limit: not kept`;
  try {
    JSON.parse(state);
  } catch {
    return 'checkpoint is not JSON text: not kept';
  }
  return null;
}
