import type { EndReason, LegStatus, PhoneCall, RecordingSaved, SessionKind, SessionState, SessionStatus } from '@switchboard/protocol';

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
  /** Subject (`sub`) of the client token that created it: any token of that subject controls it. */
  clientSubject?: string;
  /** Key of the ClientSessions object holding its slot (WebRTC sessions), released when it ends. */
  clientKey?: string;
  offer?: string;
  offerUfrag?: string;
  answer?: string;
  etag?: string;
  call?: PhoneCall;
  /**
   * The peer's `start` frame as received (a provider stream's, a stream client's): sent to every
   * worker media socket that attaches, so a worker that takes the session over knows the stream.
   */
  peerStart?: string;
  /**
   * A session whose worker was lost, re-queued for another worker to take over (a phone call at
   * once, a WebRTC session on the client's resume): its job was last (re)sent at this time.
   */
  requeuedAt?: number;
  /** How many times the session has been taken over by another worker (a phone call re-queued, a WebRTC session resumed). */
  takeovers?: number;
  /** Nonce of the last media token minted for the provider's stream (only that token may attach a stream). */
  mediaNonce?: string;
  /** Whether a stream has attached with mediaNonce (each token attaches at most one stream). */
  mediaNonceUsed?: boolean;
  /** When the provider's stream closed without the call ending (cleared when a new stream attaches). */
  peerLostAt?: number;
  /** The handler's last checkpointed `ctx.state` (JSON text, at most MAX_STATE_BYTES): handed to every worker that takes over. */
  checkpoint?: string;
  /** The legs this session added (`POST /v1/sessions/{id}/legs`), in the order they were dialled; at most MAX_LEG_DIALS. */
  legs?: LegStatus[];
  /** A leg's own object: the session it belongs to (its worker carries the leg; no job of its own). */
  parentId?: string;
  /** A cold transfer under way (call-transfer.ts): the call's stream ends on purpose meanwhile. */
  transfer?: { requestId: string; to: string; from?: string | undefined; state: 'redirecting' | 'dialing' };
  /** The client asked for the session to be recorded. */
  record?: boolean;
  /** The recording's files, once the worker saved them. */
  recording?: RecordingSaved;
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

/**
 * The session's public status. `internals` (API-key and AUTH_MODE=none callers) adds what the
 * platform says about itself: the worker's id and the free-text `detail`; client-token callers
 * do not get them.
 */
export function toStatus(rec: SessionRecord, internals: boolean): SessionStatus {
  const s: SessionStatus = { id: rec.id, kind: rec.kind, state: rec.state, createdAt: rec.createdAt };
  if (rec.reason) s.reason = rec.reason;
  if (internals && rec.detail) s.detail = rec.detail;
  if (rec.queuedAt) s.queuedAt = rec.queuedAt;
  if (rec.claimedAt) s.claimedAt = rec.claimedAt;
  if (rec.liveAt) s.liveAt = rec.liveAt;
  if (rec.endedAt) s.endedAt = rec.endedAt;
  if (internals && rec.workerId) s.workerId = rec.workerId;
  if (rec.call) s.callSid = rec.call.callSid;
  if (rec.record || rec.recording) s.recording = recordingStatus(rec, internals);
  if (rec.legs?.length) s.legs = [firstLeg(rec), ...rec.legs.map((l) => (internals || !l.detail ? l : withoutDetail(l)))];
  return s;
}

/** Where the recording is: its files' URIs for API keys; their names and lengths for client tokens. */
function recordingStatus(rec: SessionRecord, internals: boolean): NonNullable<SessionStatus['recording']> {
  if (!rec.recording) return { state: 'recording' };
  const tracks = internals ? rec.recording.tracks : rec.recording.tracks.map((t) => ({ ...t, uri: '' }));
  return { state: 'saved', tracks, ...(rec.recording.failed ? { failed: rec.recording.failed } : {}) };
}

/** The session's first caller, as a leg: its id is the session's. */
function firstLeg(rec: SessionRecord): LegStatus {
  const leg: LegStatus = {
    legId: rec.id,
    kind: rec.kind,
    state: rec.state === 'ended' ? 'left' : rec.state === 'live' ? 'joined' : 'dialing',
    createdAt: rec.createdAt,
  };
  if (rec.call) {
    leg.provider = rec.call.provider;
    leg.callSid = rec.call.callSid;
  }
  if (rec.liveAt) leg.joinedAt = rec.liveAt;
  if (rec.endedAt) leg.leftAt = rec.endedAt;
  if (rec.reason) leg.reason = rec.reason;
  return leg;
}

function withoutDetail(leg: LegStatus): LegStatus {
  const { detail: _detail, ...rest } = leg;
  return rest;
}

/** Ended sessions stay readable this long, then the object deletes its storage. */
export const RETAIN_ENDED_MS = 2 * 3_600_000;

/**
 * How long a claimed session waits after its control WebSocket drops for the same worker to dial
 * back in (transient drop) and, for a phone call, for another worker to take the re-queued call
 * over. A WebRTC session then waits for its client to resume (RESUME_WINDOW_MS).
 */
export const CONTROL_GRACE_MS = 5000;

/**
 * How long a WebRTC session whose worker was lost stays resumable: a client's
 * `POST /v1/sessions/{id}/resume` within this window of the control WebSocket dropping re-queues
 * it for another worker; after it the session ends as worker_lost.
 */
export const RESUME_WINDOW_MS = 30_000;

/** Takeovers allowed per session (phone or resumed WebRTC): a session that keeps killing workers is ended, not passed on forever. */
export const MAX_TAKEOVERS = 3;

/**
 * A re-queued call's job is sent again this often until a worker claims it: the lost worker's own
 * long poll may still be open at the queue and swallow the first copy (it becomes invisible until
 * its visibility timeout). Duplicates are harmless: only the first claim wins.
 */
export const REQUEUE_RESEND_MS = 1000;

/**
 * When a session whose control WebSocket dropped (controlLostAt set) is given up as worker_lost:
 * a phone call after CONTROL_GRACE_MS, a WebRTC session after RESUME_WINDOW_MS; a session re-queued
 * for a takeover not before its job expires (a resume late in the window still gets its claim time).
 */
export function lostDeadline(rec: SessionRecord, controlLostAt: number): number {
  const window = controlLostAt + (rec.kind === 'webrtc' ? RESUME_WINDOW_MS : CONTROL_GRACE_MS);
  return Math.min(rec.endsAt, rec.requeuedAt !== undefined ? Math.max(window, rec.jobExpiresAt) : window);
}

/**
 * The next time the object must act: the claim deadline, the time limit, the re-send of a
 * re-queued job (until that job expires), giving up a lost worker, or the purge.
 */
export function nextDeadline(rec: SessionRecord): number {
  switch (rec.state) {
    case 'created':
    case 'queued':
      return rec.jobExpiresAt;
    case 'claimed':
    case 'live':
      if (rec.controlLostAt === undefined) return rec.endsAt;
      if (rec.requeuedAt !== undefined)
        return Math.min(lostDeadline(rec, rec.controlLostAt), rec.requeuedAt + REQUEUE_RESEND_MS, rec.jobExpiresAt);
      return lostDeadline(rec, rec.controlLostAt);
    case 'ended':
      return (rec.endedAt ?? rec.createdAt) + RETAIN_ENDED_MS;
  }
}
