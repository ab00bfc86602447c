import { badRequest } from '../errors.ts';

/** What the edge needs to know of a WHIP offer. */
export interface OfferInfo {
  ufrag: string;
  hasDataChannel: boolean;
}

const LINE = /^[a-z]=.*$/;

/**
 * Checks that a body is an SDP offer a worker can answer: well-formed lines, an audio m-line,
 * ICE credentials and a DTLS fingerprint (session or media level). Throws 400 naming what is wrong.
 */
export function validateOffer(sdp: string): OfferInfo {
  const lines = sdp.split(/\r?\n/).filter((l) => l !== '');
  if (lines[0] !== 'v=0') throw badRequest('SDP offer must start with v=0', 'bad_sdp');
  for (const l of lines) if (!LINE.test(l)) throw badRequest(`SDP line is malformed: ${l.slice(0, 80)}`, 'bad_sdp');
  const media = lines.filter((l) => l.startsWith('m='));
  if (!media.some((l) => /^m=audio \d+ [A-Z/]+ [\d ]+$/.test(l))) throw badRequest('SDP offer has no audio m-line', 'bad_sdp');
  const attr = (name: string) => lines.find((l) => l.startsWith(`a=${name}:`))?.slice(name.length + 3).trim();
  const ufrag = attr('ice-ufrag');
  const pwd = attr('ice-pwd');
  if (!ufrag || !/^[A-Za-z0-9+/]{4,256}$/.test(ufrag)) throw badRequest('SDP offer has no valid a=ice-ufrag', 'bad_sdp');
  if (!pwd || !/^[A-Za-z0-9+/]{22,256}$/.test(pwd)) throw badRequest('SDP offer has no valid a=ice-pwd', 'bad_sdp');
  const fp = attr('fingerprint');
  if (!fp || !/^(sha-1|sha-224|sha-256|sha-384|sha-512) ([0-9A-Fa-f]{2}:)+[0-9A-Fa-f]{2}$/i.test(fp))
    throw badRequest('SDP offer has no valid a=fingerprint (DTLS)', 'bad_sdp');
  return { ufrag, hasDataChannel: media.some((l) => l.startsWith('m=application ')) };
}
