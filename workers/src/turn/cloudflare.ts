import { z } from 'zod';
import type { IceServer } from '@switchboard/protocol';
import { requireSetting, type Config } from '../config.ts';
import { badGateway } from '../errors.ts';
import { normalizeIceServers, UpstreamIceServer } from './normalize.ts';
import { callProvider } from './upstream.ts';

/**
 * Cloudflare Realtime TURN answer. `generate-ice-servers` returns `iceServers` as an array (one
 * STUN entry, one TURN entry with credentials); the older `credentials/generate` endpoint returned
 * a single object. Both are accepted.
 */
const CloudflareAnswer = z.object({
  iceServers: z.union([z.array(UpstreamIceServer).min(1), UpstreamIceServer]),
});

/**
 * Mints credentials with a Cloudflare TURN key:
 * `POST {base}/v1/turn/keys/{keyId}/credentials/generate-ice-servers`, Bearer key API token,
 * JSON body `{"ttl": seconds}`; documented answer 201.
 */
export async function cloudflareIceServers(
  config: Config,
  fetchFn: typeof fetch,
  now: number,
  timeoutMs: number,
): Promise<{ iceServers: IceServer[]; expiresAt: number }> {
  const keyId = requireSetting(config.CLOUDFLARE_TURN_KEY_ID, 'CLOUDFLARE_TURN_KEY_ID');
  const token = requireSetting(config.CLOUDFLARE_TURN_KEY_API_TOKEN, 'CLOUDFLARE_TURN_KEY_API_TOKEN');
  const base = config.CLOUDFLARE_TURN_API_BASE.replace(/\/+$/, '');
  const answer = await callProvider({
    provider: 'cloudflare',
    url: `${base}/v1/turn/keys/${encodeURIComponent(keyId)}/credentials/generate-ice-servers`,
    init: {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ ttl: config.TURN_TTL_S }),
    },
    schema: CloudflareAnswer,
    secrets: [token],
    fetchFn,
    timeoutMs,
  });
  const raw = Array.isArray(answer.iceServers) ? answer.iceServers : [answer.iceServers];
  const iceServers = normalizeIceServers(raw);
  if (iceServers.length === 0) throw badGateway('TURN provider cloudflare answered no ICE server a browser can use');
  // Cloudflare does not echo the TTL; the credential lives TURN_TTL_S from (at latest) now.
  return { iceServers, expiresAt: now + config.TURN_TTL_S * 1000 };
}
