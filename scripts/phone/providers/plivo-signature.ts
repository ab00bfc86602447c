import { createHmac, randomInt } from 'node:crypto';
import type { FormParams, Signer } from '../signed-webhook.ts';

/**
 * Plivo's V3 webhook signature, written from the algorithm of Plivo's SDKs (validate_v3_signature):
 *
 *   base = scheme://host/path of the URL Plivo calls, without its query;
 *   query = the URL's query params (GET: merged with the request params), keys sorted, each
 *           key's values sorted, as `k=v` joined with `&`;
 *   POST:  base + '?' + query + ('.' if query is not empty) + the body params, keys sorted,
 *          each as key immediately followed by value, no separators;
 *          (with no body params: base, then '?' + query only when the query is not empty)
 *   GET:   base, then '?' + query when the query is not empty;
 *   signature = base64(HMAC-SHA256(auth token, that string + '.' + nonce)).
 *
 * Sent in X-Plivo-Signature-V3 with the nonce in X-Plivo-Signature-V3-Nonce.
 */
function queryMap(search: URLSearchParams, extra: FormParams = {}): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const [k, v] of search) map.set(k, [...(map.get(k) ?? []), v]);
  for (const [k, v] of Object.entries(extra)) map.set(k, [...(map.get(k) ?? []), v]);
  return map;
}

const sortedKeys = (keys: Iterable<string>) => [...keys].sort();

function sortedQuery(map: Map<string, string[]>): string {
  return sortedKeys(map.keys())
    .flatMap((k) => [...map.get(k)!].sort().map((v) => `${k}=${v}`))
    .join('&');
}

/** The string Plivo signs (before `.nonce`). */
export function plivoV3SignedString(method: 'GET' | 'POST', url: string, params: FormParams): string {
  const u = new URL(url);
  const base = `${u.protocol}//${u.host}${u.pathname}`;
  if (method === 'GET') {
    const query = sortedQuery(queryMap(u.searchParams, params));
    return query ? `${base}?${query}` : base;
  }
  const query = sortedQuery(queryMap(u.searchParams));
  const hasParams = Object.keys(params).length > 0;
  let out = base;
  if (query || hasParams) out += `?${query}`;
  if (query && hasParams) out += '.';
  return out + sortedKeys(Object.keys(params)).map((k) => `${k}${params[k]}`).join('');
}

export function plivoV3Signature(authToken: string, method: 'GET' | 'POST', url: string, params: FormParams, nonce: string): string {
  return createHmac('sha256', authToken).update(`${plivoV3SignedString(method, url, params)}.${nonce}`, 'utf8').digest('base64');
}

/** A fresh numeric nonce, as in Plivo's examples. */
export const plivoNonce = (): string => Array.from({ length: 20 }, () => randomInt(10)).join('');

/**
 * Signs a request. For GET the driver has already moved the params into `signedUrl`'s query, so
 * they are signed from there.
 */
export function plivoSigner(authToken: string): Signer {
  return ({ method, signedUrl, params }) => {
    const nonce = plivoNonce();
    return {
      'X-Plivo-Signature-V3': plivoV3Signature(authToken, method, signedUrl, params, nonce),
      'X-Plivo-Signature-V3-Nonce': nonce,
      'User-Agent': 'PlivoHTTP/1.0',
    };
  };
}
