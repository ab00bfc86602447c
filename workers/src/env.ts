import type { EnvVars } from './config.ts';
import type { CallSession } from './session/call-session.ts';
import type { ClientSessions } from './session/client-sessions.ts';

/** The Worker's bindings (wrangler.jsonc) plus its string vars and secrets. */
export interface Env extends EnvVars {
  CALL_SESSION: DurableObjectNamespace<CallSession>;
  /** One per client key (see callerKey): its live WebRTC sessions, for MAX_SESSIONS_PER_CLIENT. */
  CLIENT_SESSIONS: DurableObjectNamespace<ClientSessions>;
  /** Per-client-IP limiter for session creation. */
  CREATE_LIMITER?: RateLimit;
  /** Per-caller limiter for `GET /v1/ice-servers` (TURN credentials cost money). */
  ICE_LIMITER?: RateLimit;
  /** Per-API-key limiter for `/v1/tokens` and `/v1/calls`. */
  API_KEY_LIMITER?: RateLimit;
}
