import { z } from 'zod';
import type { IceServer } from '@switchboard/protocol';

/**
 * One ICE server as providers send it: `urls` may be a string or an array (RTCIceServer allows
 * both), and Twilio also sends the legacy singular `url`. Unknown keys are stripped.
 */
export const UpstreamIceServer = z
  .object({
    urls: z.union([z.string(), z.array(z.string())]).optional(),
    url: z.string().optional(),
    username: z.string().optional(),
    credential: z.string().optional(),
  })
  .refine((s) => s.urls !== undefined || s.url !== undefined, { message: 'ICE server without urls' });
export type UpstreamIceServer = z.infer<typeof UpstreamIceServer>;

/** `stun:`/`turn:` URIs (RFC 7064, RFC 7065): scheme, host (or [IPv6]), optional port, optional query. */
const ICE_URL = /^(stuns?|turns?):(\[[0-9a-fA-F:.]+\]|[^\s:?/[\]@]+)(?::(\d{1,5}))?(\?transport=(?:udp|tcp))?$/i;

/** Parses an ICE URL; null for anything a browser would refuse to parse. */
export function parseIceUrl(url: string): { scheme: 'stun' | 'stuns' | 'turn' | 'turns'; port: number } | null {
  const m = ICE_URL.exec(url.trim());
  if (!m) return null;
  const scheme = m[1]!.toLowerCase() as 'stun' | 'stuns' | 'turn' | 'turns';
  // Default ports: 3478 for stun/turn, 5349 for the TLS variants (RFC 7064 §3.1, RFC 7065 §3.1).
  const port = m[3] !== undefined ? Number(m[3]) : scheme.endsWith('s') ? 5349 : 3478;
  if (port < 1 || port > 65_535) return null;
  return { scheme, port };
}

/**
 * Whether a browser can use this URL in this server entry. TURN over TCP and over TLS on any other
 * port (`turn:HOST:443?transport=tcp`, `turns:HOST:443?transport=tcp`: what gets through firewalls
 * that allow only TCP 443) passes unchanged. Dropped:
 * - port 53 is refused by browsers (Chromium and Firefox block DNS-port TURN/STUN), and Cloudflare
 *   lists `:53` URLs in its answer, so they are dropped;
 * - `turns:...?transport=udp` (TURN over DTLS) is implemented by neither browsers nor the worker's
 *   ICE agent (werift refuses it);
 * - a malformed URL makes `new RTCPeerConnection` throw SyntaxError for the whole configuration;
 * - a `turn:`/`turns:` URL without username and credential makes it throw InvalidAccessError.
 */
function usable(url: string, hasCredentials: boolean): boolean {
  const parsed = parseIceUrl(url);
  if (!parsed || parsed.port === 53) return false;
  if (parsed.scheme === 'turns' && /\?transport=udp$/i.test(url.trim())) return false;
  if (parsed.scheme.startsWith('turn') && !hasCredentials) return false;
  return true;
}

/**
 * Turns provider entries into the protocol's `IceServer[]`: `urls` always an array, unusable URLs
 * dropped (see `usable`), servers left without a URL dropped, and entries that share the same
 * username and credential merged into one server with duplicate URLs removed (Twilio sends one
 * entry per URL). Order of first appearance is kept, since browsers try servers in order.
 */
export function normalizeIceServers(servers: readonly UpstreamIceServer[]): IceServer[] {
  const merged = new Map<string, { urls: Set<string>; username?: string; credential?: string }>();
  for (const s of servers) {
    const raw = s.urls === undefined ? [s.url ?? ''] : typeof s.urls === 'string' ? [s.urls] : s.urls;
    const hasCredentials = !!s.username && !!s.credential;
    const urls = raw.map((u) => u.trim()).filter((u) => usable(u, hasCredentials));
    if (urls.length === 0) continue;
    const key = JSON.stringify([s.username ?? null, s.credential ?? null]);
    let entry = merged.get(key);
    if (!entry) {
      entry = { urls: new Set() };
      if (s.username !== undefined) entry.username = s.username;
      if (s.credential !== undefined) entry.credential = s.credential;
      merged.set(key, entry);
    }
    for (const u of urls) entry.urls.add(u);
  }
  return [...merged.values()].map((e) => {
    const out: IceServer = { urls: [...e.urls] };
    if (e.username !== undefined) out.username = e.username;
    if (e.credential !== undefined) out.credential = e.credential;
    return out;
  });
}
