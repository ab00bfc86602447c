/**
 * The body of a WHIP trickle PATCH (`application/trickle-ice-sdpfrag`, RFC 8840): the offer's ICE
 * credentials, then the audio section's `a=mid` and the new candidates, or `a=end-of-candidates`
 * once gathering is complete.
 */
export interface IceCredentials {
  ufrag: string;
  pwd: string;
  mid: string;
}

export function iceCredentials(sdp: string): IceCredentials | null {
  const ufrag = /^a=ice-ufrag:(\S+)/m.exec(sdp)?.[1];
  const pwd = /^a=ice-pwd:(\S+)/m.exec(sdp)?.[1];
  const mid = /^a=mid:(\S+)/m.exec(sdp)?.[1];
  return ufrag && pwd && mid ? { ufrag, pwd, mid } : null;
}

/** `candidates` are `candidate:...` strings (RTCIceCandidate.candidate). */
export function sdpFragment(creds: IceCredentials, candidates: readonly string[], end: boolean): string {
  const lines = [`a=ice-ufrag:${creds.ufrag}`, `a=ice-pwd:${creds.pwd}`, 'm=audio 9 UDP/TLS/RTP/SAVPF 0', `a=mid:${creds.mid}`];
  for (const c of candidates) lines.push(`a=${c}`);
  if (end) lines.push('a=end-of-candidates');
  return lines.join('\r\n') + '\r\n';
}
