/**
 * A protocol-level fake of Cartesia's TTS WebSocket (`/tts/websocket`), for tests and benchmarks:
 * a real `ws` server on 127.0.0.1 speaking the documented wire messages, written from Cartesia's
 * API reference ("TTS WebSocket", docs.cartesia.ai/2026-03-01/api-reference/tts/websocket, and the
 * "Contexts" guide), not from this project's adapter:
 *
 * - handshake: `cartesia_version` query (or `Cartesia-Version` header) required; the key as
 *   `Authorization: Bearer`, `X-API-Key` or `api_key` query; a wrong one gets HTTP 401;
 * - client → server: generation requests `{model_id, transcript, voice {mode:"id", id},
 *   output_format {container:"raw", encoding:"pcm_s16le", sample_rate}, context_id, continue,
 *   add_timestamps, max_buffer_delay_ms?, language?}` and `{context_id, cancel: true}`;
 * - server → client: `{type:"chunk", data, done:false, status_code:206, step_time, context_id}`,
 *   `{type:"timestamps", word_timestamps {words, start, end} (s from the context's start)}`,
 *   `{type:"done", done:true}` after `continue:false`, `{type:"error", title, message, ...}`.
 *
 * A transcript is generated after `max_buffer_delay_ms` (default 3000, as documented) unless the
 * context ends first; contexts expire `contextExpiryMs` after their last audio (documented: 1 s),
 * and input to an expired context is an error. Synthesis is deterministic: every character lasts
 * `msPerChar` of a 440 Hz tone (spaces are silence), so audio length is proportional to text.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface FakeCartesiaOptions {
  /** The only key accepted. Default "test-key". */
  apiKey?: string;
  /** Audio per character (ms). Default 50. */
  msPerChar?: number;
  /** Characters per chunk message. Default 8. */
  charsPerChunk?: number;
  /** Delay before the first chunk of a connection (ms). Default 0. */
  firstAudioDelayMs?: number;
  /** Delay between chunks (ms). Default 0: as fast as the socket takes them. */
  chunkIntervalMs?: number;
  /** Cut each chunk's audio one byte past the character boundary (odd byte counts). Default false. */
  oddByteSplits?: boolean;
  /** A context with nothing to generate expires this long after its last audio (ms). Default 1000. */
  contextExpiryMs?: number;
  /** After this many chunks, send an error message for the context. */
  errorAfterChunks?: number;
  /** After this many chunks, drop the TCP connection without a close frame. */
  dropAfterChunks?: number;
  /** Never send audio (a provider that hangs). Default false. */
  silent?: boolean;
}

export interface FakeCartesiaConnection {
  readonly url: URL;
  readonly headers: IncomingMessage['headers'];
  readonly received: Record<string, unknown>[];
  /** Every audio byte sent, in order, one buffer per chunk. */
  readonly sentAudio: Buffer[];
  /** The words spoken and where, in ms from the start of the connection's audio. */
  readonly words: { word: string; startMs: number; endMs: number }[];
  chunks: number;
  /** Contexts that expired. */
  readonly expired: string[];
  /** Inputs sent to a context after it expired or ended (each answered with an error). */
  readonly lateInputs: Record<string, unknown>[];
  closed: boolean;
}

interface Context {
  id: string;
  /** Samples generated in this context: its timeline. */
  samples: number;
  lastAudioAt: number;
  pendingTranscripts: number;
  ended: boolean;
  cancelled: boolean;
  expired: boolean;
}

const RATES = [8000, 16000, 22050, 24000, 44100, 48000];

export class FakeCartesiaServer {
  /** ws://127.0.0.1:<port> (the adapter appends /tts/websocket). */
  readonly url: string;
  readonly connections: FakeCartesiaConnection[] = [];
  rejected = 0;
  readonly options: Required<Omit<FakeCartesiaOptions, 'errorAfterChunks' | 'dropAfterChunks'>> & FakeCartesiaOptions;
  readonly #http: Server;
  readonly #wss: WebSocketServer;

  private constructor(http: Server, wss: WebSocketServer, options: FakeCartesiaServer['options']) {
    this.#http = http;
    this.#wss = wss;
    this.options = options;
    this.url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}`;
  }

  static async start(options: FakeCartesiaOptions = {}): Promise<FakeCartesiaServer> {
    const o = {
      apiKey: 'test-key', msPerChar: 50, charsPerChunk: 8, firstAudioDelayMs: 0, chunkIntervalMs: 0, oddByteSplits: false,
      contextExpiryMs: 1000, silent: false, ...options,
    };
    const http = createServer((_req, res) => res.writeHead(426).end());
    const wss = new WebSocketServer({ noServer: true });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const server = new FakeCartesiaServer(http, wss, o);
    http.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const reject = (status: number, message: string): void => {
        server.rejected++;
        socket.end(`HTTP/1.1 ${status} Refused\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${JSON.stringify({ error: message })}`);
      };
      if (url.pathname !== '/tts/websocket') return reject(404, 'Not found');
      if (!url.searchParams.get('cartesia_version') && !req.headers['cartesia-version']) return reject(400, 'Missing cartesia_version');
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const key = bearer ?? req.headers['x-api-key'] ?? url.searchParams.get('api_key');
      if (key !== o.apiKey) return reject(401, 'Invalid API key');
      wss.handleUpgrade(req, socket, head, (ws) => server.#serve(ws, req, url));
    });
    return server;
  }

  async close(): Promise<void> {
    for (const ws of this.#wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.#http.close(() => resolve()));
  }

  #serve(ws: WebSocket, req: IncomingMessage, url: URL): void {
    const o = this.options;
    const conn: FakeCartesiaConnection = { url, headers: req.headers, received: [], sentAudio: [], words: [], chunks: 0, expired: [], lateInputs: [], closed: false };
    this.connections.push(conn);
    const contexts = new Map<string, Context>();
    let connSamples = 0; // the connection's audio timeline, for the word truth
    let chain = Promise.resolve();
    const open = (): boolean => ws.readyState === ws.OPEN;
    const send = (msg: object): void => void (open() && ws.send(JSON.stringify(msg)));
    const error = (contextId: unknown, title: string, message: string): void =>
      send({ type: 'error', context_id: contextId, done: true, status_code: 400, title, message, error_code: 'invalid_request' });
    ws.on('close', () => {
      conn.closed = true;
      for (const c of contexts.values()) c.cancelled = true;
    });

    const expireLater = (ctx: Context): void => {
      setTimeout(() => {
        if (!ctx.ended && ctx.pendingTranscripts === 0 && Date.now() - ctx.lastAudioAt >= o.contextExpiryMs && !ctx.expired) {
          ctx.expired = true;
          conn.expired.push(ctx.id);
        }
      }, o.contextExpiryMs + 5).unref();
    };

    const generate = (ctx: Context, transcript: string, rate: number, timestamps: boolean): void => {
      const samplesPerChar = Math.round((o.msPerChar * rate) / 1000);
      chain = chain.then(async () => {
        if (o.silent || ctx.cancelled || !open()) return;
        const chars = [...transcript];
        const pcm = Buffer.alloc(chars.length * samplesPerChar * 2);
        chars.forEach((c, k) => {
          for (let j = 0; j < samplesPerChar; j++) {
            const n = connSamples + k * samplesPerChar + j;
            pcm.writeInt16LE(c.trim() === '' ? 0 : Math.round(8000 * Math.sin((2 * Math.PI * 440 * n) / rate)), (k * samplesPerChar + j) * 2);
          }
        });
        // Words with their character span; timestamps are seconds from the context's start.
        const words: { word: string; k0: number; k1: number }[] = [];
        for (const m of transcript.matchAll(/\S+/g)) words.push({ word: m[0], k0: [...transcript.slice(0, m.index)].length, k1: [...transcript.slice(0, m.index)].length + [...m[0]].length });
        for (const w of words) {
          const ms = (k: number): number => ((connSamples + k * samplesPerChar) / rate) * 1000;
          conn.words.push({ word: w.word, startMs: ms(w.k0), endMs: ms(w.k1) });
        }
        const ctxStart = ctx.samples;
        connSamples += chars.length * samplesPerChar;
        ctx.samples += chars.length * samplesPerChar;
        for (let k0 = 0; k0 < chars.length; k0 += o.charsPerChunk) {
          const k1 = Math.min(chars.length, k0 + o.charsPerChunk);
          const shift = o.oddByteSplits ? 1 : 0;
          const b0 = k0 === 0 ? 0 : k0 * samplesPerChar * 2 + shift;
          const b1 = k1 === chars.length ? pcm.length : k1 * samplesPerChar * 2 + shift;
          const delay = conn.chunks === 0 ? o.firstAudioDelayMs : o.chunkIntervalMs;
          if (delay > 0) await new Promise((r) => setTimeout(r, delay));
          if (ctx.cancelled || !open()) return;
          const audio = pcm.subarray(b0, b1);
          conn.sentAudio.push(audio);
          send({ type: 'chunk', data: audio.toString('base64'), done: false, status_code: 206, step_time: 12, context_id: ctx.id });
          conn.chunks++;
          ctx.lastAudioAt = Date.now();
          const done = words.filter((w) => w.k1 > k0 && w.k1 <= k1);
          const sec = (k: number): number => (ctxStart + k * samplesPerChar) / rate;
          if (timestamps && done.length > 0) {
            send({
              type: 'timestamps', done: false, status_code: 206, context_id: ctx.id,
              word_timestamps: { words: done.map((w) => w.word), start: done.map((w) => sec(w.k0)), end: done.map((w) => sec(w.k1)) },
            });
          }
          if (conn.chunks === o.errorAfterChunks) return error(ctx.id, 'Internal error', 'The synthesis failed; you are not charged.');
          if (conn.chunks === o.dropAfterChunks) return ws.terminate();
        }
        ctx.pendingTranscripts--;
        expireLater(ctx);
      });
    };

    ws.on('message', (data) => {
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(data.toString()) as Record<string, unknown>;
      } catch {
        return error(undefined, 'Invalid request', 'Message is not JSON');
      }
      conn.received.push(msg);
      const id = msg.context_id;
      if (typeof id !== 'string' || id === '') return error(id, 'Invalid request', 'context_id is required');
      const ctx = contexts.get(id);
      if (msg.cancel === true) {
        if (ctx) ctx.cancelled = true;
        return;
      }
      const format = msg.output_format as Record<string, unknown> | undefined;
      const voice = msg.voice as Record<string, unknown> | undefined;
      if (typeof msg.model_id !== 'string' || typeof msg.transcript !== 'string' || voice?.mode !== 'id' || typeof voice.id !== 'string') {
        return error(id, 'Invalid request', 'model_id, transcript and voice {mode: "id", id} are required');
      }
      if (format?.container !== 'raw' || format.encoding !== 'pcm_s16le' || !RATES.includes(format.sample_rate as number)) {
        return error(id, 'Invalid request', 'this fake speaks raw pcm_s16le at a supported sample_rate only');
      }
      if (ctx?.expired || ctx?.ended) {
        conn.lateInputs.push(msg);
        return error(id, 'Context closed', `Context ${id} has expired or ended; start a new context`);
      }
      const c: Context = ctx ?? { id, samples: 0, lastAudioAt: Date.now(), pendingTranscripts: 0, ended: false, cancelled: false, expired: false };
      contexts.set(id, c);
      if (msg.transcript !== '') {
        c.pendingTranscripts++;
        const delay = typeof msg.max_buffer_delay_ms === 'number' ? msg.max_buffer_delay_ms : 3000;
        const transcript = msg.transcript;
        const run = (): void => generate(c, transcript, format.sample_rate as number, msg.add_timestamps === true);
        if (delay > 0 && msg.continue === true) setTimeout(run, delay);
        else run();
      }
      if (msg.continue !== true) {
        c.ended = true;
        const finish = (): void => {
          chain = chain.then(() => {
            if (c.pendingTranscripts > 0) return void setTimeout(finish, 5);
            if (!c.cancelled) send({ type: 'done', done: true, status_code: 206, context_id: id });
          });
        };
        finish();
      }
    });
  }
}
