/**
 * Cartesia streaming text to speech over its WebSocket, written from the API reference "TTS
 * WebSocket" (docs.cartesia.ai/2026-03-01/api-reference/tts/websocket) and the "Contexts" and
 * "Buffering" guides.
 *
 * `ws` directly, not `@cartesia/cartesia-js`: its WebSocket client forces `wss:` onto the base URL
 * (so it cannot reach a local fake or a plain-ws proxy), queues every event per context without a
 * bound (no way to pause the socket for a slow reader), and reconnects on its own.
 *
 * One socket per reply (`open()`), like the ElevenLabs adapter: a socket shared by a session would
 * save the connect (about 3 round trips, overlapped here with the LLM's first sentence) but one
 * reply's slow reader would pause every reply on it, and a late message of a cancelled reply could
 * leak into the next. Within the reply, one context (`context_id`) takes the sentences as
 * continuations (`continue: true`, then an empty transcript with `continue: false`), so prosody
 * carries across sentences; `max_buffer_delay_ms: 0` because the cascade already sends whole
 * sentences (the guide's "custom buffering"; the 3000 ms default would wait for more text).
 *
 * Contexts "expire 1 second after the last audio output": if the LLM pauses longer than that
 * between sentences, the next sentence opens a new context on the same socket, and word timestamps
 * (seconds from their context's start) are offset by the audio received before that context.
 */
import { randomUUID } from 'node:crypto';
import type { TtsChunk, TtsService, TtsStream, WordTiming } from '../types.ts';
import { requireEnv, AdapterConfigError } from '../types.ts';
import { Pcm16Decoder } from '../tts-ws/pcm16.ts';
import { ReplySocket, TtsProviderError } from '../tts-ws/reply-socket.ts';
import { baseUrl, checkPush, limitMs, requiredString } from '../tts-ws/tts-config.ts';

export interface CartesiaTtsOptions {
  voiceId: string;
  /** Default "sonic-3". */
  modelId?: string;
  /** Output rate (raw pcm_s16le). Default 24000. */
  sampleRate?: 8000 | 16000 | 22050 | 24000 | 44100 | 48000;
  /** Default `CARTESIA_API_KEY`. */
  apiKey?: string;
  /** Base URL. Default `CARTESIA_URL`, else wss://api.cartesia.ai. */
  url?: string;
  /** API version date (`cartesia_version`). Default "2026-03-01". */
  version?: string;
  /** The transcript's language, e.g. "en". */
  language?: string;
  /** Default 5000. */
  connectTimeoutMs?: number;
  /** How long the service may take to answer text, and between messages after the end. Default 5000. */
  responseTimeoutMs?: number;
  /** Audio held for a slow reader before the socket is paused. Default 10000 ms. */
  maxBufferedMs?: number;
  /**
   * A sentence pushed this long after the context's last audio (its text all answered) goes to a
   * new context. Default 500: half the documented 1 s expiry, leaving room for network delay.
   */
  contextIdleMs?: number;
  env?: NodeJS.ProcessEnv;
}

const RATES = [8000, 16000, 22050, 24000, 44100, 48000] as const;
/** The largest message accepted: a chunk is well under a second of audio; 4 MiB is ample. */
const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

export function cartesiaTts(options: CartesiaTtsOptions): TtsService {
  const env = options.env ?? process.env;
  const voiceId = requiredString('cartesiaTts voiceId', options.voiceId);
  const modelId = requiredString('cartesiaTts modelId', options.modelId ?? 'sonic-3');
  const sampleRate = options.sampleRate ?? 24000;
  if (!(RATES as readonly number[]).includes(sampleRate)) {
    throw new AdapterConfigError(`cartesiaTts sampleRate must be one of ${RATES.join(', ')}, got ${sampleRate}`);
  }
  const version = requiredString('cartesiaTts version', options.version ?? '2026-03-01');
  if (!/^\d{4}-\d{2}-\d{2}$/.test(version)) throw new AdapterConfigError(`cartesiaTts version must be a date (YYYY-MM-DD), got ${version}`);
  const apiKey = options.apiKey?.trim() || requireEnv('CARTESIA_API_KEY', 'the Cartesia TTS adapter', env);
  const base = baseUrl(options.url, 'CARTESIA_URL', 'wss://api.cartesia.ai', env);
  const config = {
    name: 'cartesia',
    url: `${base}/tts/websocket?${new URLSearchParams({ cartesia_version: version })}`,
    headers: { Authorization: `Bearer ${apiKey}` },
    sampleRate,
    maxMessageBytes: MAX_MESSAGE_BYTES,
    connectTimeoutMs: limitMs('connectTimeoutMs', options.connectTimeoutMs, 5000),
    responseTimeoutMs: limitMs('responseTimeoutMs', options.responseTimeoutMs, 5000),
    maxBufferedMs: limitMs('maxBufferedMs', options.maxBufferedMs, 10_000),
  };
  const request = {
    model_id: modelId,
    voice: { mode: 'id', id: voiceId },
    output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: sampleRate },
    add_timestamps: true,
    max_buffer_delay_ms: 0,
    ...(options.language ? { language: options.language } : {}),
  };
  const contextIdleMs = limitMs('contextIdleMs', options.contextIdleMs, 500);
  return { name: 'cartesia', sampleRate, open: (signal) => new CartesiaReply({ ...config, signal }, request, contextIdleMs) };
}

interface ContextState {
  /** Where its audio starts in the reply (ms), fixed at its first message. */
  offsetMs?: number;
  done: boolean;
}

/** One reply: `ReplySocket` plus the Cartesia messages. Exported for its `stats` in tests. */
export class CartesiaReply implements TtsStream {
  readonly #socket: ReplySocket;
  readonly #request: object;
  readonly #contextIdleMs: number;
  readonly #decoder = new Pcm16Decoder();
  readonly #rate: number;
  readonly #contexts = new Map<string, ContextState>();
  #context = randomUUID();
  #chars = 0;
  #sentText = false;
  #ended = false;
  #lastPushAt = 0;
  #lastAudioAt = 0;

  constructor(config: ConstructorParameters<typeof ReplySocket>[0], request: object, contextIdleMs: number) {
    this.#request = request;
    this.#contextIdleMs = contextIdleMs;
    this.#rate = config.sampleRate;
    this.#contexts.set(this.#context, { done: false });
    this.#socket = new ReplySocket(config, {
      onMessage: (text) => this.#onMessage(text),
      cancelMessage: () => (this.#sentText ? { context_id: this.#context, cancel: true } : undefined),
    });
  }

  get audio(): AsyncIterable<TtsChunk> {
    return this.#socket.queue;
  }

  get stats(): ReplySocket['stats'] {
    return this.#socket.stats;
  }

  /** The contexts used so far (more than one when the LLM paused past the expiry). */
  get contextCount(): number {
    return this.#contexts.size;
  }

  push(text: string): void {
    this.#chars = checkPush('cartesia', text, this.#ended, this.#chars);
    if (text.trim() === '') return;
    const now = performance.now();
    const current = this.#contexts.get(this.#context)!;
    const idle = this.#lastAudioAt > this.#lastPushAt && now - this.#lastAudioAt >= this.#contextIdleMs;
    if (this.#sentText && (current.done || idle)) {
      if (!current.done) this.#socket.send({ ...this.#request, context_id: this.#context, transcript: '', continue: false });
      this.#context = randomUUID();
      this.#contexts.set(this.#context, { done: false });
    }
    this.#socket.send({ ...this.#request, context_id: this.#context, transcript: text, continue: true }, true);
    this.#sentText = true;
    this.#lastPushAt = now;
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    const current = this.#contexts.get(this.#context)!;
    if (!this.#sentText || current.done || this.#socket.done) return this.#socket.finish();
    this.#socket.send({ ...this.#request, context_id: this.#context, transcript: '', continue: false });
    this.#socket.ending();
  }

  #onMessage(raw: string): void {
    const msg: unknown = JSON.parse(raw);
    if (typeof msg !== 'object' || msg === null) throw new Error('not a JSON object');
    const m = msg as Record<string, unknown>;
    const context = typeof m.context_id === 'string' ? this.#contexts.get(m.context_id) : undefined;
    if (m.type === 'error') {
      // An error about a context this reply already left (e.g. it expired) changes nothing.
      if (context && context.done) return;
      if (context && m.context_id !== this.#context) return;
      const text = [m.title, m.message, m.error].filter((x) => typeof x === 'string' && x !== '').join(': ');
      throw new TtsProviderError('cartesia', text || 'error without a message', typeof m.status_code === 'number' ? m.status_code : undefined);
    }
    if (!context) return; // not this reply's (the socket is the reply's own, so nothing should be)
    if (m.type === 'chunk') {
      if (typeof m.data !== 'string') throw new Error('chunk without base64 data');
      context.offsetMs ??= this.#positionMs();
      this.#socket.queue.push(this.#decoder.decodeBase64(m.data));
      this.#lastAudioAt = performance.now();
    } else if (m.type === 'timestamps') {
      context.offsetMs ??= this.#positionMs();
      this.#socket.queue.addWords(parseWordTimestamps(m.word_timestamps, context.offsetMs));
    }
    if (m.type === 'done' || m.done === true) {
      context.done = true;
      if (this.#ended && m.context_id === this.#context) this.#socket.finish();
    }
  }

  /** Where the next audio starts in the reply (ms). */
  #positionMs(): number {
    return (this.#decoder.bytesReceived / 2 / this.#rate) * 1000;
  }
}

/** `word_timestamps {words, start, end}` (seconds from the context's start) to timings in the reply (ms). */
export function parseWordTimestamps(value: unknown, offsetMs: number): WordTiming[] {
  if (value === null || value === undefined) return [];
  const v = value as Record<string, unknown>;
  const { words, start, end } = v;
  if (!Array.isArray(words) || !Array.isArray(start) || !Array.isArray(end) || start.length !== words.length || end.length !== words.length) {
    throw new Error('word_timestamps needs words, start and end arrays of one length');
  }
  return words.map((word: unknown, i) => {
    const s = start[i] as unknown;
    const e = end[i] as unknown;
    if (typeof word !== 'string' || typeof s !== 'number' || typeof e !== 'number' || !Number.isFinite(s) || !Number.isFinite(e) || s < 0 || e < s) {
      throw new Error(`word_timestamps entry ${i} is not a word with 0 <= start <= end`);
    }
    // Rounded to the µs: seconds in binary floating point are not exact ms (0.65 s * 1000 != 650).
    return { word, startMs: Math.round((offsetMs + s * 1000) * 1000) / 1000, endMs: Math.round((offsetMs + e * 1000) * 1000) / 1000 };
  });
}
