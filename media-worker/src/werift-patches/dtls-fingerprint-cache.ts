/**
 * werift's RTCCertificate.getFingerprints parses the certificate's PEM (ASN.1, in JS) and hashes
 * it on every call, and werift calls it on every read of a DTLS transport's localParameters:
 * several times per answer, for a certificate that never changes (werift shares one per process).
 * It was ~5 % of the worker's CPU while answering 20 offers at a time. This memoizes the result
 * per certificate object; each caller gets its own array of the same fingerprint values.
 */
import { RTCCertificate } from 'werift';

const PATCHED = Symbol.for('switchboard.fingerprintCache');

interface CertificateProto {
  getFingerprints(this: object): unknown[];
  [PATCHED]?: true;
}

/** Installs the memo once per process (idempotent); throws if werift's shape is not the expected one. */
export function installFingerprintCache(): void {
  const proto = RTCCertificate.prototype as unknown as CertificateProto;
  if (proto[PATCHED]) return;
  const original = proto.getFingerprints;
  if (typeof original !== 'function') throw new Error('werift RTCCertificate.getFingerprints not found: the fingerprint cache needs updating');
  const cache = new WeakMap<object, unknown[]>();
  proto.getFingerprints = function getFingerprints(this: object): unknown[] {
    let fingerprints = cache.get(this);
    if (!fingerprints) {
      fingerprints = original.call(this);
      cache.set(this, fingerprints);
    }
    return fingerprints.slice();
  };
  proto[PATCHED] = true;
}
