import type { EndReason, PhoneCall, SessionKind, SessionState, SessionStatus } from '@switchboard/protocol';

/** What a CallSession Durable Object stores about its session. Times are epoch ms. */
export interface SessionRecord {
  id: string;
  kind: SessionKind;
  state: SessionState;
  reason?: EndReason;
  detail?: string;
  createdAt: number;
  queuedAt?: number;
  claimedAt?: number;
  liveAt?: number;
  endedAt?: number;
  /** The job (and its control token) is void after this. */
  jobExpiresAt: number;
  /** The edge ends the session at this time whatever happens. */
  endsAt: number;
  workerId?: string;
  /** When the claiming worker's control WebSocket dropped (cleared when it dials back in). */
  controlLostAt?: number;
  /** Digest of the client token that created it (AUTH_MODE=token). */
  clientTokenDigest?: string;
  offer?: string;
  offerUfrag?: string;
  answer?: string;
  etag?: string;
  call?: PhoneCall;
  /** Twilio's `start` frame as received: replayed to a worker that takes the call over. */
  twilioStart?: string;
  /** A phone session whose worker was lost: its job was last (re)sent at this time, for another worker to take it over. */
  requeuedAt?: number;
  /** How many times a phone session has been taken over by another worker. */
  takeovers?: number;
}

const NEXT: Record<SessionState, readonly SessionState[]> = {
  created: ['queued', 'ended'],
  queued: ['claimed', 'ended'],
  claimed: ['live', 'ended'],
  live: ['ended'],
  ended: [],
};

export function canMove(from: SessionState, to: SessionState): boolean {
  return NEXT[from].includes(to);
}

/** Moves the record to `to`, stamping the time; throws on a move the state machine forbids. */
export function moveTo(rec: SessionRecord, to: SessionState, now: number): SessionRecord {
  if (!canMove(rec.state, to)) throw new Error(`session ${rec.id}: ${rec.state} -> ${to} is not allowed`);
  const stamp = { queued: 'queuedAt', claimed: 'claimedAt', live: 'liveAt', ended: 'endedAt', created: 'createdAt' } as const;
  return { ...rec, state: to, [stamp[to]]: now };
}

export function toStatus(rec: SessionRecord): SessionStatus {
  const s: SessionStatus = { id: rec.id, kind: rec.kind, state: rec.state, createdAt: rec.createdAt };
  if (rec.reason) s.reason = rec.reason;
  if (rec.detail) s.detail = rec.detail;
  if (rec.queuedAt) s.queuedAt = rec.queuedAt;
  if (rec.claimedAt) s.claimedAt = rec.claimedAt;
  if (rec.liveAt) s.liveAt = rec.liveAt;
  if (rec.endedAt) s.endedAt = rec.endedAt;
  if (rec.workerId) s.workerId = rec.workerId;
  if (rec.call) s.callSid = rec.call.callSid;
  return s;
}

/** Ended sessions stay readable this long, then the object deletes its storage. */
export const RETAIN_ENDED_MS = 2 * 3_600_000;

/**
 * How long a claimed session waits after its control WebSocket drops: for the same worker to dial
 * back in (transient drop) or, for a phone call, for another worker to take the re-queued call over.
 */
export const CONTROL_GRACE_MS = 5000;

/** Takeovers allowed per phone call: a call that keeps killing workers is ended, not passed on forever. */
export const MAX_TAKEOVERS = 3;

/**
 * A re-queued call's job is sent again this often until a worker claims it: the lost worker's own
 * long poll may still be open at the queue and swallow the first copy (it becomes invisible until
 * its visibility timeout). Duplicates are harmless: only the first claim wins.
 */
export const REQUEUE_RESEND_MS = 1000;

/** The next time the object must act: the claim deadline, the time limit, or the purge. */
export function nextDeadline(rec: SessionRecord): number {
  switch (rec.state) {
    case 'created':
    case 'queued':
      return rec.jobExpiresAt;
    case 'claimed':
    case 'live':
      if (rec.controlLostAt === undefined) return rec.endsAt;
      if (rec.requeuedAt !== undefined) return Math.min(rec.endsAt, rec.controlLostAt + CONTROL_GRACE_MS, rec.requeuedAt + REQUEUE_RESEND_MS);
      return Math.min(rec.endsAt, rec.controlLostAt + CONTROL_GRACE_MS);
    case 'ended':
      return (rec.endedAt ?? rec.createdAt) + RETAIN_ENDED_MS;
  }
}
