import { z } from 'zod';
import { parseJson } from './parse.ts';
import { SessionId, SessionKind } from './job.ts';
import { IceServer } from './ice.ts';
import { PhoneAddress } from './http.ts';
import { PhoneProvider } from './phone-provider.ts';

export { PhoneProvider } from './phone-provider.ts';
import { EndReason, WorkerEndReason } from './session-state.ts';
import { LegId, MAX_LEGS, RecordingSaved } from './legs.ts';

/**
 * The control WebSocket between a session's Durable Object (edge) and the media worker that
 * claimed it. The worker dials `GET /internal/sessions/{id}/control` with
 * `Authorization: Bearer <controlToken>`; the first dial wins (101), later ones get 409, expired
 * tokens 410. A dropped control WebSocket may be dialled again by the same worker with the
 * session's resume token for a few seconds before the edge gives the session up. Messages are
 * JSON text frames.
 *
 * Phone and stream sessions have a second WebSocket, the media socket (media-socket.ts): the
 * worker's transport dials it and owns it; the Durable Object relays the provider's (or stream
 * client's) frames over it verbatim.
 */


export const PhoneCall = z.strictObject({
  /** Whose call it is; absent in records made before there was a choice: Twilio. */
  provider: PhoneProvider.default('twilio'),
  /** The provider's call id (Twilio CallSid, Telnyx TeXML CallSid `v3:...`, Plivo CallUUID). */
  callSid: z.string().min(1).max(256),
  from: z.string(),
  to: z.string(),
  direction: z.enum(['inbound', 'outbound']),
});
export type PhoneCall = z.infer<typeof PhoneCall>;

/** A worker's request id, echoed in the answer. */
const RequestId = z.string().min(1).max(64);

/** What a worker needs to carry a leg: its id, its call, and the token for its media socket. */
export const LegHandover = z.strictObject({
  legId: LegId,
  call: PhoneCall,
  resumeToken: z.string().min(16).max(512),
});
export type LegHandover = z.infer<typeof LegHandover>;

/**
 * A handler's `ctx.state` travels as JSON text of at most this many UTF-8 bytes: checkpointed to
 * the session's Durable Object at each turn end and handed to the worker that takes it over.
 */
export const MAX_STATE_BYTES = 65_536;
const StateJson = z.string().max(MAX_STATE_BYTES);

export const TrickleCandidate = z.strictObject({
  /** `a=mid` of the media section the candidate belongs to (null when the fragment has none). */
  mid: z.string().nullable(),
  /** The candidate attribute value, without the `a=` / `candidate:` prefix stripped: `candidate:...`. */
  candidate: z.string().min(1).max(1024),
});
export type TrickleCandidate = z.infer<typeof TrickleCandidate>;

/** Edge -> worker. */
export const ControlToWorker = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('session'),
    sessionId: SessionId,
    kind: SessionKind,
    /** The browser's SDP offer (WebRTC sessions). */
    offer: z.string().optional(),
    /** The phone call (phone sessions). */
    call: PhoneCall.optional(),
    /** Server-side TURN credentials for the worker, minted for this session. */
    iceServers: z.array(IceServer),
    iceServersExpiresAt: z.number().nullable(),
    /** Epoch ms after which the edge ends the session whatever happens. */
    endsAt: z.number().nullable(),
    /**
     * Lets the claiming worker dial the control WebSocket again after a transient drop (same
     * `X-Worker-Id`, `Authorization: Bearer <resumeToken>`) within the edge's grace period.
     */
    resumeToken: z.string().min(16).max(512),
    /**
     * True when this worker takes over a phone call whose previous worker was lost mid-call: the
     * caller is already talking (no greeting), and the stream's `start` comes first on the media socket.
     */
    takeover: z.boolean().optional(),
    /** The handler's last checkpointed `ctx.state` (JSON text), when the session is taken over or resumed. */
    state: StateJson.optional(),
    /** The session is recorded (the client asked for it at creation). */
    record: z.boolean().optional(),
    /** Legs the session added that are still up (a takeover): the worker dials each one's media socket. */
    legs: z.array(LegHandover).max(MAX_LEGS).optional(),
  }),
  /**
   * A leg was dialled (`POST /v1/sessions/{id}/legs`): the worker dials its media socket at once
   * (`/internal/sessions/{legId}/media` with `resumeToken`), where the callee's stream starts when
   * they answer.
   */
  z.strictObject({ type: z.literal('leg.add'), leg: LegHandover }),
  /** The leg is over at the edge (hung up, failed, removed): the worker drops it from the call. */
  z.strictObject({ type: z.literal('leg.remove'), legId: LegId, reason: EndReason, detail: z.string().max(256).optional() }),
  /**
   * How a cold transfer ended: `ok` when the human answered and the dialled call is over (the
   * call then ends as `transferred`); otherwise `reason` (`redirect_failed`, `call_failed` with
   * the provider's outcome as `detail`: busy, no-answer, failed) and the caller is back on a new
   * stream of the same call.
   */
  z.strictObject({
    type: z.literal('transfer.result'),
    requestId: RequestId,
    ok: z.boolean(),
    reason: z.string().max(64).optional(),
    detail: z.string().max(256).optional(),
  }),
  /** The answer to the worker's `leg.dial`: the leg placed (its `leg.add` follows), or why not. */
  z.strictObject({
    type: z.literal('leg.dialed'),
    requestId: RequestId,
    legId: LegId.optional(),
    error: z.strictObject({ code: z.string().max(64), message: z.string().max(512) }).optional(),
  }),
  /**
   * The client resumed (`POST /v1/sessions/{id}/resume`) while this worker still holds the
   * session: a fresh SDP offer to answer with a new peer connection (the worker sends `answer`).
   */
  z.strictObject({ type: z.literal('offer'), offer: z.string().min(1).max(65536) }),
  z.strictObject({
    type: z.literal('candidates'),
    ufrag: z.string().optional(),
    pwd: z.string().optional(),
    candidates: z.array(TrickleCandidate),
    endOfCandidates: z.boolean(),
  }),
  z.strictObject({ type: z.literal('ice-servers'), iceServers: z.array(IceServer), expiresAt: z.number().nullable() }),
  z.strictObject({ type: z.literal('hangup'), reason: EndReason }),
  /**
   * The provider's media stream closed without `stop` (the edge restarted, the session's object
   * was reset): the call goes on. Twilio asks `<Connect action>` what next and the edge answers
   * with a new stream, whose `start` (same call, new stream id) follows on the media socket.
   */
  z.strictObject({
    type: z.literal('media.lost'),
    code: z.number().int(),
    /** The lost stream's id: a worker that already reads a newer stream (its `start` came first) ignores this. */
    streamId: z.string().max(256).optional(),
  }),
  /** The edge could not use the worker's last message (or could not serve its request). */
  z.strictObject({ type: z.literal('error'), message: z.string() }),
]);
export type ControlToWorker = z.infer<typeof ControlToWorker>;

/** Worker -> edge. */
export const ControlToEdge = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('answer'), sdp: z.string().min(1).max(65536) }),
  z.strictObject({ type: z.literal('state'), state: z.literal('live') }),
  z.strictObject({ type: z.literal('end'), reason: WorkerEndReason.optional(), detail: z.string().max(256).optional() }),
  /** The handler's `ctx.state` at a turn end (JSON text), kept by the edge for a takeover. */
  z.strictObject({ type: z.literal('checkpoint'), state: StateJson }),
  z.strictObject({ type: z.literal('ice.refresh') }),
  /** The recording's files are complete (at the session's end, or when the handler stopped it). */
  z.strictObject({ type: z.literal('recording.saved'), ...RecordingSaved.shape }),
  /** The handler dials a leg (`ctx.legs.dial`, a warm transfer): answered by `leg.dialed`. */
  z.strictObject({ type: z.literal('leg.dial'), requestId: RequestId, to: PhoneAddress, from: PhoneAddress.optional(), provider: PhoneProvider.optional() }),
  /**
   * Cold transfer (`ctx.transfer(to, {mode: 'cold'})`): the edge redirects the leg's phone call
   * (the session's own when `legId` is the session's id) to dial `to`; its stream ends meanwhile.
   * Answered by `transfer.result` once the dial is over, or at once when the redirect fails.
   */
  z.strictObject({ type: z.literal('transfer'), requestId: RequestId, legId: SessionId, to: PhoneAddress, from: PhoneAddress.optional() }),
  /** The handler hangs a leg up (`ctx.legs.hangup`): the edge ends its call and answers `leg.remove`. */
  z.strictObject({ type: z.literal('leg.hangup'), legId: LegId }),
  /** A leg's stream started (the callee answered and hears the call). */
  z.strictObject({ type: z.literal('leg.joined'), legId: LegId }),
  /** The worker dropped a leg (its stream stopped or its socket closed), with its own reason. */
  z.strictObject({ type: z.literal('leg.left'), legId: LegId, reason: WorkerEndReason, detail: z.string().max(256).optional() }),
]);
export type ControlToEdge = z.infer<typeof ControlToEdge>;

export const parseControlToWorker = (text: string) => parseJson(ControlToWorker, text, 'control message');
export const parseControlToEdge = (text: string) => parseJson(ControlToEdge, text, 'control message');
