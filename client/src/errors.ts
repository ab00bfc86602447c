/**
 * Errors the stream client reports. A `ProtocolError` is a server message that breaks
 * docs/stream-protocol.md: the client refuses it (drops it, or fails the handshake when it comes
 * before `session`) and reports it, never throws from the socket's callbacks.
 */
export type ProtocolErrorCode =
  /** A text frame that is not JSON. */
  | 'not-json'
  /** JSON that is not an object with a non-empty string `type`. */
  | 'bad-message'
  /** A message larger than the 16 KiB limit. */
  | 'too-large'
  /** The first message is not `session`, or `session` has no `s_` id. */
  | 'bad-session'
  /** A second `session`. */
  | 'unexpected-session'
  /** `started` whose `format` or `output` is not a valid audio format. */
  | 'bad-started'
  /** A second `started`. */
  | 'duplicate-started'
  /** `started` announces formats other than the ones the client asked for. */
  | 'format-mismatch'
  /** `mark` without a string `name`. */
  | 'bad-mark'
  /** Reply audio before `started` (the output format is not agreed yet). */
  | 'audio-before-started'
  /** A binary frame that is not whole PCM16 samples. */
  | 'bad-audio'
  /** A reply audio frame that is not 20 ms long (it is still played). */
  | 'frame-duration'
  /** Reply audio buffered further ahead of playback than the spec's ~200 ms allows. */
  | 'ahead-of-playback';

export class ProtocolError extends Error {
  readonly code: ProtocolErrorCode;
  /** The start of the offending message, for diagnosis (at most 200 characters). */
  readonly excerpt: string | undefined;

  constructor(code: ProtocolErrorCode, message: string, excerpt?: string) {
    super(`${code}: ${message}`);
    this.name = 'ProtocolError';
    this.code = code;
    this.excerpt = excerpt === undefined ? undefined : excerpt.slice(0, 200);
  }
}

/** The edge answered the upgrade with a plain HTTP response (401, 426, 429, ...). */
export class StreamRefusedError extends Error {
  readonly status: number;
  /** The response body: parsed JSON when it is JSON, else the text. */
  readonly body: unknown;
  /** `Retry-After` in seconds, when the response carries one (429). */
  readonly retryAfterS: number | undefined;

  constructor(status: number, body: unknown, retryAfterS: number | undefined) {
    super(`stream refused: HTTP ${status}${typeof body === 'string' && body ? ` ${body.slice(0, 200)}` : body ? ` ${JSON.stringify(body).slice(0, 200)}` : ''}`);
    this.name = 'StreamRefusedError';
    this.status = status;
    this.body = body;
    this.retryAfterS = retryAfterS;
  }
}
