import { describe, expect, it } from 'vitest';
import { iceCredentials, sdpFragment } from './sdpfrag.ts';

const OFFER = ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=mid:0', 'a=ice-ufrag:abcd', 'a=ice-pwd:0123456789012345678901', ''].join('\r\n');

describe('trickle fragments (RFC 8840)', () => {
  it('carry the offer credentials, the audio mid, the candidates and the end of gathering', () => {
    const creds = iceCredentials(OFFER)!;
    expect(creds).toEqual({ ufrag: 'abcd', pwd: '0123456789012345678901', mid: '0' });
    expect(sdpFragment(creds, ['candidate:1 1 udp 2122260223 192.0.2.1 50000 typ host'], true)).toBe(
      'a=ice-ufrag:abcd\r\na=ice-pwd:0123456789012345678901\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n' +
        'a=candidate:1 1 udp 2122260223 192.0.2.1 50000 typ host\r\na=end-of-candidates\r\n',
    );
  });

  it('an SDP without ICE credentials has none', () => {
    expect(iceCredentials('v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\n')).toBeNull();
  });
});
