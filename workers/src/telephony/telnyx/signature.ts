import { serverMisconfigured } from '../../errors.ts';

/**
 * Telnyx webhook signatures, as Telnyx documents them and as its SDKs check them (telnyx-node's
 * `TelnyxWebhook.verify`): an Ed25519 signature, base64 in `telnyx-signature-ed25519`, over the
 * UTF-8 bytes of `${telnyx-timestamp}|${raw body}`, where `telnyx-timestamp` is Unix seconds and
 * the body is exactly the bytes received (never a re-serialisation). The key is the account's
 * public key (Mission Control, Keys & Credentials), base64 of the raw 32-byte Ed25519 key. A
 * timestamp more than 300 s from now, either way, is refused: the SDKs' replay window.
 *
 * WebCrypto only (`crypto.subtle` Ed25519), no `node:` imports: this runs in workerd and Node 22+.
 */

export const SIGNATURE_HEADER = 'telnyx-signature-ed25519';
export const TIMESTAMP_HEADER = 'telnyx-timestamp';
/** Largest |now - telnyx-timestamp| accepted, in seconds. */
export const TOLERANCE_S = 300;

const PUBLIC_KEY_BYTES = 32;
const SIGNATURE_BYTES = 64;

export type TelnyxVerdict = { ok: true } | { ok: false; why: string };

const utf8 = new TextEncoder();

/**
 * Strict padded base64 (standard alphabet), as the SDK decodes it: no whitespace, no URL-safe
 * characters, length a multiple of 4. `atob` alone would also accept missing padding and spaces.
 */
function decodeBase64(value: string): Uint8Array<ArrayBuffer> | null {
  if (value.length === 0 || value.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) return null;
  let bin: string;
  try {
    bin = atob(value);
  } catch {
    return null;
  }
  return Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
}

/**
 * The configured public key's 32 bytes. A missing or malformed key is the edge's misconfiguration
 * (a 500 naming TELNYX_PUBLIC_KEY), not a forged request: every webhook would otherwise be refused
 * as if Telnyx had signed it wrongly.
 */
function publicKeyBytes(publicKeyBase64: string): Uint8Array<ArrayBuffer> {
  if (!publicKeyBase64) throw serverMisconfigured('TELNYX_PUBLIC_KEY is not set');
  const bytes = decodeBase64(publicKeyBase64.trim());
  if (!bytes) throw serverMisconfigured('TELNYX_PUBLIC_KEY is not valid base64');
  if (bytes.length !== PUBLIC_KEY_BYTES) {
    throw serverMisconfigured(`TELNYX_PUBLIC_KEY must be a raw ${PUBLIC_KEY_BYTES}-byte Ed25519 key (got ${bytes.length} bytes)`);
  }
  return bytes;
}

/** `${timestamp}|` followed by the body's bytes (a string body is taken as its UTF-8 bytes). */
function signedBytes(timestamp: string, rawBody: string | Uint8Array): Uint8Array<ArrayBuffer> {
  const prefix = utf8.encode(`${timestamp}|`);
  const body = typeof rawBody === 'string' ? utf8.encode(rawBody) : rawBody;
  const out = new Uint8Array(prefix.length + body.length);
  out.set(prefix, 0);
  out.set(body, prefix.length);
  return out;
}

/**
 * Checks one webhook: both headers present, the timestamp all ASCII digits and within
 * TOLERANCE_S of `nowMs`, the signature 64 bytes of strict base64, and Ed25519 over
 * `${timestamp}|${rawBody}` under the configured key (checked in that order, the SDK's).
 * Throws an `HttpError` 500 only when the configured key itself is unusable.
 */
export async function verifyTelnyxSignature(
  publicKeyBase64: string,
  headers: { get(name: string): string | null | undefined },
  rawBody: string | Uint8Array,
  nowMs: number,
): Promise<TelnyxVerdict> {
  const key = publicKeyBytes(publicKeyBase64);

  const signatureHeader = headers.get(SIGNATURE_HEADER) ?? '';
  const timestamp = headers.get(TIMESTAMP_HEADER) ?? '';
  if (signatureHeader === '') return { ok: false, why: `missing ${SIGNATURE_HEADER} header` };
  if (timestamp === '') return { ok: false, why: `missing ${TIMESTAMP_HEADER} header` };

  if (!/^[0-9]{1,15}$/.test(timestamp)) return { ok: false, why: `malformed ${TIMESTAMP_HEADER} header` };
  const skew = Math.floor(nowMs / 1000) - Number(timestamp);
  if (skew > TOLERANCE_S) return { ok: false, why: `${TIMESTAMP_HEADER} is ${skew} s old (at most ${TOLERANCE_S} s allowed)` };
  if (skew < -TOLERANCE_S) return { ok: false, why: `${TIMESTAMP_HEADER} is ${-skew} s in the future (at most ${TOLERANCE_S} s allowed)` };

  const signature = decodeBase64(signatureHeader);
  if (!signature) return { ok: false, why: `${SIGNATURE_HEADER} is not valid base64` };
  if (signature.length !== SIGNATURE_BYTES) {
    return { ok: false, why: `${SIGNATURE_HEADER} must decode to ${SIGNATURE_BYTES} bytes (got ${signature.length})` };
  }

  let cryptoKey: CryptoKey;
  try {
    cryptoKey = await crypto.subtle.importKey('raw', key, { name: 'Ed25519' }, false, ['verify']);
  } catch {
    throw serverMisconfigured('TELNYX_PUBLIC_KEY is not a usable Ed25519 public key');
  }
  let valid = false;
  try {
    valid = await crypto.subtle.verify({ name: 'Ed25519' }, cryptoKey, signature, signedBytes(timestamp, rawBody));
  } catch {
    // A signature the implementation cannot even process is simply not Telnyx's.
  }
  return valid ? { ok: true } : { ok: false, why: 'invalid Telnyx signature' };
}
