import type { IceServer } from '@switchboard/protocol';
import { requireSetting, type Config } from '../config.ts';
import { serverMisconfigured } from '../errors.ts';
import { stunServers } from './none.ts';
import { normalizeIceServers } from './normalize.ts';

/**
 * TURN REST API credentials for a self-hosted coturn (`use-auth-secret` + `static-auth-secret`):
 * username `<expiry unix seconds>:<user>`, credential base64(HMAC-SHA1(secret, username)).
 * coturn reads the expiry from the part before the first `:`, so `user` may contain colons.
 * Minted locally with WebCrypto, so it runs the same in workerd and Node 22+.
 */
export async function coturnIceServers(
  config: Config,
  user: string,
  now: number,
): Promise<{ iceServers: IceServer[]; expiresAt: number }> {
  const secret = requireSetting(config.TURN_SECRET, 'TURN_SECRET');
  if (config.TURN_URLS.length === 0) throw serverMisconfigured('TURN_URLS is not set');
  const expiry = Math.floor(now / 1000) + config.TURN_TTL_S;
  const username = `${expiry}:${user}`;
  const credential = await hmacSha1Base64(secret, username);
  const turn = normalizeIceServers([{ urls: config.TURN_URLS, username, credential }]);
  if (turn.length === 0) throw serverMisconfigured('TURN_URLS has no URL a browser can use (check the form and avoid port 53)');
  // STUN_URLS go in a separate server: STUN needs no credentials.
  return { iceServers: [...turn, ...stunServers(config)], expiresAt: expiry * 1000 };
}

/** base64(HMAC-SHA1(key, message)), both as UTF-8. */
export async function hmacSha1Base64(key: string, message: string): Promise<string> {
  const enc = new TextEncoder();
  const k = await crypto.subtle.importKey('raw', enc.encode(key), { name: 'HMAC', hash: 'SHA-1' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', k, enc.encode(message)));
  let bin = '';
  for (const b of mac) bin += String.fromCharCode(b);
  return btoa(bin);
}
