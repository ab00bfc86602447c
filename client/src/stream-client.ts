import WebSocket from 'ws';
import type { HeardLog, HeardSlot } from './heard-log.ts';
import { Inbound } from './inbound.ts';
import type { ProtocolError } from './errors.ts';
import { Listeners } from './listeners.ts';
import { MAX_MESSAGE_BYTES, isPcm16SampleRate, startMessage } from './messages.ts';
import { encodePcm16 } from './pcm16.ts';
import { refusalFromResponse } from './refusal.ts';
import type {
  CloseInfo, MarkRecord, ReceivedEvent, StartedInfo, StreamClientEvents, StreamClientOptions, StreamStats,
} from './stream-types.ts';

export { ProtocolError, StreamRefusedError, type ProtocolErrorCode } from './errors.ts';
export type { AudioFormat, Pcm16Format, ServerEvent } from './messages.ts';
export type { HeardSlot } from './heard-log.ts';
export type * from './stream-types.ts';

/** Frames above this are cut by the socket itself (close 1009); between 16 KiB and this they are reported. */
const MAX_FRAME_BYTES = 1024 * 1024;

/**
 * A client of `GET /v1/stream` (docs/stream-protocol.md): sends caller audio as PCM16, plays reply
 * audio in real time, echoes marks when the audio before them has played and honours `clear`,
 * recording what was heard and when. Server messages that break the protocol are refused and
 * reported (`error` listeners, `errors`), never thrown.
 */
export class StreamClient {
  /** Opens the socket and resolves once `session` has arrived and `start` has been sent. */
  static async connect(url: string | URL, options: StreamClientOptions): Promise<StreamClient> {
    checkOptions(options);
    options.signal?.throwIfAborted();
    const client = new StreamClient(url, options);
    await client.#ready;
    return client;
  }

  /** performance.now() when connect() was called: time 0 of every `...Ms` value. */
  readonly timeOrigin = performance.now();
  /** Resolves when `started` arrives; rejects if the session ends first. */
  readonly started: Promise<StartedInfo>;
  /** Resolves when the socket has closed (never rejects). */
  readonly closed: Promise<CloseInfo>;

  #ws: WebSocket;
  #listeners = new Listeners<StreamClientEvents>();
  #inbound: Inbound;
  #closeInfo: CloseInfo | undefined;
  #socketError: Error | undefined;
  #ready: Promise<void>;
  #settleReady!: (error?: unknown) => void;
  #settleStarted!: (info: StartedInfo | Error) => void;
  #settleClosed!: (info: CloseInfo) => void;
  #stats: StreamStats = {
    bytesSent: 0, bytesReceived: 0, audioBytesSent: 0, audioBytesReceived: 0,
    samplesDroppedBeforeStarted: 0, samplesDroppedClosed: 0,
    marksReceived: 0, marksEchoed: 0, clears: 0, samplesDroppedByClear: 0, protocolErrors: 0,
  };

  private constructor(url: string | URL, options: StreamClientOptions) {
    this.#inbound = new Inbound({
      options,
      stats: this.#stats,
      listeners: this.#listeners,
      timeOrigin: this.timeOrigin,
      sendText: (text) => this.#sendText(text),
      isOpen: () => this.isOpen,
      onSession: () => {
        this.#sendText(startMessage(options.format, options.output));
        this.#settleReady();
      },
      onHandshakeError: (error) => {
        this.#settleReady(error);
        this.#ws.close(1002, 'protocol error');
      },
      onStarted: (info) => this.#settleStarted(info),
    });
    this.#ready = new Promise<void>((resolve, reject) => {
      let settled = false;
      this.#settleReady = (error) => {
        if (settled) return;
        settled = true;
        if (error === undefined) resolve();
        else reject(error);
      };
    });
    this.#ready.catch(() => {}); // observed by connect(); this keeps a late failure from going unhandled
    this.started = new Promise<StartedInfo>((resolve, reject) => {
      this.#settleStarted = (x) => (x instanceof Error ? reject(x) : resolve(x));
    });
    this.started.catch(() => {}); // callers that never await `started` must not see an unhandled rejection
    this.closed = new Promise<CloseInfo>((resolve) => (this.#settleClosed = resolve));

    const headers: Record<string, string> = options.token ? { Authorization: `Bearer ${options.token}` } : {};
    this.#ws = new WebSocket(url, { headers, maxPayload: MAX_FRAME_BYTES });
    this.#ws.on('unexpected-response', (req, res) => {
      void refusalFromResponse(res).then((refusal) => {
        this.#settleReady(refusal);
        req.destroy();
        this.#ws.terminate();
      });
    });
    // binaryType is nodebuffer: every message is one Buffer.
    this.#ws.on('message', (data, isBinary) => this.#inbound.handle(data as Buffer, isBinary, this.now()));
    this.#ws.on('error', (err) => {
      this.#socketError ??= err;
      this.#settleReady(err);
    });
    this.#ws.on('close', (code, reason) => this.#onClose(code, reason.toString('utf8')));
    const signal = options.signal;
    if (signal) {
      const onAbort = () => {
        if (!this.#inbound.sessionId) {
          this.#settleReady(signal.reason);
          this.#ws.terminate();
        } else this.close(1000, 'aborted');
      };
      signal.addEventListener('abort', onAbort, { once: true });
      void this.closed.then(() => signal.removeEventListener('abort', onAbort));
    }
  }

  get sessionId(): string {
    return this.#inbound.sessionId;
  }

  /** The `started` message, once it has arrived. */
  get startedInfo(): StartedInfo | undefined {
    return this.#inbound.startedInfo;
  }

  get isOpen(): boolean {
    return this.#ws.readyState === WebSocket.OPEN;
  }

  /** A snapshot of the counters. */
  get stats(): StreamStats {
    return { ...this.#stats };
  }

  /** Reply audio that has played, each stretch with when it started playing. */
  get heard(): readonly HeardSlot[] {
    return this.#inbound.player.heard.slots;
  }

  get heardMs(): number {
    return this.#inbound.player.heard.ms;
  }

  /** The log of heard audio (its `audio()` concatenates it). */
  get heardLog(): HeardLog {
    return this.#inbound.player.heard;
  }

  /** Handler and pipeline events in arrival order. */
  get events(): readonly ReceivedEvent[] {
    return this.#inbound.events;
  }

  /** Every server mark, with when it arrived, was played or was cleared. */
  get marks(): readonly MarkRecord[] {
    return this.#inbound.marks;
  }

  /** Every refused server message. */
  get errors(): readonly ProtocolError[] {
    return this.#inbound.errors;
  }

  /** ms since connect() was called. */
  now(): number {
    return performance.now() - this.timeOrigin;
  }

  on<K extends keyof StreamClientEvents>(name: K, listener: StreamClientEvents[K]): this {
    this.#listeners.on(name, listener);
    return this;
  }

  off<K extends keyof StreamClientEvents>(name: K, listener: StreamClientEvents[K]): this {
    this.#listeners.off(name, listener);
    return this;
  }

  /**
   * Sends caller audio (PCM16 in the `format` rate), split into frames within the 16 KiB limit.
   * Returns false, counting the samples as dropped, before `started` (the server drops audio
   * sent earlier) or when the socket is not open.
   */
  sendAudio(samples: Int16Array): boolean {
    if (!(samples instanceof Int16Array)) throw new TypeError('sendAudio takes an Int16Array');
    if (!this.isOpen) {
      this.#stats.samplesDroppedClosed += samples.length;
      return false;
    }
    if (!this.#inbound.startedInfo) {
      this.#stats.samplesDroppedBeforeStarted += samples.length;
      return false;
    }
    const perFrame = MAX_MESSAGE_BYTES / 2;
    for (let at = 0; at < samples.length; at += perFrame) {
      const bytes = encodePcm16(samples.subarray(at, at + perFrame));
      this.#ws.send(bytes, { binary: true });
      this.#stats.bytesSent += bytes.length;
      this.#stats.audioBytesSent += bytes.length;
    }
    return true;
  }

  /** Sends an input event for the handler (`{type, ...}`); false when the socket is not open. */
  sendEvent(event: { type: string } & Record<string, unknown>): boolean {
    if (typeof event !== 'object' || event === null || typeof event.type !== 'string' || event.type === '') {
      throw new TypeError('an event is an object with a non-empty string `type`');
    }
    if (event.type === 'start') throw new TypeError('`start` is sent by the client itself');
    const text = JSON.stringify(event);
    if (Buffer.byteLength(text) > MAX_MESSAGE_BYTES) throw new RangeError('event is larger than the 16 KiB message limit');
    if (!this.isOpen) return false;
    this.#sendText(text);
    return true;
  }

  /** Ends the session (close code 1000 unless given). */
  close(code = 1000, reason = ''): void {
    if (this.#ws.readyState === WebSocket.CONNECTING) this.#ws.terminate();
    else if (this.#ws.readyState === WebSocket.OPEN) this.#ws.close(code, reason);
  }

  #sendText(text: string): void {
    this.#ws.send(text);
    this.#stats.bytesSent += Buffer.byteLength(text);
  }

  #onClose(code: number, reason: string): void {
    if (this.#closeInfo) return;
    this.#inbound.stop();
    this.#closeInfo = this.#socketError ? { code, reason, error: this.#socketError } : { code, reason };
    const ended = new Error(`stream closed (${code}${reason ? ` ${reason}` : ''})`);
    this.#settleReady(this.#socketError ?? ended);
    if (!this.#inbound.startedInfo) this.#settleStarted(ended);
    this.#settleClosed(this.#closeInfo);
    this.#listeners.emit('close', this.#closeInfo);
  }
}

function checkOptions(options: StreamClientOptions): void {
  for (const [key, f] of [['format', options.format], ['output', options.output]] as const) {
    if (key === 'output' && f === undefined) continue;
    const ok = typeof f === 'object' && f !== null && f.encoding === 'pcm16' && isPcm16SampleRate(f.sampleRate);
    if (!ok) throw new TypeError(`options.${key} must be { encoding: 'pcm16', sampleRate: 8000 | 16000 | 24000 | 48000 }`);
  }
  if (options.playback !== undefined && options.playback !== 'realtime' && options.playback !== 'none') {
    throw new TypeError("options.playback must be 'realtime' or 'none'");
  }
}
