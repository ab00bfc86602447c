import { z } from 'zod';
import { PhoneProvider } from './phone-provider.ts';
import { PhoneAddress } from './http.ts';

/**
 * Legs: the parties of a session. Its first caller (WebRTC, phone or stream client) is the leg
 * whose id is the session's id; `POST /v1/sessions/{id}/legs` adds phone legs, each dialled out
 * and joined to the conversation when the callee answers. A leg added this way has its own id,
 * `l_` + 32 hex, which also names the Durable Object that carries its phone call (its webhooks,
 * its media stream).
 */
export const LegId = z.string().regex(/^l_[0-9a-f]{32}$/, 'not a leg id');
export type LegId = z.infer<typeof LegId>;

/** Most legs in one session, its first caller included. */
export const MAX_LEGS = 6;
/** Most legs a session may ever dial (joined, failed or hung up): a loop of failing dials stops here. */
export const MAX_LEG_DIALS = 20;

/**
 * `dialing`: placed, ringing; `joined`: the callee answered and hears the conversation; `left`:
 * hung up, failed (busy, no answer) or removed (`reason` says which, `detail` the provider's word).
 */
export const LegState = z.enum(['dialing', 'joined', 'left']);
export type LegState = z.infer<typeof LegState>;


/** `POST /v1/sessions/{id}/legs` body and response; `provider` defaults to the edge's TELEPHONY_PROVIDER. */
export const LegRequest = z.strictObject({ to: PhoneAddress, from: PhoneAddress.optional(), provider: PhoneProvider.optional() });
export type LegRequest = z.infer<typeof LegRequest>;
export const LegResponse = z.strictObject({ legId: LegId, callSid: z.string() });
export type LegResponse = z.infer<typeof LegResponse>;

/** Data-channel events (worker -> client) as legs come and go. */
export const LegJoinedEvent = z.strictObject({ type: z.literal('leg.joined'), legId: z.string(), kind: z.enum(['webrtc', 'phone', 'stream']), at: z.number() });
export type LegJoinedEvent = z.infer<typeof LegJoinedEvent>;
export const LegLeftEvent = z.strictObject({ type: z.literal('leg.left'), legId: z.string(), reason: z.string().max(64), at: z.number() });
export type LegLeftEvent = z.infer<typeof LegLeftEvent>;
/** Data-channel events (worker -> client) while other legs are joined: who is speaking (each leg's own VAD). */
export const LegSpeechStartEvent = z.strictObject({ type: z.literal('leg.speech.start'), legId: z.string(), at: z.number() });
export type LegSpeechStartEvent = z.infer<typeof LegSpeechStartEvent>;
export const LegSpeechEndEvent = z.strictObject({ type: z.literal('leg.speech.end'), legId: z.string(), at: z.number(), speechMs: z.number() });
export type LegSpeechEndEvent = z.infer<typeof LegSpeechEndEvent>;

/**
 * Recording (opt in: `?record=true` on `POST /v1/sessions` and `GET /v1/stream`, `"record": true`
 * in `POST /v1/calls`, or the handler's own option): each leg and the mix as Ogg Opus, streamed
 * while the call runs to S3 (`s3://bucket/recordings/{sessionId}/{track}.ogg`) or a local folder.
 * Tracks: `mix` (everyone and the handler) and `leg-{legId}` (what that leg said).
 */
export const RecordingTrack = z.strictObject({
  track: z.string().regex(/^[A-Za-z0-9_-]{1,80}$/),
  uri: z.string().max(1024),
  bytes: z.number().int().nonnegative(),
  durationMs: z.number().nonnegative(),
});
export type RecordingTrack = z.infer<typeof RecordingTrack>;
export const RecordingFailure = z.strictObject({ track: z.string().max(80), error: z.string().max(256) });
export type RecordingFailure = z.infer<typeof RecordingFailure>;
/** Most tracks of one session's recording: the mix plus one per leg over the session's life. */
export const MAX_RECORDING_TRACKS = 17;
export const RecordingSaved = z.strictObject({
  tracks: z.array(RecordingTrack).max(MAX_RECORDING_TRACKS),
  failed: z.array(RecordingFailure).max(MAX_RECORDING_TRACKS).optional(),
});
export type RecordingSaved = z.infer<typeof RecordingSaved>;
/** Data-channel event (worker -> client) once the recording's files are complete. */
export const RecordingSavedEvent = z.strictObject({ type: z.literal('recording.saved'), at: z.number(), ...RecordingSaved.shape });
export type RecordingSavedEvent = z.infer<typeof RecordingSavedEvent>;
