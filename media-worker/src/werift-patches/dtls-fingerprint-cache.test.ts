import { createHash, X509Certificate } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { RTCCertificate, RTCDtlsTransport } from 'werift';
import { installFingerprintCache } from './dtls-fingerprint-cache.ts';

describe('DTLS certificate fingerprint memo', () => {
  it('computes a certificate\'s SHA-256 fingerprint once and returns the same value after', async () => {
    const cert = (await (RTCDtlsTransport as unknown as { SetupCertificate(): Promise<RTCCertificate> }).SetupCertificate());
    const expected = createHash('sha256').update(new X509Certificate(cert.certPem).raw).digest('hex').toUpperCase().match(/../g)!.join(':');
    const before = cert.getFingerprints();
    expect(before).toEqual([expect.objectContaining({ algorithm: 'sha-256', value: expected })]);

    const original = RTCCertificate.prototype.getFingerprints;
    const spy = vi.fn(original);
    RTCCertificate.prototype.getFingerprints = spy;
    try {
      installFingerprintCache();
      installFingerprintCache(); // idempotent
      const a = cert.getFingerprints();
      const b = cert.getFingerprints();
      expect(a).toEqual(before);
      expect(b).toEqual(before);
      expect(a).not.toBe(b); // each caller its own array
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      RTCCertificate.prototype.getFingerprints = original;
      delete (RTCCertificate.prototype as unknown as Record<symbol, unknown>)[Symbol.for('switchboard.fingerprintCache')];
    }
  });
});
