/**
 * Plivo request validation, V3 (`X-Plivo-Signature-V3` with `X-Plivo-Signature-V3-Nonce`), computed
 * as Plivo's SDKs compute it (plivo-python `validate_v3_signature`, plivo-node
 * `validateV3Signature`, plivo-go `ValidateSignatureV3`, which agree on every request Plivo sends):
 *
 *   base  = scheme://authority/path of the URL (no query string, no fragment)
 *   query = the URL's query parameters, decoded, as `name=value` joined by `&`, names sorted and
 *           each name's values sorted
 *   POST: base + (`?` + query when there is a query or there are POST params)
 *              + (`.` when there are both) + every POST param as name+value, names sorted, each
 *              name's values sorted, concatenated without separators
 *   GET:  base + `?` + the URL's query merged with `params`, as above (nothing when both are empty)
 *   signature = base64(HMAC-SHA256(auth token, that string + `.` + nonce)), over UTF-8 bytes
 *
 * The header may carry several signatures separated by `,`; the request is genuine when one of
 * them is exactly the expected one. The SDKs compare strings, so only the canonical base64 of a
 * 32-byte digest can match. Sorting is by Unicode code point (Python's and Go's order). The nonce
 * does not bind a time: a captured request can be replayed as is; it cannot be altered.
 *
 * WebCrypto only (`crypto.subtle`), no `node:` imports: this runs in workerd.
 */

/** Form parameters of a signed request: a repeated name carries all its values. */
export type PlivoParams = Record<string, string | string[]>;

export type PlivoVerdict = { ok: true } | { ok: false; why: string };

export const SIGNATURE_HEADER = 'X-Plivo-Signature-V3';
export const NONCE_HEADER = 'X-Plivo-Signature-V3-Nonce';

/** Headers longer than this are refused unread: Plivo sends one or a few 44-character signatures. */
const MAX_SIGNATURE_HEADER_CHARS = 1024;
const MAX_NONCE_CHARS = 256;
const DIGEST_BYTES = 32;

const utf8 = new TextEncoder();

/**
 * Orders strings by Unicode code point. JavaScript's default sort compares UTF-16 code units,
 * which differs only when a character beyond U+FFFF meets one in U+E000..U+FFFF: a surrogate
 * stands for a code point above every BMP character.
 */
function byCodePoint(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/** name -> all its values (in arrival order; sorted later). */
type Multi = Map<string, string[]>;

function addAll(into: Multi, params: PlivoParams): void {
  for (const name of Object.keys(params)) {
    const value = params[name];
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    into.set(name, [...(into.get(name) ?? []), ...values]);
  }
}

/** Entries with names sorted and each name's values sorted. */
function sortedPairs(params: Multi): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const name of [...params.keys()].sort(byCodePoint)) {
    for (const value of [...(params.get(name) ?? [])].sort(byCodePoint)) out.push([name, value]);
  }
  return out;
}

/**
 * Splits the URL without normalising it (`new URL()` would re-encode the path and add a `/`):
 * `scheme://authority/path` as written, and the raw query after the first `?`, if any.
 */
function splitUrl(url: string): { base: string; query: string } {
  const noFragment = url.split('#', 1)[0] ?? '';
  const q = noFragment.indexOf('?');
  return q === -1 ? { base: noFragment, query: '' } : { base: noFragment.slice(0, q), query: noFragment.slice(q + 1) };
}

/** The query's parameters, decoded with the form rules (`+` is a space; blank values kept). */
function queryParams(query: string): Multi {
  const out: Multi = new Map();
  for (const [name, value] of new URLSearchParams(query)) out.set(name, [...(out.get(name) ?? []), value]);
  return out;
}

/** The string Plivo signs (before `.` + nonce) for a request of `method` to `url` with `params`. */
export function plivoSignedString(url: string, params: PlivoParams, method: 'GET' | 'POST'): string {
  const { base, query } = splitUrl(url);
  const fromQuery = queryParams(query);
  if (method === 'GET') {
    addAll(fromQuery, params);
    const q = sortedPairs(fromQuery).map(([n, v]) => `${n}=${v}`).join('&');
    return q ? `${base}?${q}` : base;
  }
  const q = sortedPairs(fromQuery).map(([n, v]) => `${n}=${v}`).join('&');
  const body: Multi = new Map();
  addAll(body, params);
  const p = sortedPairs(body).map(([n, v]) => n + v).join('');
  const hasParams = body.size > 0;
  let out = base;
  if (q || hasParams) out += `?${q}`;
  if (q && hasParams) out += '.';
  return out + p;
}

function toBase64(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

async function hmacSha256(key: string, data: string): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey('raw', utf8.encode(key), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', k, utf8.encode(data)));
}

/**
 * The `X-Plivo-Signature-V3` value Plivo would send for this request. Exported for tests; the
 * edge only verifies.
 */
export async function computePlivoSignatureV3(
  authToken: string,
  url: string,
  nonce: string,
  params: PlivoParams,
  method: 'GET' | 'POST',
): Promise<string> {
  return toBase64(await hmacSha256(authToken, `${plivoSignedString(url, params, method)}.${nonce}`));
}

/**
 * The digest a candidate signature encodes, or null unless it is the canonical base64 of 32 bytes
 * (44 characters, one `=`): anything else can never equal the string Plivo's SDKs compare with.
 */
function decodeCandidate(candidate: string): Uint8Array | null {
  if (candidate.length !== 44 || !/^[A-Za-z0-9+/]{43}=$/.test(candidate)) return null;
  const digest = Uint8Array.from(atob(candidate), (ch) => ch.charCodeAt(0));
  if (digest.length !== DIGEST_BYTES || toBase64(digest) !== candidate) return null;
  return digest;
}

/** Compares two digests in time independent of where they differ. */
function equalDigests(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/**
 * Checks one Plivo request: `url` is the URL Plivo was given (answer_url, hangup_url, a
 * `<Redirect>` target) exactly as configured, query string included; `params` are the decoded form
 * body of a POST (for a GET, `{}`: the parameters travel in `url`'s query). An empty auth token
 * never validates.
 */
export async function verifyPlivoSignature(
  authToken: string,
  headers: { get(name: string): string | null | undefined },
  url: string,
  params: PlivoParams,
  method: string,
): Promise<PlivoVerdict> {
  if (authToken === '') return { ok: false, why: 'no Plivo auth token configured' };
  const m = method.toUpperCase();
  if (m !== 'GET' && m !== 'POST') return { ok: false, why: `Plivo signs only GET and POST requests, not ${method}` };
  const header = headers.get(SIGNATURE_HEADER) ?? '';
  if (header === '') return { ok: false, why: `no ${SIGNATURE_HEADER}` };
  if (header.length > MAX_SIGNATURE_HEADER_CHARS) return { ok: false, why: `${SIGNATURE_HEADER} too long` };
  const nonce = headers.get(NONCE_HEADER) ?? '';
  if (nonce === '') return { ok: false, why: `no ${NONCE_HEADER}` };
  if (nonce.length > MAX_NONCE_CHARS) return { ok: false, why: `${NONCE_HEADER} too long` };

  const expected = await hmacSha256(authToken, `${plivoSignedString(url, params, m)}.${nonce}`);
  let good = false;
  // Every candidate is compared (no early exit), so timing does not tell which one matched.
  for (const candidate of header.split(',')) {
    const digest = decodeCandidate(candidate);
    if (digest && equalDigests(digest, expected)) good = true;
  }
  return good ? { ok: true } : { ok: false, why: 'invalid Plivo signature' };
}
