import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ProtectionProfileAeadAes128Gcm, ProtectionProfileAes128CmHmacSha1_80, SrtpSession } from 'werift';
import { rtpHeaderBytes, SrtpGcmReceiver, type SrtpRemoteContextLike } from './srtp-gcm-receive.ts';
import { installSrtpKeyObjects } from '../../werift-patches/srtp-key-objects.ts';

installSrtpKeyObjects();

const SSRC = 0x1234abcd;

/** A sending and a receiving werift SRTP session over the same fresh keys. */
function sessions(profile: number = ProtectionProfileAeadAes128Gcm) {
  const gcm = profile === ProtectionProfileAeadAes128Gcm;
  const k1 = randomBytes(16), s1 = randomBytes(gcm ? 12 : 14), k2 = randomBytes(16), s2 = randomBytes(gcm ? 12 : 14);
  const make = (lk: Buffer, ls: Buffer, rk: Buffer, rs: Buffer) =>
    new SrtpSession({ keys: { localMasterKey: lk, localMasterSalt: ls, remoteMasterKey: rk, remoteMasterSalt: rs }, profile } as ConstructorParameters<typeof SrtpSession>[0]);
  const sender = make(k1, s1, k2, s2);
  // Two receivers with the same keys: one decrypts through werift, the other through ours.
  const viaWerift = make(k2, s2, k1, s1);
  const viaOurs = make(k2, s2, k1, s1);
  return { sender, viaWerift, viaOurs, ctx: viaOurs.remoteContext as unknown as SrtpRemoteContextLike };
}

/** An RTP header: 12 bytes plus optional CSRCs, a one-word extension, and the padding bit. */
function header(seq: number, ts: number, o: { csrcs?: number; extension?: boolean; padding?: boolean } = {}): Buffer {
  const csrcs = o.csrcs ?? 0;
  const h = Buffer.alloc(12 + 4 * csrcs + (o.extension ? 8 : 0));
  h[0] = 0x80 | (o.padding ? 0x20 : 0) | (o.extension ? 0x10 : 0) | csrcs;
  h[1] = 111;
  h.writeUInt16BE(seq, 2);
  h.writeUInt32BE(ts >>> 0, 4);
  h.writeUInt32BE(SSRC, 8);
  for (let i = 0; i < csrcs; i++) h.writeUInt32BE(0x1000 + i, 12 + 4 * i);
  if (o.extension) {
    const at = 12 + 4 * csrcs;
    h.writeUInt16BE(0xbede, at);
    h.writeUInt16BE(1, at + 2);
    h.writeUInt32BE(0x10ff0000, at + 4);
  }
  return h;
}

function encrypt(s: SrtpSession, hdr: Buffer, payload: Buffer): Buffer {
  const seq = hdr.readUInt16BE(2);
  return s.localContext.encryptRtp(payload, { ssrc: SSRC, sequenceNumber: seq, serializeSize: hdr.length, serialize: () => hdr } as never);
}

describe('SRTP AES-GCM receive (RFC 7714) beside werift', () => {
  it('decrypts what werift encrypts, with the same payload and rollover state as werift decrypting it', () => {
    const { sender, viaWerift, viaOurs, ctx } = sessions();
    const rx = SrtpGcmReceiver.from(ctx)!;
    expect(rx).not.toBeNull();
    // Across the 16-bit wrap: the rollover counter must step to 1 on both.
    const seqs = [65530, 65531, 65532, 65533, 65534, 65535, 0, 1, 2, 3];
    seqs.forEach((seq, i) => {
      const payload = randomBytes(60 + i);
      const packet = encrypt(sender, header(seq, 960 * i), payload);
      const [dec, h] = viaWerift.remoteContext.decryptRtp(packet);
      expect(dec.subarray(h.payloadOffset)).toEqual(payload);
      if (i === 0) {
        // werift takes an SSRC's first packet (it creates the state); ours does not know it yet.
        expect(rx.knows(SSRC)).toBe(false);
        expect(rx.decrypt(packet)).toBeNull();
        viaOurs.remoteContext.decryptRtp(packet);
        expect(rx.knows(SSRC)).toBe(true);
        return;
      }
      const got = rx.decrypt(packet)!;
      expect(got).not.toBeNull();
      expect(got.payload).toEqual(payload);
      expect([got.sequenceNumber, got.timestamp, got.ssrc, got.headerBytes]).toEqual([seq, 960 * i, SSRC, 12]);
    });
    const ours = ctx.srtpSSRCStates![SSRC]!;
    const theirs = (viaWerift.remoteContext as unknown as SrtpRemoteContextLike).srtpSSRCStates![SSRC]!;
    expect(ours.rolloverCounter).toBe(1);
    expect({ ...ours }).toEqual({ ...theirs });
  });

  it('finds the payload after CSRCs and a header extension, and strips padding', () => {
    const { sender, viaOurs, ctx } = sessions();
    viaOurs.remoteContext.decryptRtp(encrypt(sender, header(1, 0), randomBytes(20)));
    const rx = SrtpGcmReceiver.from(ctx)!;
    const payload = randomBytes(40);
    const padded = Buffer.concat([payload, Buffer.from([0, 0, 3])]);
    const hdr = header(2, 960, { csrcs: 2, extension: true, padding: true });
    const got = rx.decrypt(encrypt(sender, hdr, padded))!;
    expect(got.headerBytes).toBe(12 + 8 + 8);
    expect(got.payload).toEqual(payload);
  });

  it('drops a tampered packet and leaves the rollover state as it was', () => {
    const { sender, viaOurs, ctx } = sessions();
    viaOurs.remoteContext.decryptRtp(encrypt(sender, header(65535, 0), randomBytes(20)));
    const rx = SrtpGcmReceiver.from(ctx)!;
    const before = { ...ctx.srtpSSRCStates![SSRC]! };
    const packet = encrypt(sender, header(0, 960), randomBytes(50)); // would step the rollover counter
    for (const at of [1, 14, packet.length - 1]) {
      const bad = Buffer.from(packet);
      bad[at]! ^= 0x01;
      expect(rx.decrypt(bad)).toBeNull();
      expect({ ...ctx.srtpSSRCStates![SSRC]! }).toEqual(before);
    }
    expect(rx.decrypt(packet.subarray(0, 20))).toBeNull(); // shorter than header + tag
    expect(rx.decrypt(packet)!.sequenceNumber).toBe(0);
    expect(ctx.srtpSSRCStates![SSRC]!.rolloverCounter).toBe(1);
  });

  it('is not used for the AES-CM + HMAC profile (werift decrypts those)', () => {
    const { ctx } = sessions(ProtectionProfileAes128CmHmacSha1_80);
    expect(SrtpGcmReceiver.from(ctx)).toBeNull();
    expect(SrtpGcmReceiver.from(undefined)).toBeNull();
  });

  it('measures header length from CC, X and the extension length; -1 when truncated', () => {
    expect(rtpHeaderBytes(header(1, 1))).toBe(12);
    expect(rtpHeaderBytes(header(1, 1, { csrcs: 3 }))).toBe(24);
    expect(rtpHeaderBytes(header(1, 1, { extension: true }))).toBe(20);
    expect(rtpHeaderBytes(header(1, 1, { extension: true }).subarray(0, 18))).toBe(-1);
    expect(rtpHeaderBytes(Buffer.alloc(11))).toBe(-1);
    expect(rtpHeaderBytes(Buffer.from([0x40, ...Buffer.alloc(11)]))).toBe(-1); // version 1
  });
});
