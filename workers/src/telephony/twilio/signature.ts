/**
 * Twilio request validation (`X-Twilio-Signature`), as Twilio documents it and as its own
 * libraries compute it: base64(HMAC(key, url + name1 + value1 + name2 + value2 ...)), with
 * HMAC-SHA1 and the account's auth token by default, or HMAC-SHA256 and a shared key when a Twilio
 * webhook rule says so (announced by `X-Twilio-Webhooks-Signature-Settings`: only the hash and
 * the key change, the signed string is the same);
 * parameters sorted by name, and a repeated name's values de-duplicated and sorted (twilio-node and
 * twilio-python both use a set). Sorting is by UTF-16 code units (JavaScript's default `sort`), the
 * bytes hashed are the UTF-8 encoding of that string.
 *
 * WebCrypto only (`crypto.subtle`), no `node:` imports: this runs in workerd and in Node 22+.
 */

/** Form parameters of a signed request; for a WebSocket upgrade (GET) this is `{}`. */
export type TwilioParams = Record<string, string | string[]>;

const utf8 = new TextEncoder();

/** The HMACs Twilio signs with. */
export type TwilioSignatureAlgorithm = 'HMAC-SHA1' | 'HMAC-SHA256';

const HASH: Record<TwilioSignatureAlgorithm, { name: string; bytes: number }> = {
  'HMAC-SHA1': { name: 'SHA-1', bytes: 20 },
  'HMAC-SHA256': { name: 'SHA-256', bytes: 32 },
};

/** The string Twilio signs: the URL followed by every parameter name+value in sorted order. */
function signedData(url: string, params: TwilioParams): string {
  let data = url;
  for (const name of Object.keys(params).sort()) {
    const value = params[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) {
      // Repeated names: each distinct value once, values sorted (what Twilio's validators do).
      for (const v of Array.from(new Set(value)).sort()) data += name + v;
    } else {
      data += name + value;
    }
  }
  return data;
}

/**
 * The HMAC key is the auth token's UTF-8 bytes. WebCrypto refuses a zero-length HMAC key, but an
 * empty HMAC key is by definition the same as one block (64 bytes) of zeros, so that is used instead
 * to keep `computeTwilioSignature('', ...)` equal to Twilio's own result.
 */
function hmacKey(authToken: string, algorithm: TwilioSignatureAlgorithm): Promise<CryptoKey> {
  const raw = authToken === '' ? new Uint8Array(64) : utf8.encode(authToken);
  return crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: HASH[algorithm].name }, false, ['sign', 'verify']);
}

function toBase64(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/**
 * Decodes a signature header, accepting only the canonical base64 of a digest of the algorithm's
 * size (SHA-1: 20 bytes, 28 chars; SHA-256: 32 bytes, 44 chars; one `=` either way), exactly the
 * string Twilio sends: `atob` alone would also accept missing padding, whitespace and non-zero
 * trailing bits, which Twilio's string comparison rejects. Checking the header against its own
 * re-encoding reveals nothing about the expected signature.
 */
function decodeSignature(header: string, algorithm: TwilioSignatureAlgorithm): Uint8Array<ArrayBuffer> | null {
  const bytes = HASH[algorithm].bytes;
  const chars = Math.ceil(bytes / 3) * 4;
  if (header.length !== chars || !/^[A-Za-z0-9+/]+=$/.test(header)) return null;
  let bin: string;
  try {
    bin = atob(header);
  } catch {
    return null;
  }
  const digest = Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
  if (digest.length !== bytes || toBase64(digest) !== header) return null;
  return digest;
}

/**
 * Splits `scheme://authority...` without normalising anything (`new URL()` would percent-encode
 * characters of the path and query, changing the string Twilio signed). Mirrors twilio-node's
 * `splitUrl`: the port is what follows the last `:` after any IPv6 `]`.
 */
function splitUrl(url: string) {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)/i.exec(url);
  if (!match) return null;
  const [prefix, scheme = '', authority = ''] = match;
  const userInfoEnd = authority.lastIndexOf('@');
  const hostAndPort = authority.slice(userInfoEnd + 1);
  const portStart = hostAndPort.indexOf(':', hostAndPort.lastIndexOf(']') + 1);
  return {
    scheme,
    userInfo: authority.slice(0, userInfoEnd + 1),
    host: portStart === -1 ? hostAndPort : hostAndPort.slice(0, portStart),
    port: portStart === -1 ? '' : hostAndPort.slice(portStart),
    rest: url.slice(prefix.length),
  };
}

/**
 * The URL spellings Twilio's validator accepts for one request: without any port, and with the
 * default port added when none is given (`:443` for `https://`, `:80` for every other scheme,
 * twilio-node's rule, kept as is for `ws://`/`wss://` too). The URL as received is always one of
 * them. Twilio's further fallbacks (the URL re-encoded by `new URL()` or Node's `querystring`) are
 * not tried: our routes rebuild the URL from PUBLIC_BASE_URL, so the received spelling is ours.
 */
export function twilioUrlCandidates(url: string): string[] {
  const parts = splitUrl(url);
  if (!parts) return [url];
  const withoutPort = parts.scheme + parts.userInfo + parts.host + parts.rest;
  const defaultPort = parts.scheme.toLowerCase() === 'https://' ? ':443' : ':80';
  const withPort = parts.port ? url : parts.scheme + parts.userInfo + parts.host + defaultPort + parts.rest;
  return withoutPort === withPort ? [withoutPort] : [withoutPort, withPort];
}

/** The signature Twilio would send for this request (base64 of the HMAC digest; SHA-1 unless told). */
export async function computeTwilioSignature(
  authToken: string,
  url: string,
  params: TwilioParams,
  algorithm: TwilioSignatureAlgorithm = 'HMAC-SHA1',
): Promise<string> {
  const key = await hmacKey(authToken, algorithm);
  const mac = await crypto.subtle.sign('HMAC', key, utf8.encode(signedData(url, params)));
  return toBase64(new Uint8Array(mac));
}

/**
 * Whether `signatureHeader` is Twilio's signature of this request under `authToken`, for the URL
 * as given or its default-port variants. The digest comparison is `crypto.subtle.verify`, which is
 * constant-time. An empty auth token never validates: anyone could sign with it.
 */
export async function validateTwilioSignature(
  authToken: string,
  signatureHeader: string,
  url: string,
  params: TwilioParams,
  algorithm: TwilioSignatureAlgorithm = 'HMAC-SHA1',
): Promise<boolean> {
  if (authToken === '') return false;
  const signature = decodeSignature(signatureHeader, algorithm);
  if (!signature) return false;
  const key = await hmacKey(authToken, algorithm);
  for (const candidate of twilioUrlCandidates(url)) {
    if (await crypto.subtle.verify('HMAC', key, signature, utf8.encode(signedData(candidate, params)))) return true;
  }
  return false;
}

/** Lower-case hex SHA-256 of the body's UTF-8 bytes: what Twilio puts in `bodySHA256`. */
export async function bodySha256Hex(body: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', utf8.encode(body)));
  let hex = '';
  for (const b of digest) hex += b.toString(16).padStart(2, '0');
  return hex;
}

/**
 * A request with a JSON (or any non-form) body, as Twilio signs it (twilio-node's
 * `validateRequestWithBody`): the signature covers the URL, which carries `bodySHA256`, with no
 * params, and the body's SHA-256 hex must equal that query value. A URL without `bodySHA256`
 * never validates here (the body would be unsigned).
 */
export async function validateTwilioBody(
  key: string,
  signatureHeader: string,
  url: string,
  body: string,
  algorithm: TwilioSignatureAlgorithm = 'HMAC-SHA1',
): Promise<boolean> {
  let claimed: string | null;
  try {
    claimed = new URL(url).searchParams.get('bodySHA256');
  } catch {
    return false;
  }
  if (!claimed || !/^[0-9a-f]{64}$/.test(claimed)) return false;
  if (!(await validateTwilioSignature(key, signatureHeader, url, {}, algorithm))) return false;
  // Not secret (it is in the signed URL), so a plain comparison is fine.
  return (await bodySha256Hex(body)) === claimed;
}

/** The header Twilio adds when a webhook rule signs with a shared key instead of the auth token. */
export const SIGNATURE_SETTINGS_HEADER = 'X-Twilio-Webhooks-Signature-Settings';

/**
 * Reads `X-Twilio-Webhooks-Signature-Settings` (`key=<id>,algorithm=HMAC_SHA256`): the signing
 * key's id and the algorithm, or null when the header is malformed or names an algorithm Twilio
 * does not sign with (such a request is refused, never checked with a weaker default).
 */
export function parseSignatureSettings(header: string): { keyId: string; algorithm: TwilioSignatureAlgorithm } | null {
  if (header.length > 512) return null;
  const fields = new Map<string, string>();
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 1) return null;
    fields.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  const alg = (fields.get('algorithm') ?? '').toUpperCase().replace('-', '_');
  const algorithm = alg === 'HMAC_SHA256' ? 'HMAC-SHA256' : alg === 'HMAC_SHA1' ? 'HMAC-SHA1' : null;
  if (!algorithm) return null;
  return { keyId: fields.get('key') ?? '', algorithm };
}
