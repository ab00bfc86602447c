import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { createHash, createHmac } from 'node:crypto';
import { bodySha256Hex, computeTwilioSignature, validateTwilioBody, validateTwilioSignature } from '../workers/src/telephony/twilio/signature.ts';
import { loadConfig } from '../workers/src/config.ts';
import { signingKeys, verifyTwilioRequest } from '../workers/src/telephony/twilio/verify-request.ts';

/**
 * Differential test: the edge's WebCrypto signature code against the twilio package's own
 * `getExpectedTwilioSignature` and `validateRequest` (twilio-node 6.2.0), on seeded random
 * requests: URLs with ports, paths and query strings; parameter names and values with unicode,
 * spaces, `&`, `=`, empty strings, repeated names (with duplicate values); then tampered requests,
 * which both must reject.
 */
type Params = Record<string, string | string[]>;

/** mulberry32: a small seeded PRNG, so a failure reproduces from the printed seed and case index. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T,>(xs: readonly T[]): T => xs[int(xs.length)]!;
  return { next, int, pick };
}
type Rng = ReturnType<typeof rng>;

const ASCII = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
// Characters that matter for form encoding, sorting and UTF-8: separators, spaces, +, %, quotes,
// Latin-1, CJK, an astral emoji (a surrogate pair, which sorts by code unit), combining marks.
const SPECIAL = [' ', '&', '=', '+', '%', '?', '/', ':', ';', ',', '"', "'", '<', '>', '\\', '\t', '\n', 'ü', 'ß', 'é', 'é', '中', '文', '🙂', '𝄞', '\u00a0', '~', '*', '_', '-', '.'];

function randomString(r: Rng, maxLen: number, alphabet: 'any' | 'ascii' = 'any'): string {
  const len = r.int(maxLen + 1);
  let s = '';
  for (let i = 0; i < len; i++) s += alphabet === 'ascii' || r.next() < 0.6 ? r.pick([...ASCII]) : r.pick(SPECIAL);
  return s;
}

/** A valid URL (so `new URL()` inside `validateRequest` accepts it) with free-form path and query. */
function randomUrl(r: Rng): string {
  const scheme = r.pick(['https', 'https', 'http', 'wss', 'ws']);
  const host = r.pick(['example.com', 'edge.switchboard.dev', '127.0.0.1', 'a-b.c.d.example.org', '[::1]']);
  const port = r.pick(['', '', '', ':443', ':80', ':8787', ':8443']);
  const segments = Array.from({ length: r.int(4) }, () =>
    randomString(r, 8).replace(/[?#]/g, '_'),
  );
  let url = `${scheme}://${host}${port}/${segments.join('/')}`;
  if (r.next() < 0.6) {
    const pairs = Array.from({ length: 1 + r.int(4) }, () => {
      const k = randomString(r, 6).replace(/#/g, '_');
      return r.next() < 0.5 ? `${k}=${randomString(r, 8).replace(/#/g, '_')}` : `${encodeURIComponent(k)}=${encodeURIComponent(randomString(r, 8))}`;
    });
    url += `?${pairs.join('&')}`;
  }
  return url;
}

function randomParams(r: Rng): Params {
  // No prototype, so a random name can never be `__proto__` magic.
  const params: Params = Object.create(null);
  const count = r.int(9);
  for (let i = 0; i < count; i++) {
    const name = r.next() < 0.15 ? r.pick(['CallSid', 'From', 'To', 'Digits', 'SpeechResult', '']) : randomString(r, 10);
    const roll = r.next();
    if (roll < 0.2) {
      // Repeated name; sometimes with duplicate or empty values.
      const values = Array.from({ length: r.int(5) }, () => (r.next() < 0.2 ? '' : randomString(r, 6)));
      if (values.length > 0 && r.next() < 0.4) values.push(values[0]!);
      params[name] = values;
    } else {
      params[name] = roll < 0.3 ? '' : randomString(r, 16);
    }
  }
  return params;
}

function randomToken(r: Rng): string {
  return r.next() < 0.7 ? randomString(r, 32, 'ascii').padEnd(1, 'x') : `tok-${randomString(r, 12)}`;
}

/** The same URL with its port added (scheme default) or removed: spellings Twilio accepts. */
function portVariant(url: string): string {
  const m = /^([a-z]+:\/\/)(\[[^\]]*\]|[^/:]*)(:\d+)?([\s\S]*)$/.exec(url)!;
  const [, scheme, host, port, rest] = m;
  if (port) return `${scheme}${host}${rest}`;
  return `${scheme}${host}${scheme === 'https://' ? ':443' : ':80'}${rest}`;
}

/** What one parameter adds to the signed string (name+value per distinct value). */
const contribution = (name: string, value: string | string[] | undefined) =>
  Array.isArray(value) ? [...new Set(value)].map((v) => name + v).join('') : name + (value ?? '');

/**
 * A copy of the params with one change to what is signed. Parameters that add nothing to the
 * signed string (an empty name with an empty value, an empty list) are skipped: changing them is
 * not a tamper.
 */
function tamper(r: Rng, params: Params): Params {
  const out: Params = Object.assign(Object.create(null), params);
  const names = Object.keys(out).filter((n) => contribution(n, out[n]) !== '');
  const name = names.length ? r.pick(names) : 'Extra';
  const kind = names.length ? r.int(4) : 3;
  const value = out[name];
  if (kind === 0) out[name] = `${Array.isArray(value) ? value.join('') : (value ?? '')}x`;
  else if (kind === 1) delete out[name];
  else if (kind === 2) {
    delete out[name];
    out[`${name}_`] = value ?? '';
  } else out[`${name}Z`] = 'injected';
  return out;
}

const SEED = 0x5b0a2d;
const CASES = 600;

describe(`Twilio signature vs the twilio package (seed ${SEED}, ${CASES} random requests)`, () => {
  it('computes the same signature and both validators agree on genuine and tampered requests', async () => {
    const r = rng(SEED);
    let checks = 0;
    const agree = async (label: string, token: string, header: string, url: string, params: Params, expected: boolean) => {
      const theirs = twilio.validateRequest(token, header, url, params);
      const ours = await validateTwilioSignature(token, header, url, params);
      expect({ label, ours, theirs }).toEqual({ label, ours: expected, theirs: expected });
      checks++;
    };

    for (let i = 0; i < CASES; i++) {
      const token = randomToken(r);
      const url = randomUrl(r);
      const params = randomParams(r);
      const ctx = `case ${i}: ${JSON.stringify({ token, url, params })}`;

      const expected = twilio.getExpectedTwilioSignature(token, url, params);
      expect(await computeTwilioSignature(token, url, params), ctx).toBe(expected);

      // Genuine: as signed, and signed over the other port spelling.
      await agree(`${ctx} genuine`, token, expected, url, params, true);
      const variant = portVariant(url);
      await agree(`${ctx} port variant`, token, twilio.getExpectedTwilioSignature(token, variant, params), url, params, true);

      // Tampered params, wrong token, wrong URL.
      const tampered = tamper(r, params);
      expect(twilio.getExpectedTwilioSignature(token, url, tampered), ctx).not.toBe(expected);
      await agree(`${ctx} tampered`, token, expected, url, tampered, false);
      await agree(`${ctx} wrong token`, `${token}!`, expected, url, params, false);
      const wrongUrl = r.pick([
        url.replace(/^(wss?|https?)/, (s) => (s.endsWith('s') ? s.slice(0, -1) : `${s}s`)),
        url.includes('?') ? `${url}&x=1` : `${url}?x=1`,
        url.replace(/\/([^/]*)$/, '/$1z'),
      ]);
      await agree(`${ctx} wrong url ${wrongUrl}`, token, expected, wrongUrl, params, false);

      // Malformed headers: truncated, one character changed, garbage, valid base64 of other bytes.
      await agree(`${ctx} truncated`, token, expected.slice(0, 1 + r.int(expected.length - 1)), url, params, false);
      const pos = r.int(27);
      const swapped = expected.slice(0, pos) + (expected[pos] === 'A' ? 'B' : 'A') + expected.slice(pos + 1);
      await agree(`${ctx} one char changed`, token, swapped, url, params, false);
      await agree(`${ctx} garbage`, token, randomString(r, 40), url, params, false);
      const other = btoa(String.fromCharCode(...Array.from({ length: 20 }, () => r.int(256))));
      await agree(`${ctx} other digest`, token, other, url, params, false);
    }
    expect(checks).toBe(CASES * 9);
  });

  it('matches on the empty-params WebSocket upgrade URL and an empty header', async () => {
    const token = 'f00dfeedf00dfeedf00dfeedf00dfeed';
    for (const url of ['wss://edge.example.com/twilio/media', 'ws://127.0.0.1:8787/twilio/media']) {
      const expected = twilio.getExpectedTwilioSignature(token, url, {});
      expect(await computeTwilioSignature(token, url, {})).toBe(expected);
      expect(await validateTwilioSignature(token, expected, url, {})).toBe(true);
      expect(twilio.validateRequest(token, expected, url, {})).toBe(true);
      expect(await validateTwilioSignature(token, '', url, {})).toBe(false);
      expect(twilio.validateRequest(token, '', url, {})).toBe(false);
    }
  });
});

/**
 * The string Twilio signs, built with Node's crypto as twilio-node builds it (sorted names, a
 * repeated name's distinct values sorted). Its SHA-1 HMAC is checked against the package's own
 * function below, so its SHA-256 HMAC is what Twilio sends under a webhook rule with HMAC_SHA256
 * (the installed twilio-node, 6.2.0, has no SHA-256 function to compare with directly).
 */
function nodeSignature(hash: 'sha1' | 'sha256', key: string, url: string, params: Params): string {
  let data = url;
  for (const name of Object.keys(params).sort()) data += contribution(name, Array.isArray(params[name]) ? [...new Set(params[name] as string[])].sort() : params[name]);
  return createHmac(hash, key).update(Buffer.from(data, 'utf-8')).digest('base64');
}

describe(`HMAC-SHA256 (shared key) signatures and bodySHA256 bodies (seed ${SEED + 1})`, () => {
  it('signs with SHA-256 exactly as the SHA-1 string Twilio signs, hashed with SHA-256', async () => {
    const r = rng(SEED + 1);
    for (let i = 0; i < 200; i++) {
      const key = randomToken(r);
      const url = randomUrl(r);
      const params = randomParams(r);
      const ctx = `case ${i}: ${JSON.stringify({ key, url, params })}`;
      expect(nodeSignature('sha1', key, url, params), ctx).toBe(twilio.getExpectedTwilioSignature(key, url, params));
      const sha256 = nodeSignature('sha256', key, url, params);
      expect(await computeTwilioSignature(key, url, params, 'HMAC-SHA256'), ctx).toBe(sha256);
      expect(await validateTwilioSignature(key, sha256, url, params, 'HMAC-SHA256'), ctx).toBe(true);
      expect(await validateTwilioSignature(key, nodeSignature('sha256', key, portVariant(url), params), url, params, 'HMAC-SHA256'), ctx).toBe(true);
      // A SHA-256 signature is never taken as SHA-1 and vice versa, nor under another key or params.
      expect(await validateTwilioSignature(key, sha256, url, params, 'HMAC-SHA1'), ctx).toBe(false);
      expect(await validateTwilioSignature(key, nodeSignature('sha1', key, url, params), url, params, 'HMAC-SHA256'), ctx).toBe(false);
      expect(await validateTwilioSignature(`${key}!`, sha256, url, params, 'HMAC-SHA256'), ctx).toBe(false);
      expect(await validateTwilioSignature(key, sha256, url, tamper(r, params), 'HMAC-SHA256'), ctx).toBe(false);
    }
  });

  it('validates JSON bodies as validateRequestWithBody does: URL with bodySHA256 signed, body hash equal', async () => {
    const r = rng(SEED + 2);
    for (let i = 0; i < 150; i++) {
      const token = randomToken(r);
      const body = JSON.stringify(randomParams(r));
      const hash = createHash('sha256').update(Buffer.from(body, 'utf-8')).digest('hex');
      expect(await bodySha256Hex(body)).toBe(hash);
      const base = randomUrl(r).split('?')[0]!.replace(/\s/g, '_');
      const url = `${base}?bodySHA256=${hash}`;
      const sig = twilio.getExpectedTwilioSignature(token, url, {});
      const ctx = `case ${i}: ${JSON.stringify({ token, url, body })}`;
      const both = async (label: string, s: string, u: string, b: string, expected: boolean) => {
        expect({ label, ours: await validateTwilioBody(token, s, u, b), theirs: twilio.validateRequestWithBody(token, s, u, b) }).toEqual({ label, ours: expected, theirs: expected });
      };
      await both(`${ctx} genuine`, sig, url, body, true);
      await both(`${ctx} body changed`, sig, url, `${body} `, false);
      const other = createHash('sha256').update(`${body}x`).digest('hex');
      await both(`${ctx} hash swapped`, sig, `${base}?bodySHA256=${other}`, `${body}x`, false);
      await both(`${ctx} wrong token`, twilio.getExpectedTwilioSignature(`${token}!`, url, {}), url, body, false);
      // SHA-256 signed body (shared key): same rule, the other hash.
      const sig256 = nodeSignature('sha256', token, url, {});
      expect(await validateTwilioBody(token, sig256, url, body, 'HMAC-SHA256'), ctx).toBe(true);
      expect(await validateTwilioBody(token, sig256, url, `${body} `, 'HMAC-SHA256'), ctx).toBe(false);
    }
  });

  it('chooses the key from X-Twilio-Webhooks-Signature-Settings: auth token without it, only shared keys with it', async () => {
    const url = 'https://edge.example.com/twilio/voice';
    const params = { CallSid: 'CA' + '0'.repeat(32), From: '+15550100001' };
    const keys = signingKeys('auth-token', loadConfig({ TWILIO_SHARED_KEY_SECRETS: 'old-shared, new-shared' }).TWILIO_SHARED_KEY_SECRETS);
    const headers = (h: Record<string, string>) => new Headers(h);
    const settings = 'key=webhooks_sharedkey_abc,algorithm=HMAC_SHA256';
    const sha1 = twilio.getExpectedTwilioSignature('auth-token', url, params);
    expect(await verifyTwilioRequest(keys, headers({ 'X-Twilio-Signature': sha1 }), url, { params })).toEqual({ ok: true });
    for (const secret of ['old-shared', 'new-shared']) {
      const sig = nodeSignature('sha256', secret, url, params);
      expect(await verifyTwilioRequest(keys, headers({ 'X-Twilio-Signature': sig, 'X-Twilio-Webhooks-Signature-Settings': settings }), url, { params })).toEqual({ ok: true });
      // The same signature without the settings header is checked as SHA-1 with the auth token: refused.
      expect((await verifyTwilioRequest(keys, headers({ 'X-Twilio-Signature': sig }), url, { params })).ok).toBe(false);
    }
    // A request announcing a shared key is never checked against the auth token.
    const authSigned256 = nodeSignature('sha256', 'auth-token', url, params);
    expect((await verifyTwilioRequest(keys, headers({ 'X-Twilio-Signature': authSigned256, 'X-Twilio-Webhooks-Signature-Settings': settings }), url, { params })).ok).toBe(false);
    expect((await verifyTwilioRequest(keys, headers({ 'X-Twilio-Signature': sha1, 'X-Twilio-Webhooks-Signature-Settings': 'key=k,algorithm=HMAC_MD5' }), url, { params })).ok).toBe(false);
    const noShared = signingKeys('auth-token', []);
    const sig = nodeSignature('sha256', 'new-shared', url, params);
    expect(await verifyTwilioRequest(noShared, headers({ 'X-Twilio-Signature': sig, 'X-Twilio-Webhooks-Signature-Settings': settings }), url, { params })).toMatchObject({ ok: false, why: expect.stringMatching(/TWILIO_SHARED_KEY_SECRETS/) });
  });
});
