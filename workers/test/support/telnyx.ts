import { SELF } from 'cloudflare:test';
import { randomHex, unescapeXml } from './media.ts';

/**
 * Telnyx's side of the edge in tests: webhooks signed as Telnyx signs them (Ed25519 over
 * `${telnyx-timestamp}|${raw body}`) and its media stream's upgrade.
 *
 * The signing key is RFC 8032's test vector 1 (section 7.1, "TEST 1"): a published key pair, so the
 * Worker's TELNYX_PUBLIC_KEY binding (vitest.config.ts) is known before it starts and no secret
 * sits in the repository.
 */
const RFC8032_TEST1_SECRET = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
/** The DER prefix that wraps a raw 32-byte Ed25519 secret as PKCS #8 (RFC 8410). */
const PKCS8_ED25519_PREFIX = '302e020100300506032b657004220420';

const hexBytes = (hex: string) => Uint8Array.from(hex.match(/../g)!, (h) => parseInt(h, 16));

/** The private key whose public half the edge trusts. */
export function telnyxSigningKey(): Promise<CryptoKey> {
  return crypto.subtle.importKey('pkcs8', hexBytes(PKCS8_ED25519_PREFIX + RFC8032_TEST1_SECRET), { name: 'Ed25519' }, false, ['sign']);
}

/** A key Telnyx never had (a forger's). */
export async function foreignKey(): Promise<CryptoKey> {
  const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify'])) as CryptoKeyPair;
  return pair.privateKey;
}

/** A TeXML call id as Telnyx shapes it (`v3:` + an opaque id). */
export const telnyxCallSid = () => `v3:${randomHex(16)}`;

/** The fields of a TeXML instruction fetch (a realistic subset). */
export function telnyxForm(callSid: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    AccountSid: 'acct-0000',
    ApiVersion: '2010-04-01',
    CallSid: callSid,
    CallSidLegacy: 'v3:legacy',
    ConnectionId: '1234567890',
    From: '+15557654321',
    To: '+15550001111',
    CallStatus: 'ringing',
    Direction: 'inbound',
    ...extra,
  };
}

/**
 * POSTs a form to `path` signed as Telnyx signs it. `ageS` backdates the timestamp; `key` signs
 * with another key; `tamper` changes the body after signing.
 */
export async function postTelnyx(path: string, form: Record<string, string>, opts: { ageS?: number; key?: CryptoKey; tamper?: boolean } = {}) {
  const body = new URLSearchParams(form).toString();
  const timestamp = String(Math.floor(Date.now() / 1000) - (opts.ageS ?? 0));
  const key = opts.key ?? (await telnyxSigningKey());
  const sig = new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, key, new TextEncoder().encode(`${timestamp}|${body}`)));
  const sent = opts.tamper ? new URLSearchParams({ ...form, From: '+10000000000' }).toString() : body;
  return SELF.fetch(`http://edge.test${path}`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      'telnyx-signature-ed25519': btoa(String.fromCharCode(...sig)),
      'telnyx-timestamp': timestamp,
    },
    body: sent,
  });
}

/** The `<Stream url>` of a TeXML document, unescaped. */
export function texmlStreamUrl(xml: string): string | undefined {
  const m = /<Stream url="([^"]+)"/.exec(xml);
  return m?.[1] === undefined ? undefined : unescapeXml(m[1]);
}

export const telnyxConnected = JSON.stringify({ event: 'connected', version: '1.0.0' });

/** Telnyx's `start` of stream `streamId` on call `callControlId` (the documented shape). */
export function telnyxStart(streamId: string, callControlId: string): string {
  return JSON.stringify({
    event: 'start',
    sequence_number: '1',
    start: {
      user_id: '3e6f995f-85f7-4705-9741-53b116d28237',
      call_control_id: callControlId,
      call_session_id: 'ff55a038-0000-11ee-ba8b-02420a0d8e69',
      from: '+15557654321',
      to: '+15550001111',
      custom_parameters: {},
      media_format: { encoding: 'PCMU', sample_rate: 8000, channels: 1 },
    },
    stream_id: streamId,
  });
}

export const telnyxMedia = (streamId: string, seq: number) =>
  JSON.stringify({ event: 'media', sequence_number: String(seq), media: { track: 'inbound', chunk: String(seq - 1), timestamp: String(20 * seq), payload: '/////w==' }, stream_id: streamId });
