import { describe, expect, it } from 'vitest';
import { computeTwilioSignature, parseSignatureSettings, twilioUrlCandidates, validateTwilioSignature } from './signature.ts';

// Twilio's published example (https://www.twilio.com/docs/usage/security#validating-requests).
const TOKEN = '12345';
const URL_ = 'https://mycompany.com/myapp.php?foo=1&bar=2';
const PARAMS = {
  CallSid: 'CA1234567890ABCDE',
  Caller: '+12349013030',
  Digits: '1234',
  From: '+12349013030',
  To: '+18005551212',
};
const EXPECTED = '0/KCTR6DLpKmkAf8muzZqo1nDgQ=';

describe('Twilio signature (WebCrypto)', () => {
  it("matches Twilio's documented example", async () => {
    expect(await computeTwilioSignature(TOKEN, URL_, PARAMS)).toBe(EXPECTED);
    expect(await validateTwilioSignature(TOKEN, EXPECTED, URL_, PARAMS)).toBe(true);
  });

  it('accepts the default-port spellings of the URL', async () => {
    const sig = await computeTwilioSignature(TOKEN, 'https://mycompany.com:443/myapp.php?foo=1&bar=2', PARAMS);
    expect(await validateTwilioSignature(TOKEN, sig, URL_, PARAMS)).toBe(true);
    expect(await validateTwilioSignature(TOKEN, EXPECTED, 'https://mycompany.com:443/myapp.php?foo=1&bar=2', PARAMS)).toBe(true);
    expect(twilioUrlCandidates('http://h:8787/p')).toEqual(['http://h/p', 'http://h:8787/p']);
    expect(twilioUrlCandidates('wss://h/twilio/media')).toEqual(['wss://h/twilio/media', 'wss://h:80/twilio/media']);
  });

  it('rejects tampering, wrong token, non-canonical or garbage headers, and an empty token', async () => {
    expect(await validateTwilioSignature(TOKEN, EXPECTED, URL_, { ...PARAMS, Digits: '1235' })).toBe(false);
    expect(await validateTwilioSignature('54321', EXPECTED, URL_, PARAMS)).toBe(false);
    expect(await validateTwilioSignature(TOKEN, EXPECTED.slice(0, -1), URL_, PARAMS)).toBe(false);
    expect(await validateTwilioSignature(TOKEN, ` ${EXPECTED}`, URL_, PARAMS)).toBe(false);
    expect(await validateTwilioSignature(TOKEN, '', URL_, PARAMS)).toBe(false);
    expect(await validateTwilioSignature(TOKEN, '!!!!', URL_, PARAMS)).toBe(false);
    // Same decoded bytes, different trailing bits: Twilio compares strings, so this is not its signature.
    const alt = EXPECTED.slice(0, 26) + String.fromCharCode(EXPECTED.charCodeAt(26) + 1) + '=';
    expect(await validateTwilioSignature(TOKEN, alt, URL_, PARAMS)).toBe(false);
    const emptyTokenSig = await computeTwilioSignature('', URL_, PARAMS);
    expect(await validateTwilioSignature('', emptyTokenSig, URL_, PARAMS)).toBe(false);
  });

  it('signs a WebSocket upgrade over the bare stream URL with no params', async () => {
    const sig = await computeTwilioSignature(TOKEN, 'wss://edge.example/twilio/media', {});
    expect(await validateTwilioSignature(TOKEN, sig, 'wss://edge.example/twilio/media', {})).toBe(true);
    expect(await validateTwilioSignature(TOKEN, sig, 'wss://edge.example/twilio/media?x=1', {})).toBe(false);
  });
});

describe('X-Twilio-Webhooks-Signature-Settings', () => {
  it('reads the key id and algorithm; refuses other algorithms and malformed headers', () => {
    expect(parseSignatureSettings('key=webhooks_sharedkey_01,algorithm=HMAC_SHA256')).toEqual({ keyId: 'webhooks_sharedkey_01', algorithm: 'HMAC-SHA256' });
    expect(parseSignatureSettings('algorithm=hmac_sha1, key=k')).toEqual({ keyId: 'k', algorithm: 'HMAC-SHA1' });
    expect(parseSignatureSettings('key=k,algorithm=HMAC_MD5')).toBeNull();
    expect(parseSignatureSettings('key=k')).toBeNull();
    expect(parseSignatureSettings('garbage')).toBeNull();
    expect(parseSignatureSettings(`key=${'k'.repeat(600)},algorithm=HMAC_SHA256`)).toBeNull();
  });

  it('takes a 44-character SHA-256 signature only as SHA-256', async () => {
    const sig = await computeTwilioSignature(TOKEN, URL_, PARAMS, 'HMAC-SHA256');
    expect(sig).toHaveLength(44);
    expect(await validateTwilioSignature(TOKEN, sig, URL_, PARAMS, 'HMAC-SHA256')).toBe(true);
    expect(await validateTwilioSignature(TOKEN, sig, URL_, PARAMS)).toBe(false);
    expect(await validateTwilioSignature(TOKEN, EXPECTED, URL_, PARAMS, 'HMAC-SHA256')).toBe(false);
  });
});
