/**
 * One WebSocket to the Realtime API, over `ws` directly.
 *
 * Why not the SDK's `OpenAIRealtimeWS` (openai/realtime/ws): it builds its URL from the client's
 * baseURL and accepts a custom URL only with `wss:` (no plain `ws://127.0.0.1` fake), constructs a
 * full `OpenAI` client per connection, and defaults to no limit on incoming message size. The
 * adapter needs its own URL, a payload limit, connect timeout and pausing the read side for
 * backpressure, all of which are `ws` options or methods; the protocol is plain JSON events, so
 * the SDK is used for its types only (wire.ts).
 *
 * `connection.opened` resolves once the socket is open and the server has sent its first event
 * (`session.created`), within `timeoutMs`; an HTTP refusal (401 for a bad key) rejects it with its
 * status and OpenAI's message (a ConnectError carrying the status). Every message, the first
 * included, goes to `onMessage`. A connection lost after it opened is reported once to `onLost`
 * with the close code, so the owner can tell a dropped socket from a session the server ended.
 */
import WebSocket from 'ws';
import type { ClientEvent } from './wire.ts';

/** Largest server message accepted (bytes). Audio deltas are a few KiB; `session.created` echoes instructions and tools. */
export const MAX_MESSAGE_BYTES = 4 << 20;
/** Most of an HTTP refusal's body read for its message. */
const MAX_REFUSAL_BODY = 4096;
/** A ping every this many ms; no pong by the next one (while reading) is a dead connection. */
const KEEPALIVE_MS = 15_000;

export interface ConnectOptions {
  url: string;
  apiKey: string;
  timeoutMs: number;
  signal: AbortSignal;
  /** Each text message, in order. */
  onMessage: (text: string) => void;
  /** The connection ended after it opened, without close() being called: why. */
  onLost: (loss: Loss) => void;
}

export interface Loss {
  message: string;
  /** The WebSocket close code (1006: dropped without a close frame); undefined when pings went unanswered. */
  closeCode: number | undefined;
}

/** Opening the session failed; `status` is the HTTP status of a refused upgrade. */
export class ConnectError extends Error {
  readonly status: number | undefined;
  constructor(message: string, status?: number) {
    super(message);
    this.name = 'ConnectError';
    this.status = status;
  }
}

export interface Connection {
  /** Resolves when the session is open; rejects with a clear error (refused, timed out, aborted, closed). */
  readonly opened: Promise<void>;
  send(event: ClientEvent): boolean;
  /** Bytes queued in the socket, not yet sent. */
  readonly bufferedAmount: number;
  /** Stops reading (backpressure reaches the server through TCP). */
  pause(): void;
  resume(): void;
  close(): void;
}

export function connect(o: ConnectOptions): Connection {
  let resolve!: () => void;
  let reject!: (err: ConnectError) => void;
  const opened = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  opened.catch(() => undefined); // the owner awaits it; a rejection before then is not unhandled
  const ws = new WebSocket(o.url, {
    headers: { Authorization: `Bearer ${o.apiKey}` },
    maxPayload: MAX_MESSAGE_BYTES,
    perMessageDeflate: false,
    handshakeTimeout: o.timeoutMs,
  });
  let settled = false;
  let closing = false;
  let keepalive: ReturnType<typeof setInterval> | undefined;
  let awaitingPong = false;

  const fail = (err: ConnectError): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    o.signal.removeEventListener('abort', onAbort);
    ws.terminate();
    reject(err);
  };
  const timer = setTimeout(() => fail(new ConnectError(`OpenAI Realtime did not open a session within ${o.timeoutMs} ms (${redact(o.url)})`)), o.timeoutMs);
  const onAbort = (): void => fail(new ConnectError('connecting to OpenAI Realtime was aborted: the session ended'));
  o.signal.addEventListener('abort', onAbort, { once: true });

  const conn: Connection = {
    opened,
    send(event) {
      if (ws.readyState !== WebSocket.OPEN) return false;
      ws.send(JSON.stringify(event));
      return true;
    },
    get bufferedAmount() {
      return ws.bufferedAmount;
    },
    pause: () => ws.pause(),
    resume: () => ws.resume(),
    close() {
      closing = true;
      clearInterval(keepalive);
      if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'session ended');
      else ws.terminate();
    },
  };

  ws.on('unexpected-response', (req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => {
      req.destroy();
      fail(new ConnectError(refusalMessage(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')), res.statusCode));
    };
    res.on('data', (c: Buffer) => {
      if (size < MAX_REFUSAL_BODY) chunks.push(c.subarray(0, MAX_REFUSAL_BODY - size));
      size += c.length;
      if (size >= MAX_REFUSAL_BODY) done();
    });
    res.on('end', done);
    res.on('error', done);
  });
  ws.on('error', (err) => {
    if (!settled) fail(new ConnectError(`could not connect to OpenAI Realtime (${redact(o.url)}): ${err.message}`));
  });
  ws.on('message', (data, isBinary) => {
    if (isBinary) return; // the API sends text only
    const text = String(data);
    if (!settled) {
      settled = true;
      clearTimeout(timer);
      o.signal.removeEventListener('abort', onAbort);
      keepalive = setInterval(ping, KEEPALIVE_MS);
      keepalive.unref();
      resolve();
    }
    o.onMessage(text);
  });
  ws.on('pong', () => (awaitingPong = false));
  ws.on('close', (code, reason) => {
    clearInterval(keepalive);
    if (!settled) fail(new ConnectError(`OpenAI Realtime closed the connection before the session opened (code ${code}${reason.length ? `: ${String(reason)}` : ''})`));
    else if (!closing) o.onLost({ message: `OpenAI Realtime closed the connection mid-call (code ${code}${reason.length ? `: ${String(reason)}` : ''})`, closeCode: code });
  });

  function ping(): void {
    // A paused reader does not see pongs: no verdict while paused.
    if (ws.isPaused) return void (awaitingPong = false);
    if (awaitingPong) {
      o.onLost({ message: `OpenAI Realtime stopped answering pings (none for ${KEEPALIVE_MS} ms)`, closeCode: undefined });
      closing = true;
      ws.terminate();
      return;
    }
    awaitingPong = true;
    ws.ping();
  }
  return conn;
}

function refusalMessage(status: number, body: string): string {
  let detail = body.trim().slice(0, 300);
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } };
    if (typeof parsed.error?.message === 'string') detail = parsed.error.message;
  } catch {
    // not JSON: the text as is
  }
  const hint = status === 401 || status === 403 ? ' (check OPENAI_API_KEY)' : '';
  return `OpenAI Realtime refused the connection: HTTP ${status}${detail ? ` ${detail}` : ''}${hint}`;
}

/** The URL without its query string's values (they may name accounts or deployments). */
function redact(url: string): string {
  return url.split('?')[0] ?? url;
}
