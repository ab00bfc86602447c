/**
 * ElevenLabs streaming text to speech over its input-streaming WebSocket, written from the API
 * reference "WebSocket" (wss://api.elevenlabs.io/v1/text-to-speech/{voice_id}/stream-input;
 * elevenlabs-docs fern/apis/api/asyncapi.yml) with `ws` (the ElevenLabs SDK is not a dependency).
 *
 * One socket per reply (`open()`): the stream-input endpoint ends its input with `{"text": ""}`
 * and takes no more after it, so a socket serves exactly one reply. The alternative, one
 * multi-stream-input socket per session with a context per reply, saves the connect (TCP + TLS +
 * upgrade, about 3 round trips) but needs context bookkeeping (the service closes a socket whose
 * open contexts pile up, and idles contexts out after 20 s); the connect here starts at `open()`,
 * when the cascade begins the reply, so it overlaps the LLM's time to its first sentence.
 *
 * Wire: query `model_id`, `output_format=pcm_<rate>`, `sync_alignment=true` (alignment with
 * every chunk), `auto_mode=true` (no server-side text buffering: the cascade pushes whole
 * sentences, which is what auto mode is for), `inactivity_timeout=180` (the documented maximum,
 * so an LLM pausing mid-reply does not end the input); header `xi-api-key`. Messages: `{"text":
 * " ", voice_settings?}` first, then `{"text": sentence}` per push, `{"text": ""}` at the end;
 * the server answers `{audio, alignment, normalizedAlignment}` messages, then `{"isFinal": true}`.
 */
import type { TtsChunk, TtsService, TtsStream } from '../types.ts';
import { requireEnv, AdapterConfigError } from '../types.ts';
import { AlignmentWords, parseAlignment } from './alignment.ts';
import { Pcm16Decoder } from '../tts-ws/pcm16.ts';
import { ReplySocket, TtsProviderError } from '../tts-ws/reply-socket.ts';
import { baseUrl, checkPush, limitMs, requiredString } from '../tts-ws/tts-config.ts';

export interface ElevenLabsVoiceSettings {
  stability: number;
  similarity_boost: number;
  style?: number;
  use_speaker_boost?: boolean;
  speed?: number;
}

export interface ElevenLabsTtsOptions {
  voiceId: string;
  /** Default "eleven_flash_v2_5" (the documented choice when latency matters). */
  modelId?: string;
  /** Output rate: selects `output_format=pcm_<rate>`. Default 24000. */
  sampleRate?: 16000 | 22050 | 24000 | 44100;
  /** Default `ELEVENLABS_API_KEY`. */
  apiKey?: string;
  /** Base URL. Default `ELEVENLABS_URL`, else wss://api.elevenlabs.io. */
  url?: string;
  /** Sent with the first message; omitted, the voice's own settings apply. */
  voiceSettings?: ElevenLabsVoiceSettings;
  /** ISO 639-1 code, for the models that take one. */
  languageCode?: string;
  /** Default 5000. */
  connectTimeoutMs?: number;
  /** How long the service may take to answer text, and between messages after the end. Default 5000. */
  responseTimeoutMs?: number;
  /** Audio held for a slow reader before the socket is paused. Default 10000 ms. */
  maxBufferedMs?: number;
  env?: NodeJS.ProcessEnv;
}

const RATES = [16000, 22050, 24000, 44100] as const;
/**
 * The largest message accepted. A message carries one generation chunk: at most about 290
 * characters under the default chunk schedule, about 20 s of speech, 1.8 MB of PCM at 44.1 kHz,
 * 2.4 MB in base64. 8 MiB leaves three times that.
 */
const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

export function elevenlabsTts(options: ElevenLabsTtsOptions): TtsService {
  const env = options.env ?? process.env;
  const voiceId = requiredString('elevenlabsTts voiceId', options.voiceId);
  const modelId = requiredString('elevenlabsTts modelId', options.modelId ?? 'eleven_flash_v2_5');
  const sampleRate = options.sampleRate ?? 24000;
  if (!(RATES as readonly number[]).includes(sampleRate)) {
    throw new AdapterConfigError(`elevenlabsTts sampleRate must be one of ${RATES.join(', ')}, got ${sampleRate}`);
  }
  const apiKey = options.apiKey?.trim() || requireEnv('ELEVENLABS_API_KEY', 'the ElevenLabs TTS adapter', env);
  const base = baseUrl(options.url, 'ELEVENLABS_URL', 'wss://api.elevenlabs.io', env);
  const query = new URLSearchParams({
    model_id: modelId,
    output_format: `pcm_${sampleRate}`,
    sync_alignment: 'true',
    auto_mode: 'true',
    inactivity_timeout: '180',
  });
  if (options.languageCode) query.set('language_code', options.languageCode);
  const url = `${base}/v1/text-to-speech/${encodeURIComponent(voiceId)}/stream-input?${query}`;
  const timing = {
    connectTimeoutMs: limitMs('connectTimeoutMs', options.connectTimeoutMs, 5000),
    responseTimeoutMs: limitMs('responseTimeoutMs', options.responseTimeoutMs, 5000),
    maxBufferedMs: limitMs('maxBufferedMs', options.maxBufferedMs, 10_000),
  };
  return {
    name: 'elevenlabs',
    sampleRate,
    open: (signal) =>
      new ElevenLabsReply(signal, {
        name: 'elevenlabs', url, headers: { 'xi-api-key': apiKey }, sampleRate, signal, maxMessageBytes: MAX_MESSAGE_BYTES, ...timing,
      }, options.voiceSettings),
  };
}

/** One reply: `ReplySocket` plus the ElevenLabs messages. Exported for its `stats` in tests. */
export class ElevenLabsReply implements TtsStream {
  readonly #socket: ReplySocket;
  readonly #decoder = new Pcm16Decoder();
  readonly #words = new AlignmentWords();
  readonly #rate: number;
  #chars = 0;
  #sentText = false;
  #ended = false;

  constructor(signal: AbortSignal, config: ConstructorParameters<typeof ReplySocket>[0], voiceSettings?: ElevenLabsVoiceSettings) {
    this.#rate = config.sampleRate;
    this.#socket = new ReplySocket(config, {
      onMessage: (text) => this.#onMessage(text),
      // After `{"text": ""}` the service sends isFinal and closes 1000; a 1000 without isFinal still ends the reply.
      closedNormally: (code) => {
        if (code !== 1000 || !this.#ended) return false;
        this.#socket.queue.addWords(this.#words.flush());
        return true;
      },
    });
    if (!signal.aborted) this.#socket.send({ text: ' ', ...(voiceSettings ? { voice_settings: voiceSettings } : {}) });
  }

  get audio(): AsyncIterable<TtsChunk> {
    return this.#socket.queue;
  }

  get stats(): ReplySocket['stats'] {
    return this.#socket.stats;
  }

  push(text: string): void {
    this.#chars = checkPush('elevenlabs', text, this.#ended, this.#chars);
    // An empty text would end the input, and whitespace alone says nothing.
    if (text.trim() === '') return;
    // The reference: text "should always end with a single space".
    this.#socket.send({ text: /\s$/.test(text) ? text : `${text} ` }, true);
    this.#sentText = true;
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (!this.#sentText || this.#socket.done) return this.#socket.finish();
    this.#socket.send({ text: '' });
    this.#socket.ending();
  }

  #onMessage(raw: string): void {
    const msg: unknown = JSON.parse(raw);
    if (typeof msg !== 'object' || msg === null) throw new Error('not a JSON object');
    const m = msg as Record<string, unknown>;
    if (typeof m.error === 'string' || (typeof m.message === 'string' && m.audio === undefined && m.isFinal === undefined)) {
      throw new TtsProviderError('elevenlabs', [m.error, m.message].filter((x) => typeof x === 'string').join(': '), typeof m.code === 'number' ? m.code : undefined);
    }
    if (typeof m.audio === 'string' && m.audio.length > 0) {
      const offsetMs = (this.#decoder.bytesReceived / 2 / this.#rate) * 1000;
      const samples = this.#decoder.decodeBase64(m.audio);
      const alignment = parseAlignment(m.alignment ?? m.normalizedAlignment);
      this.#socket.queue.push(samples, alignment ? this.#words.add(alignment, offsetMs) : undefined);
    } else if (m.audio !== undefined && m.audio !== null && typeof m.audio !== 'string') {
      throw new Error('audio is not a base64 string');
    }
    if (m.isFinal === true) {
      this.#socket.queue.addWords(this.#words.flush());
      this.#socket.finish();
    }
  }
}
