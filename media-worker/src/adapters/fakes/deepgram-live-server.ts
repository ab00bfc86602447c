/**
 * A protocol-level fake of Deepgram's live transcription WebSocket (`/v1/listen`), for tests and
 * benchmarks: a real `ws` server on 127.0.0.1 speaking the documented wire messages, written from
 * Deepgram's docs (not from this project's adapter):
 *
 * - handshake: `Authorization: Token <key>`; a wrong key gets HTTP 401 with Deepgram's error body
 *   (`{err_code, err_msg, request_id}`) and a `dg-error` header;
 * - client → server: binary linear16 audio, text `{"type":"KeepAlive"|"Finalize"|"CloseStream"}`;
 * - server → client: `Results` (channel.alternatives[0].transcript, is_final, speech_final),
 *   `SpeechStarted` (with vad_events=true), `UtteranceEnd` (with utterance_end_ms), `Metadata`
 *   (after CloseStream, then close 1000); no audio nor KeepAlive for `idleTimeoutMs` closes with
 *   1011 `NET-0001`, like the real service's 10 s timeout.
 *
 * It cannot recognize speech: a tiny energy detector over the received audio decides where
 * speech starts and ends (in audio time, so tests may feed faster than real time), and the k-th
 * utterance is "transcribed" as `transcripts[k]`. Tests may also script messages directly
 * through `connections`.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface FakeDeepgramOptions {
  /** The only key accepted. Default "test-key". */
  apiKey?: string;
  /** What the k-th detected utterance is transcribed as (the last one repeats). Default ["hello there"]. */
  transcripts?: string[];
  /** Delay before each server message (ms): the recognizer's latency. Default 0. */
  resultDelayMs?: number;
  /** Extra delay before the first message of a connection (ms). Default 0. */
  firstResultDelayMs?: number;
  /** RMS of a 20 ms block above which it is speech. Default 500. */
  speechRms?: number;
  /** An interim `Results` per this much speech (audio ms). Default 200. */
  interimEveryMs?: number;
  /** No audio nor KeepAlive for this long (wall ms) closes with 1011 NET-0001. Default 10000 (Deepgram's). */
  idleTimeoutMs?: number;
}

export class FakeDeepgramServer {
  /** ws://127.0.0.1:<port>/v1/listen */
  readonly url: string;
  readonly connections: FakeDeepgramConnection[] = [];
  /** Handshakes refused (bad key, wrong path). */
  rejected = 0;
  readonly options: Required<FakeDeepgramOptions>;
  readonly #http: Server;
  readonly #wss: WebSocketServer;
  #utterances = 0;

  private constructor(http: Server, wss: WebSocketServer, options: Required<FakeDeepgramOptions>) {
    this.#http = http;
    this.#wss = wss;
    this.options = options;
    this.url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/v1/listen`;
  }

  static async start(options: FakeDeepgramOptions = {}): Promise<FakeDeepgramServer> {
    const o: Required<FakeDeepgramOptions> = {
      apiKey: 'test-key',
      transcripts: ['hello there'],
      resultDelayMs: 0,
      firstResultDelayMs: 0,
      speechRms: 500,
      interimEveryMs: 200,
      idleTimeoutMs: 10_000,
      ...options,
    };
    const http = createServer((_req, res) => res.writeHead(426).end('upgrade required'));
    const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const server = new FakeDeepgramServer(http, wss, o);
    http.on('upgrade', (req, socket, head) => {
      const refusal = server.#refusal(req);
      if (refusal) {
        server.rejected++;
        const body = JSON.stringify(refusal.body);
        socket.end(
          `HTTP/1.1 ${refusal.status} ${refusal.status === 401 ? 'Unauthorized' : 'Not Found'}\r\ncontent-type: application/json\r\n` +
            `dg-error: ${refusal.body.err_msg}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
        );
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => server.connections.push(new FakeDeepgramConnection(ws, req, server)));
    });
    return server;
  }

  /** The transcript of the next detected utterance. */
  nextTranscript(): string {
    const t = this.options.transcripts;
    return t[Math.min(this.#utterances++, t.length - 1)] ?? '';
  }

  /** Resolves once `n` connections were accepted (rejects after `timeoutMs`). */
  async waitForConnection(n = 1, timeoutMs = 5000): Promise<FakeDeepgramConnection> {
    const until = Date.now() + timeoutMs;
    while (this.connections.length < n) {
      if (Date.now() > until) throw new Error(`fake deepgram: no connection #${n} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
    return this.connections[n - 1]!;
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.ws.terminate();
    this.#wss.close();
    this.#http.closeAllConnections();
    await new Promise<void>((resolve) => this.#http.close(() => resolve()));
  }

  #refusal(req: IncomingMessage): { status: number; body: { err_code: string; err_msg: string; request_id: string } } | undefined {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path !== '/v1/listen') return { status: 404, body: { err_code: 'NOT_FOUND', err_msg: `No such path ${path}`, request_id: rid() } };
    if (req.headers.authorization !== `Token ${this.options.apiKey}`) {
      return { status: 401, body: { err_code: 'INVALID_AUTH', err_msg: 'Invalid credentials.', request_id: rid() } };
    }
    return undefined;
  }
}

/** One accepted live connection: what the client sent, and controls to script the server's side. */
export class FakeDeepgramConnection {
  readonly ws: WebSocket;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  /** Text messages from the client, parsed (or `{unparsed: text}`). */
  readonly clientMessages: Array<Record<string, unknown>> = [];
  audioBytes = 0;
  closed: { code: number; reason: string } | undefined;
  readonly #server: FakeDeepgramServer;
  readonly #sampleRate: number;
  readonly #requestId = rid();
  #pending = new Int16Array(0);
  #audioMs = 0;
  #speaking = false;
  #speechMs = 0;
  #silenceMs = 0;
  #sinceInterimMs = 0;
  #transcript = '';
  /** Silence since the last final that still owes an UtteranceEnd (ms), or undefined. */
  #utteranceEndDueMs: number | undefined;
  #sendChain: Promise<void> = Promise.resolve();
  #sentFirst = false;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(ws: WebSocket, req: IncomingMessage, server: FakeDeepgramServer) {
    this.ws = ws;
    this.#server = server;
    this.query = new URL(req.url ?? '/', 'http://x').searchParams;
    this.headers = req.headers;
    this.#sampleRate = Number(this.query.get('sample_rate') ?? 16_000);
    this.#armIdle();
    ws.on('message', (data, isBinary) => this.#onMessage(data as Buffer, isBinary));
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      clearTimeout(this.#idleTimer);
    });
  }

  get keepAlives(): number {
    return this.clientMessages.filter((m) => m.type === 'KeepAlive').length;
  }

  /** Sends a server message (JSON), after the configured latency, in order. */
  send(message: Record<string, unknown>): void {
    this.sendRaw(JSON.stringify(message));
  }

  /** Sends any text frame (e.g. malformed JSON), after the configured latency, in order. */
  sendRaw(text: string): void {
    const o = this.#server.options;
    const delay = o.resultDelayMs + (this.#sentFirst ? 0 : o.firstResultDelayMs);
    this.#sentFirst = true;
    if (delay <= 0) {
      this.#sendChain = this.#sendChain.then(() => this.#sendNow(text));
      return;
    }
    this.#sendChain = this.#sendChain.then(() => new Promise<void>((r) => setTimeout(r, delay))).then(() => this.#sendNow(text));
  }

  /** A Results message as Deepgram sends it. */
  result(transcript: string, isFinal: boolean, speechFinal: boolean, fromFinalize = false): void {
    const words = transcript.split(/\s+/).filter(Boolean);
    const start = Math.max(0, (this.#audioMs - this.#speechMs - this.#silenceMs) / 1000);
    const duration = this.#speechMs / 1000;
    this.send({
      type: 'Results',
      channel_index: [0, 1],
      duration,
      start,
      is_final: isFinal,
      speech_final: speechFinal,
      from_finalize: fromFinalize,
      channel: {
        alternatives: [
          {
            transcript,
            confidence: 0.98,
            words: words.map((w, i) => ({
              word: w.toLowerCase().replace(/[^\p{L}\p{N}']/gu, ''),
              start: start + (i * duration) / Math.max(1, words.length),
              end: start + ((i + 1) * duration) / Math.max(1, words.length),
              confidence: 0.98,
              punctuated_word: w,
            })),
          },
        ],
      },
      metadata: { request_id: this.#requestId, model_info: { name: 'general-nova-3', version: '2025-01-01.0', arch: 'nova-3' }, model_uuid: rid() },
    });
  }

  speechStarted(): void {
    this.send({ type: 'SpeechStarted', channel: [0, 1], timestamp: this.#audioMs / 1000 });
  }

  utteranceEnd(): void {
    this.send({ type: 'UtteranceEnd', channel: [0, 1], last_word_end: Math.max(0, this.#audioMs - this.#silenceMs) / 1000 });
  }

  /** Closes with a close frame (after the messages already queued), e.g. 1011 "NET-0000". */
  close(code: number, reason: string): void {
    this.#sendChain = this.#sendChain.then(() => this.ws.close(code, reason));
  }

  /** Drops the TCP connection without a close frame (a network failure). */
  drop(): void {
    this.ws.terminate();
  }

  #sendNow(text: string): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(text);
  }

  #armIdle(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => this.close(1011, 'NET-0001: no audio received within the timeout window'), this.#server.options.idleTimeoutMs);
  }

  #onMessage(data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      this.#armIdle();
      this.audioBytes += data.length;
      this.#onAudio(data);
      return;
    }
    const text = data.toString('utf8');
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(text) as Record<string, unknown>;
    } catch {
      msg = { unparsed: text };
    }
    this.clientMessages.push(msg);
    if (msg.type === 'KeepAlive') this.#armIdle();
    else if (msg.type === 'Finalize') this.#finishUtterance(false, true);
    else if (msg.type === 'CloseStream') {
      this.#finishUtterance(true, false);
      this.send({
        type: 'Metadata',
        transaction_key: 'deprecated',
        request_id: this.#requestId,
        sha256: '0'.repeat(64),
        created: new Date().toISOString(),
        duration: this.#audioMs / 1000,
        channels: 1,
      });
      this.close(1000, '');
    }
  }

  /** The energy detector: 20 ms blocks in audio time drive SpeechStarted, interim and final Results, UtteranceEnd. */
  #onAudio(data: Buffer): void {
    const copy = new Uint8Array(data.length);
    copy.set(data);
    const incoming = new Int16Array(copy.buffer, 0, copy.length >> 1);
    const all = new Int16Array(this.#pending.length + incoming.length);
    all.set(this.#pending);
    all.set(incoming, this.#pending.length);
    const block = Math.round(this.#sampleRate / 50);
    let i = 0;
    for (; i + block <= all.length; i += block) this.#onBlock(all.subarray(i, i + block), 20);
    this.#pending = all.slice(i);
  }

  #onBlock(samples: Int16Array, ms: number): void {
    const o = this.#server.options;
    let sum = 0;
    for (const s of samples) sum += s * s;
    const loud = Math.sqrt(sum / samples.length) > o.speechRms;
    this.#audioMs += ms;
    const endpointingMs = Number(this.query.get('endpointing') ?? 10);
    if (loud) {
      if (!this.#speaking) {
        this.#speaking = true;
        this.#speechMs = 0;
        this.#sinceInterimMs = 0;
        this.#utteranceEndDueMs = undefined;
        this.#transcript = this.#server.nextTranscript();
        if (this.query.get('vad_events') === 'true') this.speechStarted();
      }
      this.#speechMs += ms;
      this.#silenceMs = 0;
      this.#sinceInterimMs += ms;
      if (this.query.get('interim_results') === 'true' && this.#sinceInterimMs >= o.interimEveryMs) {
        this.#sinceInterimMs = 0;
        const words = this.#transcript.split(' ');
        const shown = Math.max(1, Math.min(words.length - 1, Math.floor(this.#speechMs / 300)));
        this.result(words.slice(0, shown).join(' '), false, false);
      }
      return;
    }
    this.#silenceMs += ms;
    if (this.#speaking && this.#silenceMs >= endpointingMs) this.#finishUtterance(true, false);
    const utteranceEndMs = Number(this.query.get('utterance_end_ms') ?? 0);
    if (this.#utteranceEndDueMs !== undefined && utteranceEndMs > 0) {
      this.#utteranceEndDueMs += ms;
      if (this.#utteranceEndDueMs >= utteranceEndMs) {
        this.#utteranceEndDueMs = undefined;
        this.utteranceEnd();
      }
    }
  }

  #finishUtterance(speechFinal: boolean, fromFinalize: boolean): void {
    if (!this.#speaking) return;
    this.#speaking = false;
    this.result(this.#transcript, true, speechFinal, fromFinalize);
    this.#utteranceEndDueMs = 0;
  }
}

function rid(): string {
  return crypto.randomUUID();
}
