import { z } from 'zod';
import { SessionId, SessionKind } from './job.ts';

export const SessionState = z.enum(['created', 'queued', 'claimed', 'live', 'ended']);
export type SessionState = z.infer<typeof SessionState>;

/** Why a session ended. */
export const EndReason = z.enum([
  'client_hangup', // DELETE from the client
  'claim_timeout', // no worker claimed within CLAIM_TIMEOUT_MS
  'worker_ended', // the worker ended it (handler close, time limit, ICE failure: see `detail`)
  'worker_lost', // the worker's control WebSocket dropped
  'phone_hangup', // Twilio status callback or `stop`
  'call_failed', // outbound call busy / failed / no-answer / canceled
  'time_limit', // SESSION_TIME_LIMIT_MS reached
  'error',
]);
export type EndReason = z.infer<typeof EndReason>;

/** `GET /v1/sessions/{id}/status` body. Times are epoch ms. */
export const SessionStatus = z.strictObject({
  id: SessionId,
  kind: SessionKind,
  state: SessionState,
  reason: EndReason.optional(),
  detail: z.string().optional(),
  createdAt: z.number(),
  queuedAt: z.number().optional(),
  claimedAt: z.number().optional(),
  liveAt: z.number().optional(),
  endedAt: z.number().optional(),
  workerId: z.string().optional(),
  callSid: z.string().optional(),
});
export type SessionStatus = z.infer<typeof SessionStatus>;
