/**
 * `deepgramStt(options)`: Deepgram's live transcription (wss://api.deepgram.com/v1/listen) as an
 * SttService. One WebSocket per call, linear16 mono at 16 kHz, interim results and VAD events on
 * (SpeechStarted is the cascade's barge-in cue), endpointing and UtteranceEnd for end of turn.
 *
 * Built on `ws` directly rather than @deepgram/sdk 5.x: the SDK's live client wraps the socket in
 * a ReconnectingWebSocket that by default reconnects silently (30 attempts) and queues sends
 * without bound while disconnected; a live call needs the opposite (a lost connection is an
 * error the handler sees, audio is dropped and counted when the socket backs up), plus the close
 * codes and the handshake's HTTP status, which the wrapper hides. The protocol is small enough
 * (a query string, binary audio, three JSON control messages) not to need the SDK.
 */
import WebSocket from 'ws';
import { AdapterConfigError, requireEnv, type SttService } from '../types.ts';
import { DeepgramSession, type DeepgramSessionLimits } from './session.ts';

export const DEEPGRAM_URL = 'wss://api.deepgram.com/v1/listen';
/** Deepgram's live API takes linear16 at the rate we declare; 16 kHz is what its models are trained on. */
export const DEEPGRAM_SAMPLE_RATE = 16_000;

export interface DeepgramSttOptions {
  /** Default: env DEEPGRAM_API_KEY. */
  apiKey?: string;
  /** Default: env DEEPGRAM_URL, else wss://api.deepgram.com/v1/listen. */
  url?: string;
  /** Default "nova-3". */
  model?: string;
  /** BCP-47 language, e.g. "en-US"; Deepgram's default when absent. */
  language?: string;
  /** Silence that ends an utterance (`speech_final`), ms. Default 300. */
  endpointingMs?: number;
  /** Word gap that sends UtteranceEnd (ms; Deepgram requires >= 1000). Default 1000. */
  utteranceEndMs?: number;
  /** Default true. */
  smartFormat?: boolean;
  /** Idle time after which a KeepAlive is sent (ms). Default 4000 (Deepgram: every 3-5 s, closes after 10 s). */
  keepAliveMs?: number;
  /** Handshake timeout (ms). Default 10000. */
  connectTimeoutMs?: number;
  /** Socket backlog beyond which audio is dropped (bytes). Default 64000 (2 s at 16 kHz). */
  maxBufferedBytes?: number;
  /** Wall clock (epoch ms) stamped on events. Default performance.timeOrigin + performance.now() (sub-ms). */
  now?: () => number;
}

export interface DeepgramStt extends SttService {
  connect(signal: AbortSignal): Promise<DeepgramSession>;
  /** The URL a session connects to (query included). */
  readonly listenUrl: string;
}

/** Largest server message accepted: a Results message is a few KiB. */
const MAX_MESSAGE_BYTES = 1 << 20;
/** The most of a refused handshake's body kept for the error message. */
const MAX_ERROR_BODY = 2048;

export function deepgramStt(options: DeepgramSttOptions = {}, env: NodeJS.ProcessEnv = process.env): DeepgramStt {
  const apiKey = options.apiKey?.trim() || requireEnv('DEEPGRAM_API_KEY', 'deepgramStt', env);
  const base = options.url ?? (env.DEEPGRAM_URL?.trim() || DEEPGRAM_URL);
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new AdapterConfigError(`deepgramStt: url ${JSON.stringify(base)} is not a URL (set DEEPGRAM_URL or options.url to e.g. ${DEEPGRAM_URL})`);
  }
  if (url.protocol !== 'wss:' && url.protocol !== 'ws:') throw new AdapterConfigError(`deepgramStt: url must be ws:// or wss://, got ${url.protocol}`);
  const endpointingMs = positive('endpointingMs', options.endpointingMs ?? 300, 10, 10_000);
  const utteranceEndMs = positive('utteranceEndMs', options.utteranceEndMs ?? 1000, 1000, 5000);
  const query: Record<string, string> = {
    model: options.model ?? 'nova-3',
    encoding: 'linear16',
    sample_rate: String(DEEPGRAM_SAMPLE_RATE),
    channels: '1',
    interim_results: 'true',
    vad_events: 'true',
    utterance_end_ms: String(utteranceEndMs),
    endpointing: String(endpointingMs),
    smart_format: String(options.smartFormat ?? true),
  };
  if (options.language) query.language = options.language;
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const limits: DeepgramSessionLimits = {
    keepAliveMs: positive('keepAliveMs', options.keepAliveMs ?? 4000, 100, 9000),
    maxBufferedBytes: positive('maxBufferedBytes', options.maxBufferedBytes ?? 64_000, 3200, 16 << 20),
    closeTimeoutMs: 2000,
    maxQueuedEvents: 1000,
  };
  const connectTimeoutMs = positive('connectTimeoutMs', options.connectTimeoutMs ?? 10_000, 100, 60_000);
  const now = options.now ?? (() => performance.timeOrigin + performance.now());
  const listenUrl = url.toString();

  return {
    name: 'deepgram',
    sampleRate: DEEPGRAM_SAMPLE_RATE,
    listenUrl,
    async connect(signal: AbortSignal): Promise<DeepgramSession> {
      const ws = await open(listenUrl, apiKey, connectTimeoutMs, signal);
      return new DeepgramSession(ws, limits, signal, now);
    },
  };
}

/** Opens the socket, or rejects with the HTTP status and Deepgram's error message, a timeout, or the abort. */
function open(url: string, apiKey: string, timeoutMs: number, signal: AbortSignal): Promise<WebSocket> {
  signal.throwIfAborted();
  const ws = new WebSocket(url, { headers: { Authorization: `Token ${apiKey}` }, maxPayload: MAX_MESSAGE_BYTES, handshakeTimeout: timeoutMs });
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      ws.removeAllListeners('open').removeAllListeners('unexpected-response');
      ws.removeListener('error', onError);
      if (!err) return resolve(ws);
      ws.on('error', () => undefined); // terminate() of a connecting socket emits one more
      ws.terminate();
      reject(err);
    };
    const onAbort = (): void => done(signal.reason instanceof Error ? signal.reason : new Error('deepgram: connect aborted'));
    const onError = (err: Error): void => done(new Error(`deepgram: cannot connect to ${redact(url)}: ${err.message}`));
    const timer = setTimeout(() => done(new Error(`deepgram: no connection to ${redact(url)} within ${timeoutMs} ms`)), timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    ws.once('open', () => done());
    ws.on('error', onError);
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body = (body + c).slice(0, MAX_ERROR_BODY)));
      res.on('end', () => done(new Error(`deepgram refused the connection: HTTP ${res.statusCode} ${describeError(body, res.headers['dg-error'])}`)));
      res.on('error', () => done(new Error(`deepgram refused the connection: HTTP ${res.statusCode}`)));
    });
  });
}

function describeError(body: string, header: string | string[] | undefined): string {
  try {
    const j = JSON.parse(body) as { err_code?: unknown; err_msg?: unknown };
    if (typeof j.err_msg === 'string') return `${typeof j.err_code === 'string' ? `${j.err_code}: ` : ''}${j.err_msg}`;
  } catch {
    // not JSON: the header or the raw body below
  }
  return (typeof header === 'string' ? header : body).trim() || '(no body)';
}

function redact(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}

function positive(name: string, v: number, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new RangeError(`deepgramStt: ${name} must be a number in ${min}..${max}, got ${v}`);
  return v;
}
