import { z } from 'zod';
import type { IceServer } from '@switchboard/protocol';
import { requireSetting, type Config } from '../config.ts';
import { badGateway } from '../errors.ts';
import { normalizeIceServers, UpstreamIceServer } from './normalize.ts';
import { callProvider } from './upstream.ts';

/** Twilio's documented maximum (and default) token lifetime: 24 hours. */
const TWILIO_MAX_TTL_S = 86_400;

/**
 * Network Traversal Service token. Entries carry `urls` as a string plus the legacy `url`; `ttl`
 * comes back as a string of seconds. Other fields (account_sid, dates, username, password) are unused.
 */
const TwilioToken = z.object({
  ice_servers: z.array(UpstreamIceServer).min(1),
  ttl: z.union([z.string(), z.number()]).optional(),
});

/**
 * Mints credentials with Twilio's Network Traversal Service:
 * `POST {base}/2010-04-01/Accounts/{AccountSid}/Tokens.json`, HTTP Basic AccountSid:AuthToken,
 * form body `Ttl=<seconds>`; documented answer 201.
 */
export async function twilioIceServers(
  config: Config,
  fetchFn: typeof fetch,
  now: number,
  timeoutMs: number,
): Promise<{ iceServers: IceServer[]; expiresAt: number }> {
  const sid = requireSetting(config.TWILIO_ACCOUNT_SID, 'TWILIO_ACCOUNT_SID');
  const authToken = requireSetting(config.TWILIO_AUTH_TOKEN, 'TWILIO_AUTH_TOKEN');
  const base = config.TWILIO_API_BASE.replace(/\/+$/, '');
  // Twilio refuses a Ttl above 24 h; TURN_TTL_S may be up to 48 h for other providers.
  const ttl = Math.min(config.TURN_TTL_S, TWILIO_MAX_TTL_S);
  const basic = btoa(`${sid}:${authToken}`);
  const answer = await callProvider({
    provider: 'twilio',
    url: `${base}/2010-04-01/Accounts/${encodeURIComponent(sid)}/Tokens.json`,
    init: {
      method: 'POST',
      headers: {
        Authorization: `Basic ${basic}`,
        'Content-Type': 'application/x-www-form-urlencoded',
        Accept: 'application/json',
      },
      body: new URLSearchParams({ Ttl: String(ttl) }).toString(),
    },
    schema: TwilioToken,
    secrets: [authToken, basic],
    fetchFn,
    timeoutMs,
  });
  const iceServers = normalizeIceServers(answer.ice_servers);
  if (iceServers.length === 0) throw badGateway('TURN provider twilio answered no ICE server a browser can use');
  // Trust the lifetime Twilio reports when it is a sane number no longer than asked for.
  const reported = Number(answer.ttl);
  const lifeS = Number.isFinite(reported) && reported > 0 ? Math.min(reported, ttl) : ttl;
  return { iceServers, expiresAt: now + lifeS * 1000 };
}
