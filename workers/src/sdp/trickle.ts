import type { TrickleCandidate } from '@switchboard/protocol';
import { badRequest } from '../errors.ts';

export interface TrickleFragment {
  ufrag?: string;
  pwd?: string;
  candidates: TrickleCandidate[];
  endOfCandidates: boolean;
}

/**
 * Parses an `application/trickle-ice-sdpfrag` body (RFC 8840): optional ICE credentials, then
 * per media section an `m=` line, `a=mid`, `a=candidate` lines and `a=end-of-candidates`.
 */
export function parseTrickleFragment(body: string): TrickleFragment {
  const out: TrickleFragment = { candidates: [], endOfCandidates: false };
  let mid: string | null = null;
  for (const line of body.split(/\r?\n/)) {
    if (line === '') continue;
    if (line.startsWith('a=ice-ufrag:')) out.ufrag = line.slice(12).trim();
    else if (line.startsWith('a=ice-pwd:')) out.pwd = line.slice(10).trim();
    else if (line.startsWith('m=')) mid = null;
    else if (line.startsWith('a=mid:')) mid = line.slice(6).trim();
    else if (line.startsWith('a=candidate:')) {
      const candidate = line.slice(2);
      if (!/^candidate:\S+ \d+ \S+ \d+ \S+ \d+ typ \S+/.test(candidate))
        throw badRequest(`malformed candidate: ${candidate.slice(0, 80)}`, 'bad_sdpfrag');
      out.candidates.push({ mid, candidate });
    } else if (line === 'a=end-of-candidates') out.endOfCandidates = true;
    else if (/^[a-z]=/.test(line)) continue; // other SDP lines (a=group, c=, ...) carry nothing the worker needs
    else throw badRequest(`malformed sdpfrag line: ${line.slice(0, 80)}`, 'bad_sdpfrag');
  }
  if (out.candidates.length === 0 && !out.endOfCandidates && out.ufrag === undefined)
    throw badRequest('sdpfrag carries no candidate', 'bad_sdpfrag');
  return out;
}
