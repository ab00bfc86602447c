import { serverMisconfigured } from '../errors.ts';

/**
 * The WebSocket base of an edge at `publicBaseUrl`: `https` becomes `wss`, `http` becomes `ws`,
 * the base's path is kept (without a trailing slash) and there is no query string or fragment
 * (Twilio signs stream URLs exactly on the upgrade, and the upgrade route recomputes them the
 * same way).
 */
export function wsBaseUrl(publicBaseUrl: string): string {
  let url: URL;
  try {
    url = new URL(publicBaseUrl);
  } catch {
    throw serverMisconfigured('PUBLIC_BASE_URL is not a valid URL');
  }
  const scheme = url.protocol === 'https:' ? 'wss:' : url.protocol === 'http:' ? 'ws:' : null;
  if (!scheme) throw serverMisconfigured('PUBLIC_BASE_URL must be an http:// or https:// URL');
  const path = url.pathname.replace(/\/+$/, '');
  return `${scheme}//${url.host}${path}`;
}
