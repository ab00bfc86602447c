import { randomBytes } from 'node:crypto';
import { RtcpRrPacket, RtpHeader, SrtcpSession, SrtpSession } from 'werift';
import { describe, expect, it } from 'vitest';
import { installSrtpKeyObjects, usesKeyObjects } from './srtp-key-objects.ts';

// werift's DTLS-SRTP protection profile numbers (RFC 5764 / RFC 7714 ids).
const PROFILES = { 'AES_CM_128_HMAC_SHA1_80': 1, 'AEAD_AES_128_GCM': 7 } as const;

function keys() {
  const [a, b, c, d] = [randomBytes(16), randomBytes(14), randomBytes(16), randomBytes(14)];
  // One side's local keys are the other side's remote keys.
  return {
    mine: { localMasterKey: a, localMasterSalt: b, remoteMasterKey: c, remoteMasterSalt: d },
    theirs: { localMasterKey: c, localMasterSalt: d, remoteMasterKey: a, remoteMasterSalt: b },
  };
}

function rtpHeader(seq: number) {
  return new RtpHeader({ payloadType: 111, sequenceNumber: seq, timestamp: seq * 960, ssrc: 0x1234abcd, marker: false });
}

describe('SRTP with KeyObjects (srtp-key-objects)', () => {
  // Sessions made before installation keep werift's own Buffer keys: the reference output.
  const before = Object.entries(PROFILES).map(([name, profile]) => {
    const k = keys();
    return { name, profile, k, rtp: new SrtpSession({ keys: k.mine, profile }), rtcp: new SrtcpSession({ keys: k.mine, profile }) };
  });
  installSrtpKeyObjects();
  installSrtpKeyObjects(); // idempotent: the wrapper is not stacked

  for (const ref of before) {
    it(`${ref.name}: the same bytes as werift's own keys, and the peer decrypts them`, () => {
      expect(usesKeyObjects(ref.rtp)).toBe(false);
      const rtp = new SrtpSession({ keys: ref.k.mine, profile: ref.profile });
      const rtcp = new SrtcpSession({ keys: ref.k.mine, profile: ref.profile });
      const peerRtp = new SrtpSession({ keys: ref.k.theirs, profile: ref.profile });
      const peerRtcp = new SrtcpSession({ keys: ref.k.theirs, profile: ref.profile });
      expect(usesKeyObjects(rtp)).toBe(true);
      expect(usesKeyObjects(rtcp)).toBe(true);

      for (let seq = 65530; seq < 65540; seq++) {
        // Crosses the 16-bit wrap: the rollover counter enters the IV / the auth tag.
        const payload = randomBytes(60 + (seq % 7));
        const expected = ref.rtp.encrypt(payload, rtpHeader(seq & 0xffff));
        const got = rtp.encrypt(payload, rtpHeader(seq & 0xffff));
        expect(got.equals(expected)).toBe(true);
        const plain = peerRtp.decrypt(got);
        expect(plain.subarray(plain.length - payload.length).equals(payload)).toBe(true);
      }

      const rr = new RtcpRrPacket({ ssrc: 42, reports: [] }).serialize();
      const expectedRtcp = ref.rtcp.encrypt(rr);
      const gotRtcp = rtcp.encrypt(rr);
      expect(gotRtcp.equals(expectedRtcp)).toBe(true);
      expect(peerRtcp.decrypt(gotRtcp).equals(rr)).toBe(true);
    });
  }

  it('a tampered packet is still rejected', () => {
    const k = keys();
    const tx = new SrtpSession({ keys: k.mine, profile: PROFILES.AES_CM_128_HMAC_SHA1_80 });
    const rx = new SrtpSession({ keys: k.theirs, profile: PROFILES.AES_CM_128_HMAC_SHA1_80 });
    const packet = tx.encrypt(randomBytes(50), rtpHeader(1));
    packet[20] = (packet[20] ?? 0) ^ 0xff;
    expect(() => rx.decrypt(packet)).toThrow(/authenticate/i);
  });
});
