import {
  SIGNATURE_SETTINGS_HEADER,
  parseSignatureSettings,
  validateTwilioBody,
  validateTwilioSignature,
  type TwilioParams,
} from './signature.ts';

/**
 * Which key and hash verify one Twilio request, and the check itself. Without
 * `X-Twilio-Webhooks-Signature-Settings` Twilio signs with the account's auth token and HMAC-SHA1;
 * with it (a webhook rule matched the URL) it signs with the rule's shared key and the header's
 * algorithm, and only that is accepted: a request announcing a shared key is never checked against
 * the auth token. Shared key secrets come from TWILIO_SHARED_KEY_SECRETS (comma-separated, so a
 * key can be rotated: old and new both verify during the change; config.ts allows at most 4,
 * since each one tried costs an HMAC per request).
 */

export interface TwilioSigningKeys {
  authToken: string;
  sharedKeySecrets: readonly string[];
}

/** The signing keys from the edge's configuration (TWILIO_SHARED_KEY_SECRETS, parsed in config.ts, is optional). */
export function signingKeys(authToken: string, sharedKeySecrets: readonly string[]): TwilioSigningKeys {
  return { authToken, sharedKeySecrets };
}

/** What was signed: form params (or none, for a WebSocket upgrade), or a raw body bound by `bodySHA256`. */
export type SignedContent = { params: TwilioParams } | { body: string };

export type TwilioVerdict = { ok: true } | { ok: false; why: string };

/** Checks one request's `X-Twilio-Signature` (and settings header) over `url` and its content. */
export async function verifyTwilioRequest(
  keys: TwilioSigningKeys,
  headers: { get(name: string): string | null | undefined },
  url: string,
  content: SignedContent,
): Promise<TwilioVerdict> {
  const signature = headers.get('X-Twilio-Signature') ?? '';
  if (signature === '') return { ok: false, why: 'no X-Twilio-Signature' };
  const settings = headers.get(SIGNATURE_SETTINGS_HEADER);
  let candidates: readonly string[] = [keys.authToken];
  let algorithm: 'HMAC-SHA1' | 'HMAC-SHA256' = 'HMAC-SHA1';
  if (settings !== null && settings !== undefined) {
    const parsed = parseSignatureSettings(settings);
    if (!parsed) return { ok: false, why: `unsupported ${SIGNATURE_SETTINGS_HEADER}` };
    if (keys.sharedKeySecrets.length === 0) return { ok: false, why: 'signed with a shared key, but TWILIO_SHARED_KEY_SECRETS is not set' };
    candidates = keys.sharedKeySecrets;
    algorithm = parsed.algorithm;
  }
  for (const key of candidates) {
    const good =
      'body' in content
        ? await validateTwilioBody(key, signature, url, content.body, algorithm)
        : await validateTwilioSignature(key, signature, url, content.params, algorithm);
    if (good) return { ok: true };
  }
  return { ok: false, why: 'invalid Twilio signature' };
}
