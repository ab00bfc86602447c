/**
 * SRTP key objects for werift: its ciphers (AES-CM + HMAC-SHA1 and AES-GCM) build a Node cipher or
 * HMAC for every packet from raw key Buffers, and Node imports a raw key into a new KeyObject on
 * each of those calls (getKeyObjectSlots was ~12 % of the worker's busy time at 20 echo sessions).
 * Handing them KeyObjects made once per session does the same cryptography at a third of the cost
 * (15.7 -> 5.2 us per GCM packet, 28.6 -> 9.5 us per AES-CM + HMAC packet, microbenchmark).
 *
 * werift 0.25.2 does not export its cipher classes; every SRTP and SRTCP session derives its
 * session keys in `Session.start` (the shared base of the exported SrtpSession and SrtcpSession),
 * so that method is wrapped: after it ran, the four keys of both contexts' ciphers are replaced by
 * KeyObjects of the same bytes. The keys are only ever passed to createCipheriv/createDecipheriv/
 * createHmac, which accept KeyObjects. Salts stay Buffers (the IV is computed from their bytes).
 */
import { createSecretKey, type KeyObject } from 'node:crypto';
import { SrtcpSession, SrtpSession } from 'werift';

const KEY_FIELDS = ['srtpSessionKey', 'srtcpSessionKey', 'srtpSessionAuthTag', 'srtcpSessionAuthTag'] as const;
const PATCHED = Symbol.for('switchboard.srtpKeyObjects');

type Cipher = Partial<Record<(typeof KEY_FIELDS)[number], Buffer | KeyObject>>;
interface SessionLike {
  localContext?: { cipher?: Cipher };
  remoteContext?: { cipher?: Cipher };
}
type StartFn = (this: SessionLike, ...args: unknown[]) => void;

function toKeyObjects(cipher: Cipher | undefined): void {
  if (!cipher) return;
  for (const f of KEY_FIELDS) {
    const k = cipher[f];
    if (Buffer.isBuffer(k) && k.length > 0) cipher[f] = createSecretKey(k);
  }
}

/**
 * Installs the wrapper once per process (idempotent). Throws if werift's shape is not the one
 * this was written for, so an upgrade that moves things fails loudly in tests instead of silently
 * losing the speed-up.
 */
export function installSrtpKeyObjects(): void {
  const base: unknown = Object.getPrototypeOf(SrtpSession.prototype);
  if (base !== Object.getPrototypeOf(SrtcpSession.prototype) || typeof base !== 'object' || base === null) {
    throw new Error('werift: SrtpSession and SrtcpSession no longer share a base class (werift-patches/srtp-key-objects.ts)');
  }
  const proto = base as { start?: StartFn; [PATCHED]?: true };
  if (proto[PATCHED]) return;
  const start = proto.start;
  if (typeof start !== 'function') throw new Error('werift: the SRTP session base class has no start() (werift-patches/srtp-key-objects.ts)');
  proto.start = function startWithKeyObjects(this: SessionLike, ...args: unknown[]): void {
    start.apply(this, args);
    toKeyObjects(this.localContext?.cipher);
    toKeyObjects(this.remoteContext?.cipher);
  };
  proto[PATCHED] = true;
}

/** Whether a session's ciphers hold KeyObjects (what the tests check). */
export function usesKeyObjects(session: object): boolean {
  const s = session as SessionLike;
  const ciphers = [s.localContext?.cipher, s.remoteContext?.cipher];
  return ciphers.every((c) => c !== undefined && c.srtpSessionKey !== undefined && !Buffer.isBuffer(c.srtpSessionKey));
}
