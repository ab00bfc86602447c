import type { IceServer } from '@switchboard/protocol';
import type { Config } from '../config.ts';
import { cloudflareIceServers } from './cloudflare.ts';
import { coturnIceServers } from './coturn.ts';
import { noTurnIceServers } from './none.ts';
import { twilioIceServers } from './twilio.ts';
import { UPSTREAM_TIMEOUT_MS } from './upstream.ts';

export interface MintedIceServers {
  iceServers: IceServer[];
  /** Epoch ms when the TURN credentials stop working; null when nothing expires. */
  expiresAt: number | null;
}

/**
 * ICE servers with fresh TURN credentials from the configured provider (TURN_PROVIDER).
 * `user` names who gets them (`client:<id>`, `worker:<sessionId>`); only coturn embeds it in the
 * username. Missing settings throw 500 `misconfigured`; provider failures throw 502 `upstream_failed`.
 * `fetchFn`, `now` and `timeoutMs` are injectable for tests.
 */
export async function mintIceServers(
  config: Config,
  user: string,
  fetchFn: typeof fetch = fetch,
  now: number = Date.now(),
  timeoutMs: number = UPSTREAM_TIMEOUT_MS,
): Promise<MintedIceServers> {
  switch (config.TURN_PROVIDER) {
    case 'none':
      return noTurnIceServers(config);
    case 'coturn':
      return coturnIceServers(config, user, now);
    case 'cloudflare':
      return cloudflareIceServers(config, fetchFn, now, timeoutMs);
    case 'twilio':
      return twilioIceServers(config, fetchFn, now, timeoutMs);
  }
}
