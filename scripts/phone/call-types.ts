import type { Turn } from './energy-turns.ts';
import type { DialOutcome, Provider } from './providers/types.ts';

/**
 * A simulated phone call against the Switchboard edge, in real time, as Twilio, Telnyx (TeXML) or
 * Plivo would place it, from each provider's documented formats (none can be reached from the
 * test machines):
 *
 * 1. the signed instruction webhook, following hold redirects until the markup connects a
 *    stream or hangs up;
 * 2. the media stream WebSocket, to the URL the markup gives (see stream-session.ts for the
 *    timeline): the caller's audio in 20 ms frames, DTMF, the server's audio played in real time,
 *    marks / checkpoints answered once played, and the hang-up;
 * 3. the signed end-of-call request (Twilio / Telnyx status callback, Plivo hangup URL).
 *
 * With `providerApiUrl` (a local fake of the provider's REST API), requests the edge makes there
 * for this call are played as the provider would: a hang-up ends the call, a redirect ends the
 * stream and runs the new URL's markup. `<Dial>` is played with `dialOutcome`.
 */
export interface SimulateCallOptions {
  baseUrl: string;                 // where to send HTTP, e.g. http://127.0.0.1:8787
  publicBaseUrl?: string;          // what the edge signs against (its PUBLIC_BASE_URL); default baseUrl
  provider?: Provider;             // default 'twilio'
  authToken?: string;              // Twilio auth token for all Twilio signatures (default LOCAL_DEFAULTS' TWILIO_AUTH_TOKEN)
  accountSid?: string;             // Twilio: default LOCAL_DEFAULTS' TWILIO_ACCOUNT_SID; Telnyx: the AccountSid sent (default a local UUID)
  telnyxSigningKey?: string;       // PKCS#8 DER Ed25519 key, base64 (default LOCAL_TELNYX_SIGNING_KEY)
  plivoAuthId?: string;            // default LOCAL_DEFAULTS' PLIVO_AUTH_ID
  plivoAuthToken?: string;         // default LOCAL_DEFAULTS' PLIVO_AUTH_TOKEN
  plivoRequestUuid?: string;       // Plivo outbound: the request_uuid the Call API answered (sent as ALegRequestUUID / RequestUUID)
  callSid?: string;                // Twilio CallSid (CA + 32 hex), Telnyx CallSid, Plivo CallUUID; default random
  from?: string; to?: string;      // defaults '+15550100001' / '+15550100002' (Plivo sends them without '+')
  direction?: 'inbound' | 'outbound-api'; // default 'inbound' (outbound-api: answer a call the edge placed through the provider's REST API)
  audio: { samples: Int16Array; sampleRate: number }; // caller speech, mono, any rate (resampled to the stream's rate)
  leadSilenceMs?: number;          // silence sent before the audio (default 0)
  tailMs?: number;                 // keep the call up this long after the audio ends (default 3000)
  dtmf?: Array<{ atMs: number; digit: string }>; // digits sent at these stream times
  hangupAtMs?: number;             // hang up at this stream time (default: audio end + tailMs)
  dropStreamAtMs?: number[];       // drop the stream's connection (no stop, no close frame) at these stream times, as a network failure would
  maxHoldMs?: number;              // give up if still on hold after this long (default 30000)
  voiceUrl?: string;               // the first instruction request's URL, query included, signed as written (the REST request's Url / answer_url); default {publicBaseUrl}/{provider}/voice
  statusCallbackUrl?: string;      // the end-of-call request's URL (StatusCallback / hangup_url); default {publicBaseUrl}/{provider}/status
  providerApiUrl?: string;         // a fake provider API (scripts/stack/*-api-fake.ts): its GET /__requests is polled for hang-ups and redirects of this call
  providerApiCursor?: number;      // the first log entry that counts (default: the log's length when the call starts)
  dialOutcome?: DialOutcome;       // how every <Dial> ends (default 'completed')
  dialTalkMs?: number;             // how long a completed <Dial> leg talks before the human hangs up (default 500)
  onLog?: (line: string) => void;
  signal?: AbortSignal;
}

/** One server frame (or burst of media frames) by stream time. */
export interface ReceivedFrame {
  atMs: number;
  event: 'media' | 'mark' | 'clear';
  /** media: samples in the entry at heardSampleRate (for Twilio, mu-law bytes). */
  bytes?: number;
  /** media: how many frames were merged into the entry. */
  frames?: number;
  /** mark: its name (Plivo: the checkpoint's). */
  name?: string;
}

export interface CallResult {
  provider: Provider;
  callSid: string; streamSid: string; sessionId: string;
  webhookMs: number[];             // each instruction request -> markup answer time
  holds: number;                   // redirects followed
  connected: boolean;              // false if the markup hung up (then `goodbye` has what it said)
  goodbye?: string;
  startedAt: number;               // performance.now() when the stream's opening messages were sent: stream time 0
  heard: Int16Array;               // what the caller heard, mono at heardSampleRate, stream time 0 onwards
  heardSampleRate: number;         // 8000 for Twilio; the stream's outbound rate otherwise
  /**
   * Server frames by stream time. Consecutive media frames are merged into one entry while no
   * mark/clear comes between them and each arrives within 100 ms of the previous one.
   */
  received: ReceivedFrame[];
  clears: number[];                // stream times at which clear / clearAudio arrived
  marksEchoed: number; marksReceived: number; // marks (Plivo: checkpoints) answered / received
  sentFrames: number;              // media frames sent
  sendLatenessMs: { p50: number; p99: number; max: number };
  /** Who ended the call: the caller (hang-up time), the server (close, or markup that hangs up), the provider (its REST API). */
  closedBy: 'caller' | 'server' | 'provider'; closeCode?: number; closeReason?: string;
  hungUpBy?: 'api';                // set when the edge hung the call up through the provider's REST API
  /** Redirects through the provider's REST API, by stream time; `resumedAtMs`: the next stream's start (NaN: none). */
  redirects: Array<{ atMs: number; url: string; resumedAtMs: number }>;
  /** `<Dial>`s played, by ms since the call's first instruction request. */
  dials: Array<{ to: string; callerId?: string; atMs: number; outcome: DialOutcome }>;
  streams: number;                 // streams the call used (1 unless a stream closed and its action gave a new one)
  reconnects: Array<{ lostAtMs: number; resumedAtMs: number; closeCode: number }>;
  turns: Turn[];                   // end of each caller speech segment -> first audible heard audio after it
  /** Server frames that break the provider's documented format (it would reject or ignore them). */
  protocolErrors: string[];
  /** The end-of-call request's answer: status callback, or Plivo's hangup URL (null status: the request failed, see `error`). */
  statusCallback: { status: number | null; ms: number; error?: string };
}
