import type { IceServer } from '@switchboard/protocol';
import type { Config } from '../config.ts';
import { normalizeIceServers } from './normalize.ts';

/** STUN_URLS as one credential-less server (normalised like provider answers), or nothing. */
export function stunServers(config: Config): IceServer[] {
  if (config.STUN_URLS.length === 0) return [];
  return normalizeIceServers([{ urls: config.STUN_URLS }]);
}

/** TURN_PROVIDER=none: no relay; STUN only if configured; nothing expires. */
export function noTurnIceServers(config: Config): { iceServers: IceServer[]; expiresAt: null } {
  return { iceServers: stunServers(config), expiresAt: null };
}
