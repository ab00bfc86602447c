import { beforeAll, describe, expect, it } from 'vitest';
import { HttpError } from '../../errors.ts';
import { verifyTelnyxSignature } from './signature.ts';

/**
 * Keys are made here with WebCrypto and requests signed the way Telnyx documents it: Ed25519 over
 * `${telnyx-timestamp}|${raw body}`, base64 in `telnyx-signature-ed25519`.
 */
const utf8 = new TextEncoder();
const toBase64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

// A TeXML status callback body as Telnyx posts it (form-encoded).
const BODY =
  'AccountSid=f5586561-8ff0-4291-a51b-c7dfe4139ff9&CallSid=v3%3A9X2vxPDFY2RHSJ1EdMS0RHRksMTg7ldNxdjWbVr9zBjbGjGsSe-aiQ' +
  '&CallStatus=completed&From=%2B35319605860&To=%2B13129457420&ConnectionId=1234567890';
const NOW_MS = 1_760_000_000_123;
const NOW_S = Math.floor(NOW_MS / 1000);

let privateKey: CryptoKey;
let publicKeyB64: string;
let otherPublicKeyB64: string;

async function newKeyPair() {
  const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const raw = new Uint8Array((await crypto.subtle.exportKey('raw', pair.publicKey)) as ArrayBuffer);
  return { privateKey: pair.privateKey, publicKeyB64: toBase64(raw) };
}

async function sign(timestamp: string, body: string, key = privateKey): Promise<string> {
  const sig = await crypto.subtle.sign({ name: 'Ed25519' }, key, utf8.encode(`${timestamp}|${body}`));
  return toBase64(new Uint8Array(sig));
}

const headers = (h: Record<string, string>) => new Headers(h);

beforeAll(async () => {
  ({ privateKey, publicKeyB64 } = await newKeyPair());
  ({ publicKeyB64: otherPublicKeyB64 } = await newKeyPair());
});

describe('verifyTelnyxSignature', () => {
  it('accepts a request signed over `timestamp|body`, with header names in any case', async () => {
    const ts = String(NOW_S);
    const sig = await sign(ts, BODY);
    expect(await verifyTelnyxSignature(publicKeyB64, headers({ 'telnyx-signature-ed25519': sig, 'telnyx-timestamp': ts }), BODY, NOW_MS)).toEqual({ ok: true });
    expect(await verifyTelnyxSignature(publicKeyB64, headers({ 'Telnyx-Signature-Ed25519': sig, 'Telnyx-Timestamp': ts }), BODY, NOW_MS)).toEqual({ ok: true });
    // The raw bytes of the body verify the same as its string.
    expect(await verifyTelnyxSignature(publicKeyB64, headers({ 'telnyx-signature-ed25519': sig, 'telnyx-timestamp': ts }), utf8.encode(BODY), NOW_MS)).toEqual({ ok: true });
  });

  it('covers non-ASCII bodies as their UTF-8 bytes', async () => {
    const body = 'CallerName=J%C3%BCrgen&note=ü🙂';
    const ts = String(NOW_S);
    const sig = await sign(ts, body);
    expect(await verifyTelnyxSignature(publicKeyB64, headers({ 'telnyx-signature-ed25519': sig, 'telnyx-timestamp': ts }), body, NOW_MS)).toEqual({ ok: true });
  });

  it('refuses a tampered body, a changed timestamp and another key', async () => {
    const ts = String(NOW_S);
    const sig = await sign(ts, BODY);
    const h = headers({ 'telnyx-signature-ed25519': sig, 'telnyx-timestamp': ts });
    expect(await verifyTelnyxSignature(publicKeyB64, h, BODY.replace('completed', 'busy'), NOW_MS)).toEqual({ ok: false, why: 'invalid Telnyx signature' });
    expect(await verifyTelnyxSignature(publicKeyB64, h, `${BODY}&x=1`, NOW_MS)).toEqual({ ok: false, why: 'invalid Telnyx signature' });
    const shifted = headers({ 'telnyx-signature-ed25519': sig, 'telnyx-timestamp': String(NOW_S - 1) });
    expect(await verifyTelnyxSignature(publicKeyB64, shifted, BODY, NOW_MS)).toEqual({ ok: false, why: 'invalid Telnyx signature' });
    expect(await verifyTelnyxSignature(otherPublicKeyB64, h, BODY, NOW_MS)).toEqual({ ok: false, why: 'invalid Telnyx signature' });
    // The body alone (no `timestamp|` prefix) is not what Telnyx signs.
    const bodyOnly = toBase64(new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, privateKey, utf8.encode(BODY))));
    expect(await verifyTelnyxSignature(publicKeyB64, headers({ 'telnyx-signature-ed25519': bodyOnly, 'telnyx-timestamp': ts }), BODY, NOW_MS)).toMatchObject({ ok: false });
  });

  it('allows 300 s of skew either way, not 301', async () => {
    for (const ts of [NOW_S - 300, NOW_S + 300]) {
      const sig = await sign(String(ts), BODY);
      const r = await verifyTelnyxSignature(publicKeyB64, headers({ 'telnyx-signature-ed25519': sig, 'telnyx-timestamp': String(ts) }), BODY, NOW_MS);
      expect(r).toEqual({ ok: true });
    }
    const stale = String(NOW_S - 301);
    expect(
      await verifyTelnyxSignature(publicKeyB64, headers({ 'telnyx-signature-ed25519': await sign(stale, BODY), 'telnyx-timestamp': stale }), BODY, NOW_MS),
    ).toEqual({ ok: false, why: 'telnyx-timestamp is 301 s old (at most 300 s allowed)' });
    const future = String(NOW_S + 301);
    expect(
      await verifyTelnyxSignature(publicKeyB64, headers({ 'telnyx-signature-ed25519': await sign(future, BODY), 'telnyx-timestamp': future }), BODY, NOW_MS),
    ).toEqual({ ok: false, why: 'telnyx-timestamp is 301 s in the future (at most 300 s allowed)' });
  });

  it('names a missing or malformed header', async () => {
    const ts = String(NOW_S);
    const sig = await sign(ts, BODY);
    expect(await verifyTelnyxSignature(publicKeyB64, headers({ 'telnyx-timestamp': ts }), BODY, NOW_MS)).toEqual({ ok: false, why: 'missing telnyx-signature-ed25519 header' });
    expect(await verifyTelnyxSignature(publicKeyB64, headers({ 'telnyx-signature-ed25519': sig }), BODY, NOW_MS)).toEqual({ ok: false, why: 'missing telnyx-timestamp header' });
    for (const bad of ['-1', '1.5e9', ' 1760000000', '1760000000 1', '0x68ea', '１７６００００００', '9'.repeat(16)]) {
      // A plain getter: Headers would trim the spaces and cannot hold characters beyond Latin-1.
      const h = { get: (name: string) => (name === 'telnyx-signature-ed25519' ? sig : name === 'telnyx-timestamp' ? bad : null) };
      const r = await verifyTelnyxSignature(publicKeyB64, h, BODY, NOW_MS);
      expect(r).toEqual({ ok: false, why: 'malformed telnyx-timestamp header' });
    }
  });

  it('refuses a signature that is not strict base64 of 64 bytes', async () => {
    const ts = String(NOW_S);
    const sig = await sign(ts, BODY);
    const check = (s: string) => verifyTelnyxSignature(publicKeyB64, headers({ 'telnyx-signature-ed25519': s, 'telnyx-timestamp': ts }), BODY, NOW_MS);
    const notBase64 = { ok: false, why: 'telnyx-signature-ed25519 is not valid base64' };
    expect(await check('!!!!')).toEqual(notBase64);
    expect(await check(sig.replace(/=+$/, ''))).toEqual(notBase64); // padding dropped
    expect(await check(`-${sig.slice(1)}`)).toEqual(notBase64); // URL-safe alphabet
    expect(await check(`${sig.slice(0, -4)}_${sig.slice(-3)}`)).toEqual(notBase64);
    expect(await check(`${sig.slice(0, 40)} ${sig.slice(41)}`)).toEqual(notBase64);
    expect(await check(toBase64(new Uint8Array(32)))).toEqual({ ok: false, why: 'telnyx-signature-ed25519 must decode to 64 bytes (got 32)' });
    expect(await check(toBase64(new Uint8Array(64)))).toEqual({ ok: false, why: 'invalid Telnyx signature' });
  });

  it('treats a missing or unusable TELNYX_PUBLIC_KEY as a 500, not a forged request', async () => {
    const ts = String(NOW_S);
    const h = headers({ 'telnyx-signature-ed25519': await sign(ts, BODY), 'telnyx-timestamp': ts });
    for (const [key, message] of [
      ['', 'TELNYX_PUBLIC_KEY is not set'],
      ['not base64!', 'TELNYX_PUBLIC_KEY is not valid base64'],
      [toBase64(new Uint8Array(44)), 'TELNYX_PUBLIC_KEY must be a raw 32-byte Ed25519 key (got 44 bytes)'],
    ] as const) {
      const err = await verifyTelnyxSignature(key, h, BODY, NOW_MS).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HttpError);
      expect((err as HttpError).status).toBe(500);
      expect((err as HttpError).message).toBe(message);
    }
  });
});
