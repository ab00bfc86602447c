import { describe, expect, it } from 'vitest';
import { keepHostCandidatesOn, onlyFromInterface } from './host-candidates.ts';

const sdp = [
  'v=0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'a=candidate:1 1 udp 2116026367 127.0.0.1 56134 typ host generation 0',
  'a=candidate:2 1 udp 2116026367 192.0.2.2 43530 typ host generation 0',
  'a=candidate:3 1 udp 1677729535 127.0.0.2 50001 typ relay raddr 0.0.0.0 rport 0',
  'a=end-of-candidates',
  '',
].join('\r\n');

describe('pinning WebRTC to one interface', () => {
  it('drops host candidates on other addresses and keeps relayed ones', () => {
    const out = keepHostCandidatesOn(sdp, '127.0.0.1');
    expect(out).toContain('127.0.0.1 56134 typ host');
    expect(out).not.toContain('192.0.2.2');
    expect(out).toContain('typ relay');
    expect(out.endsWith('\r\n')).toBe(true);
    expect(keepHostCandidatesOn(sdp, '')).toBe(sdp);
  });

  it('lets only pairs from that address, or not from a host candidate, be checked', () => {
    const allow = onlyFromInterface('127.0.0.1');
    expect(allow({ localCandidate: { type: 'host', host: '127.0.0.1' } })).toBe(true);
    expect(allow({ localCandidate: { type: 'host', host: '192.0.2.2' } })).toBe(false);
    expect(allow({ localCandidate: { type: 'relay', host: '127.0.0.2' } })).toBe(true);
  });
});
