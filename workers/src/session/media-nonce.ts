import type { SessionRecord } from './record.ts';

/**
 * A stream's credential is single-use: only the nonce of the media token the session minted last
 * (for the provider answer it gave last) attaches a stream, and only once. Returns why not, or null.
 */
export function verifyMediaNonce(rec: SessionRecord, nonce: string | null): string | null {
  if (!rec.mediaNonce || nonce !== rec.mediaNonce || rec.mediaNonceUsed) return 'stream token already used or superseded';
  return null;
}
