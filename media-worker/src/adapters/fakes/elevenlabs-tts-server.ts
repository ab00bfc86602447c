/**
 * A protocol-level fake of ElevenLabs' input-streaming TTS WebSocket
 * (`/v1/text-to-speech/{voice_id}/stream-input`), for tests and benchmarks: a real `ws` server on
 * 127.0.0.1 speaking the documented wire messages, written from ElevenLabs' API reference
 * ("WebSocket", elevenlabs-docs fern/apis/api/asyncapi.yml), not from this project's adapter:
 *
 * - handshake: query `model_id`, `output_format` (pcm_16000|pcm_22050|pcm_24000|pcm_44100),
 *   `sync_alignment`, `auto_mode`, `inactivity_timeout` (s); key in the `xi-api-key` header (a
 *   wrong one gets HTTP 401 `{"detail":{"status":"invalid_api_key",...}}`) or in the first message;
 * - client → server: first `{"text":" ", voice_settings?, generation_config?}`; then
 *   `{"text", flush?, try_trigger_generation?}`; `{"text":""}` ends the input;
 * - server → client: `{audio (base64), isFinal:false, alignment, normalizedAlignment}` where
 *   alignment `{chars, charStartTimesMs, charDurationsMs}` is relative to that message's audio;
 *   after the end of input `{"isFinal":true}` then close 1000. Errors close with 1008 and a reason.
 *
 * Text is buffered until `chunkLengthSchedule[0]` characters (default 120, the documented
 * schedule's first step), a `flush`, or the end of input; with `auto_mode=true` each text message
 * is generated at once. Synthesis is deterministic: every character lasts `msPerChar` of a 440 Hz
 * tone (spaces are silence), so audio length is proportional to text and the alignment is exact.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface FakeElevenLabsOptions {
  /** The only key accepted. Default "test-key". */
  apiKey?: string;
  /** Audio per character (ms). Default 50. */
  msPerChar?: number;
  /** Characters per audio message. Default 8. */
  charsPerMessage?: number;
  /** Delay before the first audio message of a connection (ms). Default 0. */
  firstAudioDelayMs?: number;
  /** Delay between audio messages (ms). Default 0: as fast as the socket takes them. */
  chunkIntervalMs?: number;
  /** Cut each message's audio one byte past the character boundary (odd byte counts). Default false. */
  oddByteSplits?: boolean;
  /** Spell the durations field as the reference does (`charsDurationsMs`) instead of `charDurationsMs`. Default false. */
  referenceSpelling?: boolean;
  /** After this many audio messages, close with `closeCode`/`closeReason` (a provider error). */
  closeAfterMessages?: number;
  closeCode?: number;
  closeReason?: string;
  /** After this many audio messages, drop the TCP connection without a close frame. */
  dropAfterMessages?: number;
  /** Never send audio (a provider that hangs). Default false. */
  silent?: boolean;
}

export interface FakeElevenLabsWord {
  word: string;
  startMs: number;
  endMs: number;
}

/** One client connection as the fake saw it. */
export interface FakeElevenLabsConnection {
  readonly url: URL;
  readonly headers: IncomingMessage['headers'];
  /** Client messages, parsed, in order. */
  readonly received: Record<string, unknown>[];
  /** Every audio byte sent, in order, one buffer per message. */
  readonly sentAudio: Buffer[];
  /** The words the fake spoke and where, in ms from the start of the connection's audio. */
  readonly words: FakeElevenLabsWord[];
  audioMessages: number;
  /** The largest `bufferedAmount` seen: how far the client fell behind reading. */
  maxBufferedAmount: number;
  closed: boolean;
}

const RATES: Record<string, number> = { pcm_16000: 16000, pcm_22050: 22050, pcm_24000: 24000, pcm_44100: 44100 };
const DEFAULT_SCHEDULE_FIRST = 120;

export class FakeElevenLabsServer {
  /** ws://127.0.0.1:<port> (the adapter appends the path). */
  readonly url: string;
  readonly connections: FakeElevenLabsConnection[] = [];
  rejected = 0;
  readonly options: Required<Omit<FakeElevenLabsOptions, 'closeAfterMessages' | 'dropAfterMessages'>> & FakeElevenLabsOptions;
  readonly #http: Server;
  readonly #wss: WebSocketServer;
  readonly #waiters: ((c: FakeElevenLabsConnection) => void)[] = [];

  private constructor(http: Server, wss: WebSocketServer, options: FakeElevenLabsServer['options']) {
    this.#http = http;
    this.#wss = wss;
    this.options = options;
    this.url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}`;
  }

  static async start(options: FakeElevenLabsOptions = {}): Promise<FakeElevenLabsServer> {
    const o = {
      apiKey: 'test-key', msPerChar: 50, charsPerMessage: 8, firstAudioDelayMs: 0, chunkIntervalMs: 0,
      oddByteSplits: false, referenceSpelling: false, closeCode: 1008, closeReason: 'Quota exceeded', silent: false,
      ...options,
    };
    const http = createServer((_req, res) => res.writeHead(426).end());
    const wss = new WebSocketServer({ noServer: true });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const server = new FakeElevenLabsServer(http, wss, o);
    http.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const reject = (status: number, body: object): void => {
        server.rejected++;
        socket.end(`HTTP/1.1 ${status} Refused\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${JSON.stringify(body)}`);
      };
      if (!/^\/v1\/text-to-speech\/[^/]+\/stream-input$/.test(url.pathname)) return reject(404, { detail: 'Not Found' });
      const key = req.headers['xi-api-key'];
      if (key !== undefined && key !== o.apiKey) {
        return reject(401, { detail: { status: 'invalid_api_key', message: 'Invalid API key' } });
      }
      wss.handleUpgrade(req, socket, head, (ws) => server.#serve(ws, req, url, key === o.apiKey));
    });
    return server;
  }

  /** The next connection to arrive (or the first one not yet taken). */
  nextConnection(): Promise<FakeElevenLabsConnection> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  async close(): Promise<void> {
    for (const ws of this.#wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.#http.close(() => resolve()));
  }

  #serve(ws: WebSocket, req: IncomingMessage, url: URL, authed: boolean): void {
    const o = this.options;
    const conn: FakeElevenLabsConnection = {
      url, headers: req.headers, received: [], sentAudio: [], words: [], audioMessages: 0, maxBufferedAmount: 0, closed: false,
    };
    this.connections.push(conn);
    this.#waiters.shift()?.(conn);
    ws.on('close', () => (conn.closed = true));
    const rate = RATES[url.searchParams.get('output_format') ?? ''];
    if (!rate) return ws.close(1008, `Unsupported output_format for this fake: ${url.searchParams.get('output_format')}`);
    const autoMode = url.searchParams.get('auto_mode') === 'true';
    const sync = url.searchParams.get('sync_alignment') === 'true';
    const inactivityMs = Number(url.searchParams.get('inactivity_timeout') ?? 20) * 1000;
    const samplesPerChar = Math.round((o.msPerChar * rate) / 1000);

    let buffer = '';
    let sentSamples = 0; // the reply's timeline
    let chain = Promise.resolve();
    let first = true;
    let ended = false;
    let inactivity: NodeJS.Timeout | undefined;
    const touch = (): void => {
      clearTimeout(inactivity);
      if (!ended) inactivity = setTimeout(() => ws.close(1008, `Have not received a new text input within the timeout of ${inactivityMs / 1000} seconds.`), inactivityMs);
    };
    const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
    const open = (): boolean => ws.readyState === ws.OPEN;

    const generate = (text: string): void => {
      chain = chain.then(async () => {
        if (o.silent || !open()) return;
        const chars = [...text];
        // Lay out the whole segment on the timeline first: bytes and word truth.
        const startSample = sentSamples;
        const pcm = Buffer.alloc(chars.length * samplesPerChar * 2);
        chars.forEach((c, k) => {
          for (let j = 0; j < samplesPerChar; j++) {
            const n = startSample + k * samplesPerChar + j;
            pcm.writeInt16LE(c.trim() === '' ? 0 : Math.round(8000 * Math.sin((2 * Math.PI * 440 * n) / rate)), (k * samplesPerChar + j) * 2);
          }
        });
        let wordStart = -1;
        chars.forEach((c, k) => {
          const isSpace = c.trim() === '';
          if (!isSpace && wordStart < 0) wordStart = k;
          if (wordStart >= 0 && (isSpace || k === chars.length - 1)) {
            const endK = isSpace ? k : k + 1;
            const ms = (chr: number): number => ((startSample + chr * samplesPerChar) / rate) * 1000;
            conn.words.push({ word: chars.slice(wordStart, endK).join(''), startMs: ms(wordStart), endMs: ms(endK) });
            wordStart = -1;
          }
        });
        sentSamples += chars.length * samplesPerChar;
        // Then send it in messages of charsPerMessage characters.
        for (let k0 = 0; k0 < chars.length; k0 += o.charsPerMessage) {
          const k1 = Math.min(chars.length, k0 + o.charsPerMessage);
          const last = k1 === chars.length;
          const shift = o.oddByteSplits ? 1 : 0;
          const b0 = k0 === 0 ? 0 : k0 * samplesPerChar * 2 + shift;
          const b1 = last ? pcm.length : k1 * samplesPerChar * 2 + shift;
          const delay = conn.audioMessages === 0 ? o.firstAudioDelayMs : o.chunkIntervalMs;
          if (delay > 0) await sleep(delay);
          if (!open()) return;
          const rel = (k: number): number => Math.max(0, Math.round(((k * samplesPerChar * 2 - b0) / 2 / rate) * 1000));
          const alignment = {
            chars: chars.slice(k0, k1),
            charStartTimesMs: chars.slice(k0, k1).map((_, i) => rel(k0 + i)),
            [o.referenceSpelling ? 'charsDurationsMs' : 'charDurationsMs']: chars.slice(k0, k1).map((_, i) => rel(k0 + i + 1) - rel(k0 + i)),
          };
          const audio = pcm.subarray(b0, b1);
          conn.sentAudio.push(audio);
          ws.send(JSON.stringify({ audio: audio.toString('base64'), isFinal: false, ...(sync ? { alignment, normalizedAlignment: alignment } : {}) }));
          conn.audioMessages++;
          conn.maxBufferedAmount = Math.max(conn.maxBufferedAmount, ws.bufferedAmount);
          if (conn.audioMessages === o.closeAfterMessages) return ws.close(o.closeCode, o.closeReason);
          if (conn.audioMessages === o.dropAfterMessages) return ws.terminate();
        }
      });
    };

    touch();
    ws.on('message', (data) => {
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(data.toString()) as Record<string, unknown>;
      } catch {
        return ws.close(1008, 'Invalid message received: not JSON');
      }
      conn.received.push(msg);
      if (ended) return;
      const text = msg.text;
      if (typeof text !== 'string') return ws.close(1008, 'Invalid message received: text must be a string');
      if (first) {
        first = false;
        const key = msg['xi-api-key'] ?? msg.xi_api_key;
        if (!authed && key !== o.apiKey) return ws.close(1008, 'Invalid API key');
        if (text !== ' ') return ws.close(1008, 'The first message must have text " "');
        return touch();
      }
      if (text === '') {
        ended = true;
        clearTimeout(inactivity);
        if (buffer) generate(buffer);
        buffer = '';
        chain = chain.then(() => {
          if (!open()) return;
          ws.send(JSON.stringify({ isFinal: true }));
          ws.close(1000);
        });
        return;
      }
      touch();
      buffer += text;
      if (autoMode || msg.flush === true || buffer.length >= DEFAULT_SCHEDULE_FIRST) {
        generate(buffer);
        buffer = '';
      }
    });
  }
}
