import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  computePlivoSignatureV3,
  NONCE_HEADER,
  plivoSignedString,
  SIGNATURE_HEADER,
  verifyPlivoSignature,
  type PlivoParams,
} from './signature.ts';

// Plivo's own V3 vectors (plivo-go utils_test.go, TestValidateSignatureV3Pass1..4): a real
// StartApp webhook of an outbound call, signed by Plivo, for one URL with and without a query.
const TOKEN = 'Y2Q2ZDgxZmY5YWRiOTI5YmQ1Njg0MTAxZWIyOTc4';
const NONCE = '31627761595286130198';
const URL_NO_QUERY = 'https://plivobin.non-prod.plivops.com/api/v1/validate_signature03.xml';
const URL_QUERY = 'https://plivobin.non-prod.plivops.com/api/v1/validate_signature03.xml/?a=b&c=d';
const PARAMS: Record<string, string> = {
  Direction: 'outbound',
  From: '19792014278',
  ALegUUID: '3e82ae9d-2c78-4d85-b1a4-6eae7dbafb36',
  CallStatus: 'in-progress',
  BillRate: '0.002',
  ParentAuthID: 'MANWVLYTK4ZWU1YTY4QA',
  To: 'sip:PlivoSignature382029104058171078704104@phone-qa.voice.plivodev.com',
  ALegRequestUUID: '3e82ae9d-2c78-4d85-b1a4-6eae7dbafb36',
  CallUUID: '3e82ae9d-2c78-4d85-b1a4-6eae7dbafb36',
  RequestUUID: '3e82ae9d-2c78-4d85-b1a4-6eae7dbafb36',
  'SIP-H-To': '<sip:PlivoSignature382029104058171078704104@52.9.11.55;transport=udp>;tag=1',
  SessionStart: '2020-04-08 11:34:33.238707',
  Event: 'StartApp',
};
const POST_QUERY_SIG = 'k7Pusd4OxCIjR5IfA9iedDNu/h/gbdYqdzG/MiYtd1c=';
const GET_QUERY_SIG = 'UBq8jAtd32wR8EK9VgxbBn4n5rpI/l1H9iN4WfSEHFQ=';
const POST_SIG = 'iAjE5QqI37mbkYe4w3jTMudqEzbDufdqi7sYwTu64e0=';
const GET_SIG = 'i/MQsaQSAd6fiKhOh2qeeeLHZ9faldADSb3/7+Akfbc=';

const headers = (signature: string | null, nonce: string | null = NONCE) =>
  new Headers([
    ...(signature === null ? [] : [[SIGNATURE_HEADER, signature] as [string, string]]),
    ...(nonce === null ? [] : [[NONCE_HEADER, nonce] as [string, string]]),
  ]);

/** The documented algorithm, written out independently with node:crypto for one POST request. */
function independentPostSignature(token: string, baseUrl: string, query: Array<[string, string]>, params: Array<[string, string]>, nonce: string) {
  const q = [...query].sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join('&');
  const p = [...params].sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1)).map(([k, v]) => k + v).join('');
  let s = baseUrl;
  if (q || p) s += `?${q}`;
  if (q && p) s += '.';
  s += p;
  return createHmac('sha256', Buffer.from(token, 'utf8')).update(Buffer.from(`${s}.${nonce}`, 'utf8')).digest('base64');
}

describe("Plivo V3 signature: Plivo's published vectors", () => {
  it('computes all four', async () => {
    expect(await computePlivoSignatureV3(TOKEN, URL_QUERY, NONCE, PARAMS, 'POST')).toBe(POST_QUERY_SIG);
    expect(await computePlivoSignatureV3(TOKEN, URL_NO_QUERY, NONCE, PARAMS, 'POST')).toBe(POST_SIG);
    expect(await computePlivoSignatureV3(TOKEN, URL_QUERY, NONCE, PARAMS, 'GET')).toBe(GET_QUERY_SIG);
    expect(await computePlivoSignatureV3(TOKEN, URL_NO_QUERY, NONCE, PARAMS, 'GET')).toBe(GET_SIG);
  });

  it('verifies them from the headers', async () => {
    expect(await verifyPlivoSignature(TOKEN, headers(POST_QUERY_SIG), URL_QUERY, PARAMS, 'POST')).toEqual({ ok: true });
    expect(await verifyPlivoSignature(TOKEN, headers(POST_SIG), URL_NO_QUERY, PARAMS, 'POST')).toEqual({ ok: true });
    // A GET carries its parameters in the URL: the same request seen as URL + no body.
    const getUrl = `${URL_NO_QUERY}?${new URLSearchParams(PARAMS).toString()}`;
    expect(await verifyPlivoSignature(TOKEN, headers(GET_SIG), getUrl, {}, 'GET')).toEqual({ ok: true });
  });

  it('builds the signed string with `?`, `.` and the concatenated params', () => {
    expect(plivoSignedString('https://h/p?b=2&a=1&a=0', { Y: 'y', X: ['2', '1'] }, 'POST')).toBe('https://h/p?a=0&a=1&b=2.X1X2Yy');
    expect(plivoSignedString('https://h/p', { Y: 'y', X: 'x' }, 'POST')).toBe('https://h/p?XxYy');
    expect(plivoSignedString('https://h/p?a=1', {}, 'POST')).toBe('https://h/p?a=1');
    expect(plivoSignedString('https://h/p', {}, 'POST')).toBe('https://h/p');
    // Query values are decoded; the fragment is not signed.
    expect(plivoSignedString('https://h/p?n=a%20b+c#frag', {}, 'POST')).toBe('https://h/p?n=a b c');
    expect(plivoSignedString('https://h/p?b=2', { a: '1' }, 'GET')).toBe('https://h/p?a=1&b=2');
  });
});

describe('Plivo V3 signature: an independently computed vector', () => {
  const token = 'MAtok-ü-3';
  const url = 'https://edge.example/plivo/answer?session=s1&x=%2Fy';
  const form: PlivoParams = { To: '14155550100', From: '14155550111', CallUUID: 'c-1', Direction: 'inbound', Memo: 'héllo wörld' };
  const nonce = '05429567804466091622';

  it('matches the documented algorithm', async () => {
    const expected = independentPostSignature(
      token,
      'https://edge.example/plivo/answer',
      [['session', 's1'], ['x', '/y']],
      Object.entries(form) as Array<[string, string]>,
      nonce,
    );
    expect(await computePlivoSignatureV3(token, url, nonce, form, 'POST')).toBe(expected);
    expect(await verifyPlivoSignature(token, headers(expected, nonce), url, form, 'POST')).toEqual({ ok: true });
  });
});

describe('Plivo V3 signature: rejections', () => {
  it('tampered params, URL, query, nonce or token', async () => {
    const bad = { ok: false, why: 'invalid Plivo signature' };
    expect(await verifyPlivoSignature(TOKEN, headers(POST_QUERY_SIG), URL_QUERY, { ...PARAMS, To: '15550000000' }, 'POST')).toEqual(bad);
    expect(await verifyPlivoSignature(TOKEN, headers(POST_QUERY_SIG), URL_QUERY, { ...PARAMS, Extra: '1' }, 'POST')).toEqual(bad);
    const { Event: _dropped, ...fewer } = PARAMS;
    expect(await verifyPlivoSignature(TOKEN, headers(POST_QUERY_SIG), URL_QUERY, fewer, 'POST')).toEqual(bad);
    expect(await verifyPlivoSignature(TOKEN, headers(POST_QUERY_SIG), URL_NO_QUERY, PARAMS, 'POST')).toEqual(bad);
    expect(await verifyPlivoSignature(TOKEN, headers(POST_QUERY_SIG), `${URL_NO_QUERY}/?a=b&c=e`, PARAMS, 'POST')).toEqual(bad);
    expect(await verifyPlivoSignature(TOKEN, headers(POST_QUERY_SIG, '31627761595286130199'), URL_QUERY, PARAMS, 'POST')).toEqual(bad);
    expect(await verifyPlivoSignature(`${TOKEN}x`, headers(POST_QUERY_SIG), URL_QUERY, PARAMS, 'POST')).toEqual(bad);
    // The POST signature does not verify the same request as a GET.
    expect(await verifyPlivoSignature(TOKEN, headers(POST_QUERY_SIG), URL_QUERY, PARAMS, 'GET')).toEqual(bad);
  });

  it('missing headers, odd methods, an empty token', async () => {
    expect(await verifyPlivoSignature(TOKEN, headers(null), URL_QUERY, PARAMS, 'POST')).toEqual({ ok: false, why: `no ${SIGNATURE_HEADER}` });
    expect(await verifyPlivoSignature(TOKEN, headers(POST_QUERY_SIG, null), URL_QUERY, PARAMS, 'POST')).toEqual({ ok: false, why: `no ${NONCE_HEADER}` });
    expect((await verifyPlivoSignature(TOKEN, headers(POST_QUERY_SIG), URL_QUERY, PARAMS, 'PUT')).ok).toBe(false);
    expect((await verifyPlivoSignature('', headers(POST_QUERY_SIG), URL_QUERY, PARAMS, 'POST')).ok).toBe(false);
    expect((await verifyPlivoSignature(TOKEN, headers('x'.repeat(2000)), URL_QUERY, PARAMS, 'POST')).ok).toBe(false);
  });

  it('only the exact canonical base64 matches', async () => {
    const check = async (sig: string) => (await verifyPlivoSignature(TOKEN, headers(sig), URL_QUERY, PARAMS, 'POST')).ok;
    expect(await check(POST_QUERY_SIG.slice(0, -1))).toBe(false);
    // HTTP drops whitespace around a header value (as `Headers` does); inside the value it counts.
    const raw = (sig: string) => ({ get: (name: string) => (name === SIGNATURE_HEADER ? sig : name === NONCE_HEADER ? NONCE : null) });
    expect((await verifyPlivoSignature(TOKEN, raw(` ${POST_QUERY_SIG}`), URL_QUERY, PARAMS, 'POST')).ok).toBe(false);
    expect((await verifyPlivoSignature(TOKEN, raw(`${POST_QUERY_SIG} `), URL_QUERY, PARAMS, 'POST')).ok).toBe(false);
    expect((await verifyPlivoSignature(TOKEN, raw(POST_QUERY_SIG), URL_QUERY, PARAMS, 'POST')).ok).toBe(true);
    // Same bytes, different trailing bits: not the string Plivo's SDKs compare with.
    const alt = POST_QUERY_SIG.slice(0, 42) + String.fromCharCode(POST_QUERY_SIG.charCodeAt(42) + 1) + '=';
    expect(Buffer.from(alt, 'base64').equals(Buffer.from(POST_QUERY_SIG, 'base64'))).toBe(true);
    expect(await check(alt)).toBe(false);
    expect(await check('!!!!')).toBe(false);
  });
});

describe('Plivo V3 signature: several signatures in one header', () => {
  it('accepts the request when any comma-separated signature matches', async () => {
    const other = await computePlivoSignatureV3('another-token', URL_QUERY, NONCE, PARAMS, 'POST');
    for (const header of [`${other},${POST_QUERY_SIG}`, `${POST_QUERY_SIG},${other}`, `garbage,${POST_QUERY_SIG},,`]) {
      expect(await verifyPlivoSignature(TOKEN, headers(header), URL_QUERY, PARAMS, 'POST')).toEqual({ ok: true });
    }
    expect((await verifyPlivoSignature(TOKEN, headers(`${other},garbage`), URL_QUERY, PARAMS, 'POST')).ok).toBe(false);
    // SDKs split on `,` exactly: a space after the comma is part of the next candidate.
    expect((await verifyPlivoSignature(TOKEN, headers(`${other}, ${POST_QUERY_SIG}`), URL_QUERY, PARAMS, 'POST')).ok).toBe(false);
  });
});
