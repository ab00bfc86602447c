/**
 * One live Deepgram connection: caller audio out as binary linear16 frames, recognizer messages
 * in as SttEvents. KeepAlive is sent when no audio went out for `keepAliveMs` (Deepgram closes an
 * idle stream with NET-0001 after 10 s; its docs advise a KeepAlive every 3-5 s); `close()` sends
 * CloseStream so Deepgram flushes its last results, then waits (bounded) for its close frame.
 *
 * Any close we did not ask for (a close frame with any code, a dropped socket) fails `events`
 * with the close code and Deepgram's reason (e.g. "1011 NET-0001 …", "1008 DATA-0000 …").
 */
import WebSocket from 'ws';
import { FlowQueue } from '../shared/flow-queue.ts';
import type { SttEvent, SttSession } from '../types.ts';
import { DeepgramMessageParser } from './messages.ts';

export interface DeepgramSessionLimits {
  /** Idle time after which a KeepAlive goes out (ms). */
  keepAliveMs: number;
  /** Socket backlog beyond which audio is dropped (bytes). */
  maxBufferedBytes: number;
  /** How long close() waits for Deepgram's close frame after CloseStream (ms). */
  closeTimeoutMs: number;
  /** Events the consumer may lag behind by before the session fails. */
  maxQueuedEvents: number;
}

export interface DeepgramSessionStats {
  /** Audio frames dropped (socket backed up or not open). */
  droppedAudio: number;
  /** Server messages that were not JSON or not of a known shape (ignored). */
  badMessages: number;
  keepAlivesSent: number;
  audioBytesSent: number;
}

export class DeepgramSession implements SttSession {
  readonly events: AsyncIterable<SttEvent>;
  readonly stats: DeepgramSessionStats = { droppedAudio: 0, badMessages: 0, keepAlivesSent: 0, audioBytesSent: 0 };
  /** The reason of the last message that could not be used (for logs). */
  lastBadMessage: string | undefined;
  readonly #ws: WebSocket;
  readonly #limits: DeepgramSessionLimits;
  readonly #queue: FlowQueue<SttEvent>;
  readonly #parser = new DeepgramMessageParser();
  readonly #now: () => number;
  readonly #keepAlive: ReturnType<typeof setInterval>;
  #lastSentAt: number;
  #closing: Promise<void> | undefined;
  readonly #onAbort = (): void => this.#fail(undefined, true);
  readonly #signal: AbortSignal;

  /** `ws` must be open. */
  constructor(ws: WebSocket, limits: DeepgramSessionLimits, signal: AbortSignal, now: () => number) {
    this.#ws = ws;
    this.#limits = limits;
    this.#now = now;
    this.#signal = signal;
    // Bounded so a consumer that stops reading cannot make it grow without limit (overflowing
    // fails the session); a failure reaches the consumer after the events already received.
    this.#queue = new FlowQueue<SttEvent>({ bound: { kind: 'reject', capacity: limits.maxQueuedEvents }, failure: 'after-drain', name: 'STT events' });
    this.events = this.#queue;
    this.#lastSentAt = now();
    ws.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    ws.on('error', (err) => this.#fail(new Error(`deepgram connection failed: ${err.message}`)));
    ws.on('close', (code, reason) => this.#onClose(code, reason.toString('utf8')));
    this.#keepAlive = setInterval(() => this.#maybeKeepAlive(), Math.max(50, limits.keepAliveMs / 4));
    this.#keepAlive.unref();
    signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  send(samples: Int16Array): void {
    if (this.#ws.readyState !== WebSocket.OPEN || this.#closing || this.#ws.bufferedAmount > this.#limits.maxBufferedBytes) {
      this.stats.droppedAudio++;
      return;
    }
    if (samples.length === 0) return;
    // linear16 is little-endian: the byte view of an Int16Array is, on every platform Node runs on.
    this.#ws.send(Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength));
    this.stats.audioBytesSent += samples.byteLength;
    this.#lastSentAt = this.#now();
  }

  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      if (this.#ws.readyState !== WebSocket.OPEN) {
        this.#fail(undefined, true);
        return resolve();
      }
      const timer = setTimeout(() => {
        this.#ws.terminate();
        this.#fail(undefined, true);
      }, this.#limits.closeTimeoutMs);
      this.#ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.#ws.send(JSON.stringify({ type: 'CloseStream' }));
    });
    return this.#closing;
  }

  #maybeKeepAlive(): void {
    if (this.#ws.readyState !== WebSocket.OPEN || this.#closing) return;
    if (this.#now() - this.#lastSentAt < this.#limits.keepAliveMs) return;
    this.#ws.send(JSON.stringify({ type: 'KeepAlive' }));
    this.stats.keepAlivesSent++;
    this.#lastSentAt = this.#now();
  }

  #onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    if (isBinary) return this.#bad('a binary message');
    const parsed = this.#parser.parse(data.toString(), this.#now());
    if (parsed.kind === 'unusable') return this.#bad(parsed.reason);
    if (parsed.kind === 'ignored') return;
    if (!this.#queue.push(parsed.event)) {
      this.#fail(new Error(`deepgram: more than ${this.#limits.maxQueuedEvents} transcription events were not read`));
    }
  }

  #bad(reason: string): void {
    this.stats.badMessages++;
    this.lastBadMessage = reason;
  }

  #onClose(code: number, reason: string): void {
    if (this.#closing) return this.#fail(undefined, false);
    const why = reason ? `${code} ${reason}` : `${code}`;
    this.#fail(new Error(`deepgram closed the live connection unexpectedly (close code ${why})`), false);
  }

  /** Ends the session: with `error` the consumer's read throws it; `terminate` drops the socket. */
  #fail(error: Error | undefined, terminate = true): void {
    clearInterval(this.#keepAlive);
    this.#signal.removeEventListener('abort', this.#onAbort);
    if (terminate && this.#ws.readyState !== WebSocket.CLOSED) this.#ws.terminate();
    if (error) this.#queue.fail(error);
    else this.#queue.end();
  }
}
