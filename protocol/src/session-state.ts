import { z } from 'zod';
import { SessionId, SessionKind } from './job.ts';
import { LegState, RecordingSaved } from './legs.ts';
import { PhoneProvider } from './phone-provider.ts';

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
  'abuse', // the client broke the data channel's limits and kept on (see `detail`)
  'transferred', // a cold transfer put the caller through to a human, and that call is over
  'error',
]);
export type EndReason = z.infer<typeof EndReason>;

/**
 * Why a worker ended a session: a closed set, so metric labels stay bounded (free text goes to
 * `detail`). The worker reports it in its control `end` message.
 */
export const WorkerEndReason = z.enum([
  'handler_closed', // the handler's pipeline finished
  'client_hangup', // the client hung up at the edge (WHIP DELETE)
  'time_limit', // TIME_LIMIT_MS or the edge's endsAt
  'handover_timeout', // the edge never sent the session
  'bad_handover', // the handover could not be served (e.g. a WebRTC session without an offer)
  'answer_failed', // the offer could not be answered
  'connect_timeout', // ICE/DTLS never connected
  'ice_failed',
  'peer_closed', // the browser closed its peer connection
  'control_closed', // the edge's control WebSocket closed
  'phone_hangup', // the provider's stream stopped or closed
  'no_media_stream', // a phone call whose media stream never started
  'no_media', // a phone stream that went silent (no frames) too long
  'abuse', // the client broke the data channel's limits
  'drain_timeout', // the worker stopped and the session outlived DRAIN_TIMEOUT_MS
  'ended_during_start', // ended while its transport was being made
  'transferred', // the edge ended it after a cold transfer
  'error', // an unexpected failure (see the log and `detail`)
]);
export type WorkerEndReason = z.infer<typeof WorkerEndReason>;

/** One leg in the session status (`legs`). Times are epoch ms. */
export const LegStatus = z.strictObject({
  legId: z.string(),
  kind: z.enum(['webrtc', 'phone', 'stream']),
  state: LegState,
  provider: PhoneProvider.optional(),
  callSid: z.string().optional(),
  to: z.string().optional(),
  reason: EndReason.optional(),
  detail: z.string().max(256).optional(),
  createdAt: z.number(),
  joinedAt: z.number().optional(),
  leftAt: z.number().optional(),
});
export type LegStatus = z.infer<typeof LegStatus>;

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
  /** The session's legs (`POST /v1/sessions/{id}/legs`), its first caller first; absent while it has only that one. */
  legs: z.array(LegStatus).optional(),
  /** A recorded session: `recording` while it runs, then its files once saved. */
  recording: z.strictObject({ state: z.enum(['recording', 'saved']), ...RecordingSaved.partial().shape }).optional(),
});
export type SessionStatus = z.infer<typeof SessionStatus>;
