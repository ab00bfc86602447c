/**
 * One TTS reply over one provider WebSocket: the plumbing the ElevenLabs and Cartesia adapters
 * share. It connects (with a timeout), sends what the adapter queues (held until the socket is
 * open), hands each provider message to the adapter, and feeds the bounded `ChunkQueue` that backs
 * `TtsStream.audio`, pausing the socket while the reader is behind.
 *
 * Failures end `audio` with a `TtsProviderError` naming the cause: HTTP status of a refused
 * handshake (with the provider's body), connect timeout, no response to text, a close mid-reply.
 * Aborting the signal closes the socket at once and ends `audio` without error.
 */
import WebSocket from 'ws';
import { ChunkQueue } from './chunk-queue.ts';

/** A provider failure during a reply, named so logs say which provider and why. */
export class TtsProviderError extends Error {
  override name = 'TtsProviderError';
  readonly provider: string;
  /** HTTP status of a refused handshake, the WebSocket close code, or the provider's error status. */
  readonly code: number | undefined;

  constructor(provider: string, message: string, code?: number) {
    super(`${provider}: ${message}`);
    this.provider = provider;
    this.code = code;
  }
}

export interface ReplySocketConfig {
  /** Provider name for errors. */
  name: string;
  url: string;
  headers: Record<string, string>;
  sampleRate: number;
  signal: AbortSignal;
  /** Connecting (TCP, TLS, upgrade) must finish within this. */
  connectTimeoutMs: number;
  /** After text is sent, the provider must answer within this; after the end, each message must follow the last within it. */
  responseTimeoutMs: number;
  /** Audio the queue holds before the socket is paused (ms at `sampleRate`). */
  maxBufferedMs: number;
  /** The largest provider message accepted (bytes); bigger closes with 1009. */
  maxMessageBytes: number;
}

export interface ReplySocketHandlers {
  /** The socket is open (queued messages are sent right after). */
  onOpen?(): void;
  /** One text message from the provider. Throwing fails the reply with that error. */
  onMessage(text: string): void;
  /** A message to send before closing on abort (e.g. a cancel), if any. */
  cancelMessage?(): object | undefined;
  /** Whether the provider closing with `code` ends the reply normally (default: never; a close is mid-reply). */
  closedNormally?(code: number): boolean;
}

/** Bytes of a refused handshake's body kept for the error message. */
const MAX_ERROR_BODY_BYTES = 2048;
/** How long a graceful close may take before the socket is destroyed. */
const CLOSE_GRACE_MS = 1000;

export class ReplySocket {
  readonly queue: ChunkQueue;
  readonly #config: ReplySocketConfig;
  readonly #handlers: ReplySocketHandlers;
  readonly #ws: WebSocket;
  readonly #outbox: string[] = [];
  #timer: NodeJS.Timeout | undefined;
  /** Text was sent and nothing has come back since. */
  #awaiting = false;
  /** The end of the text was sent: every message re-arms the timer until the reply is done. */
  #ending = false;
  #done = false;
  #messages = 0;
  #handlingMs = 0;
  readonly #onAbort = (): void => this.#abort();

  constructor(config: ReplySocketConfig, handlers: ReplySocketHandlers) {
    this.#config = config;
    this.#handlers = handlers;
    const highWaterSamples = Math.round((config.maxBufferedMs * config.sampleRate) / 1000);
    this.queue = new ChunkQueue({
      highWaterSamples,
      lowWaterSamples: Math.floor(highWaterSamples / 2),
      onPause: () => {
        this.#ws.pause();
        this.#clearTimer(); // the provider is silent because we stopped reading
      },
      onResume: () => {
        this.#ws.resume();
        if (this.#awaiting || this.#ending) this.#armTimer();
      },
      onReaderGone: () => this.#close(this.#handlers.cancelMessage?.()),
    });
    this.#ws = new WebSocket(config.url, { headers: config.headers, maxPayload: config.maxMessageBytes, perMessageDeflate: false });
    this.#listen();
    this.#timer = setTimeout(() => this.fail(new TtsProviderError(config.name, `connect timed out after ${config.connectTimeoutMs} ms (${redact(config.url)})`)), config.connectTimeoutMs);
    if (config.signal.aborted) this.#abort();
    else config.signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** Provider messages handled and the time spent handling them (parse, decode, queue). */
  get stats(): { messages: number; handlingMs: number; maxQueuedSamples: number } {
    return { messages: this.#messages, handlingMs: this.#handlingMs, maxQueuedSamples: this.queue.maxQueuedSamples };
  }

  get done(): boolean {
    return this.#done;
  }

  /** Sends a JSON message now, or once the socket opens. `expectsAnswer`: text the provider must answer within the response timeout. */
  send(message: object, expectsAnswer = false): void {
    if (this.#done) return;
    const data = JSON.stringify(message);
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.send(data);
    else this.#outbox.push(data);
    if (expectsAnswer && !this.#awaiting) {
      this.#awaiting = true;
      if (this.#ws.readyState === WebSocket.OPEN && !this.queue.paused) this.#armTimer();
    }
  }

  /** The end of the text was sent: from now on the provider must keep answering until `finish()`. */
  ending(): void {
    this.#ending = true;
    if (this.#ws.readyState === WebSocket.OPEN && !this.queue.paused) this.#armTimer();
  }

  /** The provider finished the reply: `audio` ends after what is queued, the socket closes. */
  finish(): void {
    if (this.#done) return;
    this.queue.end();
    this.#close();
  }

  /** The reply failed: `audio` throws `error` after what is queued, the socket is dropped. */
  fail(error: Error): void {
    if (this.#done) return;
    this.queue.fail(error);
    this.#close();
  }

  #abort(): void {
    if (this.#done) return;
    this.queue.abort();
    this.#close(this.#handlers.cancelMessage?.());
  }

  #listen(): void {
    const ws = this.#ws;
    const { name } = this.#config;
    ws.on('open', () => {
      this.#clearTimer();
      if (this.#done) return;
      this.#handlers.onOpen?.();
      for (const data of this.#outbox.splice(0)) ws.send(data);
      if (this.#awaiting || this.#ending) this.#armTimer();
    });
    ws.on('unexpected-response', (req, res) => {
      const status = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let size = 0;
      const report = (): void => {
        const body = Buffer.concat(chunks).toString('utf8').trim();
        const what = status === 401 || status === 403 ? 'authentication failed' : 'refused the connection';
        this.fail(new TtsProviderError(name, `${what} (HTTP ${status}${body ? `: ${body}` : ''})`, status));
        req.destroy();
      };
      res.on('data', (chunk: Buffer) => {
        if (size < MAX_ERROR_BODY_BYTES) chunks.push(chunk.subarray(0, MAX_ERROR_BODY_BYTES - size));
        size += chunk.length;
        if (size >= MAX_ERROR_BODY_BYTES) res.destroy();
      });
      res.on('end', report);
      res.on('close', report);
      res.on('error', report);
    });
    ws.on('message', (data, isBinary) => {
      if (this.#done) return;
      const started = performance.now();
      this.#messages++;
      if (this.#ending) this.#armTimer();
      else if (this.#awaiting) {
        this.#awaiting = false;
        this.#clearTimer();
      }
      try {
        if (isBinary) throw new TtsProviderError(name, 'sent a binary message where JSON was expected');
        this.#handlers.onMessage(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8'));
      } catch (error) {
        this.fail(error instanceof TtsProviderError ? error : new TtsProviderError(name, `bad message: ${(error as Error).message}`));
      }
      this.#handlingMs += performance.now() - started;
    });
    ws.on('error', (error) => {
      this.fail(new TtsProviderError(name, `connection error: ${error.message}`));
    });
    ws.on('close', (code, reason) => {
      this.#clearTimer();
      if (this.#handlers.closedNormally?.(code)) return this.finish();
      const why = reason.toString('utf8');
      this.fail(new TtsProviderError(name, `connection closed mid-reply (code ${code}${why ? `: ${why}` : ''})`, code));
    });
  }

  #armTimer(): void {
    this.#clearTimer();
    const ms = this.#config.responseTimeoutMs;
    const what = this.#ending ? `no message for ${ms} ms before the end of the reply` : `no response within ${ms} ms of sending text`;
    this.#timer = setTimeout(() => this.fail(new TtsProviderError(this.#config.name, what)), ms);
  }

  #clearTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #close(lastMessage?: object): void {
    if (this.#done) return;
    this.#done = true;
    this.#clearTimer();
    this.#config.signal.removeEventListener('abort', this.#onAbort);
    const ws = this.#ws;
    if (ws.readyState === WebSocket.OPEN) {
      if (lastMessage) ws.send(JSON.stringify(lastMessage));
      ws.close(1000);
      setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
    } else if (ws.readyState === WebSocket.CONNECTING) {
      ws.terminate();
    }
  }
}

/** The URL without its query (which may carry a key). */
function redact(url: string): string {
  return url.split('?')[0] ?? url;
}
