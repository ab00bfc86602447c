/**
 * Twilio request validation (`X-Twilio-Signature`), as Twilio documents it and as its own
 * libraries compute it: base64(HMAC-SHA1(authToken, url + name1 + value1 + name2 + value2 ...)),
 * parameters sorted by name, and a repeated name's values de-duplicated and sorted (twilio-node and
 * twilio-python both use a set). Sorting is by UTF-16 code units (JavaScript's default `sort`), the
 * bytes hashed are the UTF-8 encoding of that string.
 *
 * WebCrypto only (`crypto.subtle`), no `node:` imports: this runs in workerd and in Node 22+.
 */

/** Form parameters of a signed request; for a WebSocket upgrade (GET) this is `{}`. */
export type TwilioParams = Record<string, string | string[]>;

const utf8 = new TextEncoder();

/** A SHA-1 HMAC digest is 20 bytes, so a canonical base64 signature is 28 characters. */
const SIGNATURE_BYTES = 20;

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
function hmacKey(authToken: string): Promise<CryptoKey> {
  const raw = authToken === '' ? new Uint8Array(64) : utf8.encode(authToken);
  return crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-1' }, false, ['sign', 'verify']);
}

function toBase64(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/**
 * Decodes a signature header, accepting only the canonical base64 of a 20-byte digest (28 chars,
 * one `=`), exactly the string Twilio sends: `atob` alone would also accept missing padding,
 * whitespace and non-zero trailing bits, which Twilio's string comparison rejects. Checking the
 * header against its own re-encoding reveals nothing about the expected signature.
 */
function decodeSignature(header: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9+/]{27}=$/.test(header)) return null;
  let bin: string;
  try {
    bin = atob(header);
  } catch {
    return null;
  }
  const bytes = Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
  if (bytes.length !== SIGNATURE_BYTES || toBase64(bytes) !== header) return null;
  return bytes;
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

/** The signature Twilio would send for this request (base64 of the HMAC-SHA1 digest). */
export async function computeTwilioSignature(authToken: string, url: string, params: TwilioParams): Promise<string> {
  const key = await hmacKey(authToken);
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
): Promise<boolean> {
  if (authToken === '') return false;
  const signature = decodeSignature(signatureHeader);
  if (!signature) return false;
  const key = await hmacKey(authToken);
  for (const candidate of twilioUrlCandidates(url)) {
    if (await crypto.subtle.verify('HMAC', key, signature, utf8.encode(signedData(candidate, params)))) return true;
  }
  return false;
}
