import type { ContentfulStatusCode } from 'hono/utils/http-status';

/**
 * The edge's error family. Every route throws one of these; `app.onError` turns it into
 * `{"error": {"code", "message"}}` with its status (and `Retry-After` where set).
 */
export class HttpError extends Error {
  readonly status: ContentfulStatusCode;
  readonly code: string;
  readonly headers: Record<string, string>;

  constructor(status: ContentfulStatusCode, code: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

export const badRequest = (message: string, code = 'bad_request') => new HttpError(400, code, message);
export const unauthorized = (message: string) =>
  new HttpError(401, 'unauthorized', message, { 'WWW-Authenticate': 'Bearer' });
export const forbidden = (message: string) => new HttpError(403, 'forbidden', message);
export const notFound = (message: string) => new HttpError(404, 'not_found', message);
export const conflict = (message: string) => new HttpError(409, 'conflict', message);
export const gone = (message: string) => new HttpError(410, 'gone', message);
export const preconditionFailed = (message: string) => new HttpError(412, 'precondition_failed', message);
export const payloadTooLarge = (limitBytes: number) =>
  new HttpError(413, 'payload_too_large', `body larger than ${limitBytes} bytes`);
export const unsupportedMediaType = (expected: string) =>
  new HttpError(415, 'unsupported_media_type', `Content-Type must be ${expected}`);
export const rateLimited = (retryAfterS: number) =>
  new HttpError(429, 'rate_limited', 'too many requests', { 'Retry-After': String(retryAfterS) });
export const serverMisconfigured = (message: string) => new HttpError(500, 'misconfigured', message);
/** An upstream provider (TURN, Twilio, SQS) failed or answered something unusable. */
export const badGateway = (message: string) => new HttpError(502, 'upstream_failed', message);
export const unavailable = (message: string, retryAfterS: number) =>
  new HttpError(503, 'no_worker', message, { 'Retry-After': String(retryAfterS) });
