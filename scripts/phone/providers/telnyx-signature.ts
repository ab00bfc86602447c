import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import type { Signer } from '../signed-webhook.ts';

/**
 * Telnyx's webhook signature: Ed25519 over `${telnyx-timestamp}|${raw body}`, base64 in
 * `telnyx-signature-ed25519`, the timestamp in unix seconds in `telnyx-timestamp`. The key is a
 * PKCS#8 DER Ed25519 private key, base64 (the edge holds its public half).
 */
export function telnyxKey(pkcs8Base64: string): KeyObject {
  const key = createPrivateKey({ key: Buffer.from(pkcs8Base64, 'base64'), format: 'der', type: 'pkcs8' });
  if (key.asymmetricKeyType !== 'ed25519') throw new TypeError(`telnyxSigningKey must be an Ed25519 key, got ${key.asymmetricKeyType}`);
  return key;
}

export function telnyxSignature(key: KeyObject, timestamp: string, rawBody: string): string {
  return sign(null, Buffer.from(`${timestamp}|${rawBody}`, 'utf8'), key).toString('base64');
}

export function telnyxSigner(key: KeyObject): Signer {
  return ({ body }) => {
    const timestamp = String(Math.floor(Date.now() / 1000));
    return {
      'telnyx-signature-ed25519': telnyxSignature(key, timestamp, body),
      'telnyx-timestamp': timestamp,
      'User-Agent': 'telnyx-webhooks',
    };
  };
}
