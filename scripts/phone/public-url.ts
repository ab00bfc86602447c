/**
 * The edge tells Twilio its public address (PUBLIC_BASE_URL): TwiML URLs are built from it and
 * every signature is computed over it. The simulator may reach the same edge at another address
 * (`baseUrl`, e.g. 127.0.0.1:8787 behind a tunnel's public name). URLs under the public base are
 * therefore *signed* as written and *requested* at the base URL; any other URL is used as it is.
 */

/** `http(s)://` -> `ws(s)://`, the scheme pairing the edge's `streamUrlFromBase` uses. */
function toWsScheme(url: string): string {
  return url.replace(/^http(s?):\/\//i, (_m, s: string) => `ws${s}://`);
}

const trimSlash = (url: string) => url.replace(/\/+$/, '');

/** Where to send a request for `url`, which names the edge by its public base URL. */
export function transportUrl(url: string, publicBaseUrl: string, baseUrl: string): string {
  const pairs: Array<[string, string]> = [
    [trimSlash(publicBaseUrl), trimSlash(baseUrl)],
    [toWsScheme(trimSlash(publicBaseUrl)), toWsScheme(trimSlash(baseUrl))],
  ];
  for (const [pub, local] of pairs) {
    if (url === pub || url.startsWith(`${pub}/`) || url.startsWith(`${pub}?`)) return local + url.slice(pub.length);
  }
  return url;
}
