import type { EnvVars } from './config.ts';
import type { CallSession } from './session/call-session.ts';

/** The Worker's bindings (wrangler.jsonc) plus its string vars and secrets. */
export interface Env extends EnvVars {
  CALL_SESSION: DurableObjectNamespace<CallSession>;
  /** Per-client-IP limiter for session, token and call creation. */
  CREATE_LIMITER?: RateLimit;
}
