import type { IceServer } from '@switchboard/protocol';

/**
 * werift asks a STUN server for a server-reflexive candidate whenever it gathers, and with no
 * `stun:` URL among its ICE servers it asks Google's public one (stun.l.google.com:19302, hard-wired
 * in werift): a DNS lookup and a packet to a third party on every answer, and up to 5 s more
 * gathering (an answer's whole gathering limit) where that name does not resolve promptly or the
 * request gets no reply, as in a network without DNS or egress. A TURN server answers STUN Binding
 * requests on its own address (RFC 8656), so when TURN servers are given and no STUN server, the
 * first `turn:` server over UDP is added as the STUN server too.
 */
export function withStunFromTurn(servers: IceServer[]): IceServer[] {
  const urls = servers.flatMap((s) => s.urls);
  if (urls.some((u) => /^stuns?:/i.test(u))) return servers;
  const turn = urls.find((u) => /^turn:/i.test(u) && !/[?&]transport=tcp\b/i.test(u));
  if (!turn) return servers;
  return [...servers, { urls: [`stun:${turn.slice('turn:'.length).split('?')[0]}`] }];
}
