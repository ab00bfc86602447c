import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { audioFrame, resampleOnce } from '@switchboard/media-worker';
import { LOCAL_DEFAULTS } from '../stack/config.ts';
import { energySegments, pairTurns, type Turn } from './energy-turns.ts';
import { FrameClock } from './frame-clock.ts';
import { encodeMulaw } from './mulaw.ts';
import { PlaybackBuffer, SAMPLE_RATE, TICK_MS, TICK_SAMPLES } from './playback-buffer.ts';
import { transportUrl } from './public-url.ts';
import { bodyStart, sendWebhook, twilioSignature, type FormParams, type WebhookAnswer } from './signed-webhook.ts';
import { DTMF_DIGIT, TwilioStreamMessages, parseServerMessage } from './stream-messages.ts';
import { TwimlError, parseTwiml, type TwimlAction } from './twiml.ts';

/**
 * A simulated Twilio phone call against the Switchboard edge, in real time, from Twilio's
 * documented formats (Twilio itself cannot be reached from the test machines):
 *
 * 1. the voice webhook (`POST /twilio/voice`, signed), following `<Redirect>` holds until the
 *    TwiML connects a `<Stream>` or hangs up;
 * 2. the Media Stream WebSocket (upgrade signed over the TwiML stream URL with no params):
 *    `connected`, `start`, then a 20 ms mu-law `media` frame every 20 ms on a drift-free clock,
 *    `dtmf` at the requested times, and `stop` + close (1000) at hang-up; the server's audio goes
 *    into a Twilio-like playback buffer that plays in real time and echoes marks;
 * 3. the status callback (`POST /twilio/status`, CallStatus=completed, signed) once the call ends,
 *    whoever ended it.
 *
 * When the server closes the stream without the call ending (no `stop` from either side) and the
 * TwiML's `<Connect>` has an `action`, the call goes on as Twilio's does: the action URL is
 * requested (signed, like the voice webhook), and the TwiML it answers runs: a new `<Stream>`
 * (new streamSid, `connected` + `start` again, media timestamps from 0) on the same call clock,
 * holds, or a hang-up. The caller's audio in the gap is not sent and nothing plays in it; what was
 * in the playback buffer is dropped with the old stream.
 *
 * Stream time 0 is when `start` is sent. Caller audio is laid out on that timeline (lead silence,
 * then the audio, then silence); media chunk k (1-based) carries [(k-1)*20, k*20) ms of it and is
 * sent at k*20 ms, when that audio has "been spoken", with `timestamp` (k-1)*20 (the chunk's
 * presentation time). The tick at k*20 ms also plays the next 20 ms slot of the playback buffer,
 * so `heard` holds at [k*20, k*20+20) what that tick played ([0, 20) is silence: nothing can play
 * before the first tick). A mark is echoed when the slot holding the last sample before it has
 * finished playing (the next tick), so echoes are never early and at most 20 ms late.
 */
export interface SimulateCallOptions {
  baseUrl: string;                 // where to send HTTP, e.g. http://127.0.0.1:8787
  publicBaseUrl?: string;          // what the edge signs against (its PUBLIC_BASE_URL); default baseUrl
  authToken: string;               // Twilio auth token used for all signatures
  accountSid?: string;             // default LOCAL_DEFAULTS' TWILIO_ACCOUNT_SID
  callSid?: string;                // default random 'CA' + 32 hex
  from?: string; to?: string;      // defaults '+15550100001' / '+15550100002'
  direction?: 'inbound' | 'outbound-api'; // default 'inbound' (outbound-api: answer a call placed by POST /v1/calls)
  audio: { samples: Int16Array; sampleRate: number }; // caller speech, mono, any rate (resampled to 8 kHz)
  leadSilenceMs?: number;          // silence sent before the audio (default 0)
  tailMs?: number;                 // keep the call up this long after the audio ends (default 3000)
  dtmf?: Array<{ atMs: number; digit: string }>; // digits sent at these stream times
  hangupAtMs?: number;             // send `stop` and close at this stream time (default: audio end + tailMs)
  dropStreamAtMs?: number[];       // drop the stream's connection (no stop, no close frame) at these stream times, as a network failure would; Twilio then follows <Connect action>
  maxHoldMs?: number;              // give up if still on hold after this long (default 30000)
  onLog?: (line: string) => void;
  signal?: AbortSignal;
}

/** One server frame (or burst of media frames) by stream time. */
export interface ReceivedFrame {
  atMs: number;
  event: 'media' | 'mark' | 'clear';
  /** media: mu-law bytes (= samples at 8 kHz) in the entry. */
  bytes?: number;
  /** media: how many frames were merged into the entry. */
  frames?: number;
  /** mark: its name. */
  name?: string;
}

export interface CallResult {
  callSid: string; streamSid: string; sessionId: string;
  webhookMs: number[];             // each voice webhook POST -> TwiML answer time
  holds: number;                   // redirects followed
  connected: boolean;              // false if the call ended with <Hangup/> (then `goodbye` has the <Say> text)
  goodbye?: string;
  startedAt: number;               // performance.now() when `start` was sent: stream time 0
  heard: Int16Array;               // what the caller heard, 8 kHz mono, stream time 0 onwards (silence where the buffer was empty)
  /**
   * Server frames by stream time. Consecutive `media` frames are merged into one entry (atMs of
   * the first, summed bytes, `frames` count) while no mark/clear comes between them and each
   * arrives within 100 ms of the previous one.
   */
  received: ReceivedFrame[];
  clears: number[];                // stream times at which `clear` arrived
  marksEchoed: number; marksReceived: number;
  sentFrames: number;              // media frames sent
  sendLatenessMs: { p50: number; p99: number; max: number }; // our own pacing, to show it ran in real time
  closedBy: 'caller' | 'server'; closeCode?: number; closeReason?: string;
  /** Streams the call used (1 unless a stream closed without stop and `<Connect action>` gave a new one). */
  streams: number;
  /** Each stream lost without stop: its close and the next stream's `start`, in stream time (resumedAtMs NaN if none followed). */
  reconnects: Array<{ lostAtMs: number; resumedAtMs: number; closeCode: number }>;
  turns: Turn[];                   // end of each caller speech segment -> first audible heard audio after it
  /** Server frames that break Twilio's documented format (Twilio would reject or ignore them). */
  protocolErrors: string[];
  /** The status callback's answer (null status: the request itself failed, see `error`). */
  statusCallback: { status: number | null; ms: number; error?: string };
}

const DEFAULT_FROM = '+15550100001';
const DEFAULT_TO = '+15550100002';
const DEFAULT_TAIL_MS = 3000;
const DEFAULT_MAX_HOLD_MS = 30_000;
/** WebSocket opening handshake limit. */
const UPGRADE_TIMEOUT_MS = 10_000;
/** How long to wait for the server's close frame after ours before dropping the TCP connection. */
const CLOSE_TIMEOUT_MS = 3000;
/** Media frames arriving closer than this to the previous one are merged into one `received` entry. */
const MEDIA_BURST_GAP_MS = 100;

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function checkOptions(o: SimulateCallOptions): void {
  if (!/^https?:\/\//.test(o.baseUrl)) throw new TypeError(`baseUrl must be an http(s):// URL, got ${JSON.stringify(o.baseUrl)}`);
  if (o.publicBaseUrl !== undefined && !/^https?:\/\//.test(o.publicBaseUrl)) throw new TypeError(`publicBaseUrl must be an http(s):// URL, got ${JSON.stringify(o.publicBaseUrl)}`);
  if (o.callSid !== undefined && !/^CA[0-9a-fA-F]{32}$/.test(o.callSid)) throw new TypeError(`callSid must be CA + 32 hex digits, got ${JSON.stringify(o.callSid)}`);
  if (!(o.audio.samples instanceof Int16Array)) throw new TypeError('audio.samples must be an Int16Array');
  if (!Number.isInteger(o.audio.sampleRate) || o.audio.sampleRate <= 0) throw new TypeError(`audio.sampleRate must be a positive integer, got ${o.audio.sampleRate}`);
  for (const [name, v] of [['leadSilenceMs', o.leadSilenceMs], ['tailMs', o.tailMs], ['hangupAtMs', o.hangupAtMs], ['maxHoldMs', o.maxHoldMs]] as const) {
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new TypeError(`${name} must be a non-negative number, got ${v}`);
  }
  for (const d of o.dtmf ?? []) {
    if (!DTMF_DIGIT.test(d.digit)) throw new TypeError(`DTMF digit must be one of 0-9 * # A-D, got ${JSON.stringify(d.digit)}`);
    if (!(Number.isFinite(d.atMs) && d.atMs >= 0)) throw new TypeError(`DTMF time must be a non-negative number of ms, got ${d.atMs}`);
  }
}

/** The caller's side of the stream timeline at 8 kHz: lead silence, then the audio. */
async function callerTimeline(o: SimulateCallOptions): Promise<Int16Array> {
  const at8k = await resampleOnce(audioFrame(o.audio.samples, o.audio.sampleRate, 1), SAMPLE_RATE);
  const lead = Math.round(((o.leadSilenceMs ?? 0) * SAMPLE_RATE) / 1000);
  const out = new Int16Array(lead + at8k.samples.length);
  out.set(at8k.samples, lead);
  return out;
}

/** Why a webhook answer is unusable, or null when it is a 2xx. */
function webhookFailure(what: string, a: WebhookAnswer): Error | null {
  if (a.status === 403) return new Error(`${what} answered 403: the edge refused the X-Twilio-Signature (auth token or public base URL differs from the edge's): ${bodyStart(a.body)}`);
  if (a.status < 200 || a.status > 299) return new Error(`${what} answered ${a.status}: ${bodyStart(a.body)}`);
  return null;
}

export async function simulateCall(o: SimulateCallOptions): Promise<CallResult> {
  checkOptions(o);
  const log = o.onLog ?? (() => {});
  const publicBase = (o.publicBaseUrl ?? o.baseUrl).replace(/\/+$/, '');
  const base = o.baseUrl.replace(/\/+$/, '');
  const accountSid = o.accountSid ?? LOCAL_DEFAULTS.TWILIO_ACCOUNT_SID ?? 'AC00000000000000000000000000000000';
  const callSid = o.callSid ?? `CA${hex(16)}`;
  const direction = o.direction ?? 'inbound';
  const maxHoldMs = o.maxHoldMs ?? DEFAULT_MAX_HOLD_MS;

  const input = await callerTimeline(o);
  const audioEndMs = (input.length / SAMPLE_RATE) * 1000;
  const hangupAtMs = o.hangupAtMs ?? audioEndMs + (o.tailMs ?? DEFAULT_TAIL_MS);

  // The form fields Twilio sends with every voice request for this call.
  const from = o.from ?? DEFAULT_FROM;
  const to = o.to ?? DEFAULT_TO;
  const callParams = (callStatus: string): FormParams => ({
    AccountSid: accountSid,
    ApiVersion: '2010-04-01',
    CallSid: callSid,
    CallStatus: callStatus,
    Called: to,
    Caller: from,
    Direction: direction,
    From: from,
    To: to,
  });
  const callStartedAt = performance.now();
  let answeredOnce = false;

  /** The status callback Twilio sends when the call is over (on every ending, after any answer). */
  const postStatus = async (): Promise<CallResult['statusCallback']> => {
    const signedUrl = `${publicBase}/twilio/status`;
    const params: FormParams = {
      ...callParams('completed'),
      CallDuration: String(Math.round((performance.now() - callStartedAt) / 1000)),
      CallbackSource: 'call-progress-events',
      Timestamp: new Date().toUTCString().replace('GMT', '+0000'),
    };
    try {
      const a = await sendWebhook({ signedUrl, requestUrl: transportUrl(signedUrl, publicBase, base), params, authToken: o.authToken });
      const failure = webhookFailure(`POST ${signedUrl}`, a);
      log(`status callback (completed) -> ${a.status} in ${a.ms.toFixed(0)} ms`);
      return failure ? { status: a.status, ms: a.ms, error: failure.message } : { status: a.status, ms: a.ms };
    } catch (err) {
      log(`status callback failed: ${(err as Error).message}`);
      return { status: null, ms: 0, error: (err as Error).message };
    }
  };

  // --- 1. voice webhook, following holds ----------------------------------------------------
  const webhookMs: number[] = [];
  let holds = 0;
  type Connect = Extract<TwimlAction, { connect: unknown }>['connect'];
  /**
   * Requests `url` (the voice webhook, or `<Connect action>`) and follows hold redirects until the
   * TwiML connects a stream or hangs up; maxHoldMs counts from this call.
   */
  const runTwiml = async (url: string, firstMethod: 'GET' | 'POST'): Promise<{ connect: Connect } | { hangup: { say: string } }> => {
    const since = performance.now();
    let nextUrl = url;
    let method = firstMethod;
    for (;;) {
      // Twilio's first request for an inbound call is made while it rings; later ones (redirects,
      // or an outbound call the callee answered) while the call is in progress.
      const callStatus = direction === 'inbound' && webhookMs.length === 0 ? 'ringing' : 'in-progress';
      const what = `${method} ${nextUrl}`;
      const a = await sendWebhook({ method, signedUrl: nextUrl, requestUrl: transportUrl(nextUrl, publicBase, base), params: callParams(callStatus), authToken: o.authToken, signal: o.signal });
      webhookMs.push(a.ms);
      const failure = webhookFailure(what, a);
      if (failure) throw failure;
      answeredOnce = true;
      let action;
      try {
        action = parseTwiml(a.body, nextUrl);
      } catch (err) {
        if (err instanceof TwimlError) throw new Error(`${what} answered ${a.status} (${a.contentType || 'no content type'}) that is not usable TwiML: ${err.message}; body: ${bodyStart(a.body)}`);
        throw err;
      }
      log(`webhook ${what} -> ${a.status} in ${a.ms.toFixed(0)} ms: ${'connect' in action ? 'connect' : 'redirect' in action ? 'hold' : 'hangup'}`);
      if ('connect' in action || 'hangup' in action) return action;
      // Hold: Twilio says the text, pauses, then requests the redirect URL.
      const waitMs = action.redirect.pauseS * 1000;
      const heldMs = performance.now() - since;
      if (heldMs + waitMs > maxHoldMs) {
        throw new Error(`still on hold after ${Math.round(heldMs)} ms (${holds} redirects; maxHoldMs ${maxHoldMs}): "${action.redirect.say}"`);
      }
      holds++;
      await sleep(waitMs, o.signal);
      nextUrl = action.redirect.url;
      method = action.redirect.method;
    }
  };

  let stream: Connect;
  try {
    const first = await runTwiml(`${publicBase}/twilio/voice`, 'POST');
    if ('hangup' in first) {
      // <Hangup/>: no stream. The edge ended the call, so closedBy is 'server'; stream fields are empty.
      const statusCallback = await postStatus();
      return {
        callSid, streamSid: '', sessionId: '', webhookMs, holds, connected: false, goodbye: first.hangup.say,
        startedAt: performance.now(), heard: new Int16Array(0), received: [], clears: [], marksEchoed: 0, marksReceived: 0,
        sentFrames: 0, sendLatenessMs: { p50: 0, p99: 0, max: 0 }, closedBy: 'server', turns: [], protocolErrors: [], statusCallback,
        streams: 0, reconnects: [],
      };
    }
    stream = first.connect;
  } catch (err) {
    // A call that got past the first answer has a session on the edge: end it as Twilio would.
    if (answeredOnce) await postStatus();
    throw err;
  }

  // --- 2. media stream -------------------------------------------------------------------------
  let streamSid = `MZ${hex(16)}`;
  const firstStreamSid = streamSid;
  const sessionId = stream.parameters.sessionId ?? '';
  let msgs = new TwilioStreamMessages({ accountSid, callSid, streamSid });
  let ws: WebSocket;
  try {
    ws = await openStream(stream.url, transportUrl(stream.url, publicBase, base), o.authToken, o.signal);
  } catch (err) {
    await postStatus();
    throw err;
  }
  log(`media stream open: ${stream.url}`);

  const buffer = new PlaybackBuffer();
  const heard: Int16Array[] = [new Int16Array(TICK_SAMPLES)]; // [0, 20 ms): before the first tick
  const received: ReceivedFrame[] = [];
  const clears: number[] = [];
  const protocolErrors: string[] = [];
  const dtmf = [...(o.dtmf ?? [])].sort((a, b) => a.atMs - b.atMs);
  const drops = [...(o.dropStreamAtMs ?? [])].sort((a, b) => a - b);
  let lastMediaAt = -Infinity;
  let marksEchoed = 0;
  let marksReceived = 0;
  let sentFrames = 0;
  /** Marks reached by the slot now playing: echoed when it ends (next tick). */
  let reachedMarks: string[] = [];
  /** Whether the slot now playing holds server audio (a mark arriving now waits for it to end). */
  let slotPlaying = false;
  let stopped = false; // `stop` sent or socket closed: nothing more is sent or played
  let failure = undefined as Error | undefined; // set inside callbacks
  let closeTimer: NodeJS.Timeout | undefined;
  let startedAt = 0;
  /** Stream time at which the current stream's `start` was sent (its media timestamps count from it). */
  let streamT0 = 0;
  /** Between a stream lost without stop and the next one's `start`: nothing is sent. */
  let reconnecting = false;
  let streams = 1;
  const reconnects: CallResult['reconnects'] = [];

  const streamTime = () => performance.now() - startedAt;
  const echo = (names: readonly string[]) => {
    if (reconnecting || ws.readyState !== WebSocket.OPEN) return;
    for (const name of names) {
      ws.send(msgs.mark(name));
      marksEchoed++;
    }
  };

  const hangUp = (why: string) => {
    if (stopped) return;
    stopped = true;
    clock.stop();
    if (reconnecting) {
      log(`hanging up at ${streamTime().toFixed(0)} ms (${why}) while no stream is open`);
      endCall();
      return;
    }
    if (ws.readyState === WebSocket.OPEN) {
      log(`hanging up at ${streamTime().toFixed(0)} ms (${why}): stop, close 1000`);
      ws.send(msgs.stop());
      ws.close(1000);
      // The server answers our close frame with its own; if it does not, drop the connection.
      closeTimer = setTimeout(() => ws.terminate(), CLOSE_TIMEOUT_MS);
    }
  };

  const clock = new FrameClock(TICK_MS, (k, tMs) => {
    if (stopped) return;
    if (reconnecting || ws.readyState !== WebSocket.OPEN) {
      // No stream (lost, or its close under way): the caller's audio of this slot goes nowhere and nothing plays.
      if (tMs >= hangupAtMs) return hangUp('hang-up time');
      heard.push(new Int16Array(TICK_SAMPLES));
      return;
    }
    if (drops.length > 0 && drops[0]! <= tMs) {
      drops.shift();
      log(`dropping the stream's connection at ${tMs} ms`);
      ws.terminate(); // 'close' (1006) follows: the call goes on as after any close without stop
      heard.push(new Int16Array(TICK_SAMPLES));
      return;
    }
    try {
      echo(reachedMarks); // the slot that reached them has now finished playing
      reachedMarks = [];
      while (dtmf.length > 0 && dtmf[0]!.atMs <= tMs && dtmf[0]!.atMs < hangupAtMs) {
        const d = dtmf.shift()!;
        ws.send(msgs.dtmf(d.digit));
        log(`dtmf ${d.digit} at ${tMs} ms`);
      }
      // Chunk k holds the caller's [(k-1)*20, k*20) ms: sent if that started before the hang-up.
      if (tMs - TICK_MS < hangupAtMs) {
        const from = (k - 1) * TICK_SAMPLES;
        const chunk = new Int16Array(TICK_SAMPLES); // silence past the end of the caller's audio
        if (from < input.length) chunk.set(input.subarray(from, Math.min(input.length, from + TICK_SAMPLES)));
        ws.send(msgs.media(encodeMulaw(chunk), Math.max(0, tMs - TICK_MS - streamT0)));
        sentFrames++;
      }
      if (tMs >= hangupAtMs) return hangUp('hang-up time');
      const slot = buffer.tick();
      heard.push(slot.pcm);
      reachedMarks = slot.marks;
      slotPlaying = slot.playedSamples > 0;
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err));
      hangUp(`error: ${failure.message}`);
    }
  });

  const onMessage = (data: WebSocket.RawData, isBinary: boolean) => {
    if (stopped || reconnecting) return;
    const atMs = streamTime();
    let msg;
    try {
      if (isBinary) throw new Error('binary frame (Twilio takes JSON text frames only)');
      msg = parseServerMessage(data.toString(), streamSid);
    } catch (err) {
      protocolErrors.push(`${atMs.toFixed(0)} ms: ${(err as Error).message}`);
      log(`protocol error: ${(err as Error).message}`);
      return;
    }
    if (msg.event === 'media') {
      buffer.appendMulaw(msg.mulaw);
      const last = received[received.length - 1];
      if (last?.event === 'media' && atMs - lastMediaAt <= MEDIA_BURST_GAP_MS) {
        last.bytes = (last.bytes ?? 0) + msg.mulaw.length;
        last.frames = (last.frames ?? 0) + 1;
      } else {
        received.push({ atMs, event: 'media', bytes: msg.mulaw.length, frames: 1 });
      }
      lastMediaAt = atMs;
    } else if (msg.event === 'mark') {
      marksReceived++;
      received.push({ atMs, event: 'mark', name: msg.name });
      if (buffer.mark(msg.name)) {
        // Nothing buffered: reached now, or when the slot still playing ends.
        if (slotPlaying) reachedMarks.push(msg.name);
        else echo([msg.name]);
      }
    } else {
      received.push({ atMs, event: 'clear' });
      clears.push(atMs);
      const dropped = buffer.clear();
      echo(reachedMarks);
      reachedMarks = [];
      echo(dropped);
      log(`clear at ${atMs.toFixed(0)} ms: ${dropped.length} outstanding marks echoed`);
    }
  };

  let closedBy: CallResult['closedBy'] = 'caller';
  let closeCode: number | undefined;
  let closeReason: string | undefined;
  let endCall: () => void = () => {};
  const closed = new Promise<void>((resolve) => (endCall = resolve));

  /**
   * The stream closed without `stop` and its `<Connect>` has an action: request it as Twilio
   * does and run the TwiML it answers (a new stream on the same call, holds, or a hang-up).
   */
  const followAction = async (action: { url: string; method: 'GET' | 'POST' }) => {
    try {
      const next = await runTwiml(action.url, action.method);
      if (stopped) return;
      if ('hangup' in next) {
        log(`action ${action.url} hung up${next.hangup.say ? `: "${next.hangup.say}"` : ''}`);
        closedBy = 'server';
        stopped = true;
        clock.stop();
        endCall();
        return;
      }
      const nextWs = await openStream(next.connect.url, transportUrl(next.connect.url, publicBase, base), o.authToken, o.signal);
      if (stopped) {
        nextWs.close(1000);
        return;
      }
      stream = next.connect;
      streamSid = `MZ${hex(16)}`;
      msgs = new TwilioStreamMessages({ accountSid, callSid, streamSid });
      attach(nextWs);
      ws.send(msgs.connected());
      ws.send(msgs.start(stream.parameters));
      streamT0 = streamTime();
      streams++;
      reconnecting = false;
      const last = reconnects[reconnects.length - 1];
      if (last) last.resumedAtMs = streamT0;
      log(`stream ${streamSid} started at ${streamT0.toFixed(0)} ms (the call goes on)`);
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err));
      log(`following <Connect action> failed: ${failure.message}`);
      closedBy = 'server';
      stopped = true;
      clock.stop();
      endCall();
    }
  };

  const attach = (socket: WebSocket) => {
    ws = socket;
    socket.on('close', (code, reason) => {
      if (socket !== ws) return;
      clearTimeout(closeTimer);
      closeCode = code;
      closeReason = reason.toString();
      if (!stopped && stream.action) {
        // No stop either way: Twilio's <Connect> ends and Twilio requests its action URL.
        log(`stream closed without stop at ${streamTime().toFixed(0)} ms (${code} ${closeReason}): following <Connect action>`);
        reconnecting = true;
        buffer.clear(); // Twilio's buffered audio goes with the stream; its marks are never echoed
        reachedMarks = [];
        slotPlaying = false;
        reconnects.push({ lostAtMs: streamTime(), resumedAtMs: NaN, closeCode: code });
        void followAction(stream.action);
        return;
      }
      if (!stopped) {
        closedBy = 'server';
        stopped = true;
        clock.stop();
        log(`server closed the stream at ${streamTime().toFixed(0)} ms: ${code} ${closeReason}`);
      }
      endCall();
    });
    socket.on('message', onMessage);
    socket.on('error', (err) => log(`media stream error: ${err.message}`));
  };
  attach(ws);
  const onAbort = () => hangUp('aborted');
  o.signal?.addEventListener('abort', onAbort, { once: true });

  ws.send(msgs.connected());
  ws.send(msgs.start(stream.parameters));
  startedAt = performance.now();
  log(`stream ${streamSid} started (call ${callSid}, session ${sessionId || '?'})`);
  clock.start(startedAt);
  if (o.signal?.aborted) hangUp('aborted');

  await closed; // the close handshake finished or the connection dropped
  o.signal?.removeEventListener('abort', onAbort);

  // --- 3. status callback --------------------------------------------------------------------
  const statusCallback = await postStatus();
  if (o.signal?.aborted) throw o.signal.reason;
  if (failure) throw failure;

  const heardPcm = concat(heard);
  const sent = input.subarray(0, Math.min(input.length, sentFrames * TICK_SAMPLES));
  const turns = pairTurns(energySegments(sent, SAMPLE_RATE), energySegments(heardPcm, SAMPLE_RATE));
  return {
    callSid, streamSid: firstStreamSid, sessionId, webhookMs, holds, connected: true, startedAt,
    heard: heardPcm, received, clears, marksEchoed, marksReceived, sentFrames,
    sendLatenessMs: clock.lateness(), closedBy, closeCode, closeReason, turns, protocolErrors, statusCallback,
    streams, reconnects,
  };
}

function concat(parts: readonly Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/**
 * Opens the Media Stream WebSocket as Twilio does: to the URL in the TwiML (reached at
 * `requestUrl`), with `X-Twilio-Signature` over that exact URL and no params. Rejects with the
 * HTTP status and body start when the upgrade is refused, and after UPGRADE_TIMEOUT_MS.
 */
function openStream(streamUrl: string, requestUrl: string, authToken: string, signal?: AbortSignal): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(requestUrl, {
      headers: { 'X-Twilio-Signature': twilioSignature(authToken, streamUrl, {}) },
      handshakeTimeout: UPGRADE_TIMEOUT_MS,
      perMessageDeflate: false,
    });
    const fail = (err: Error) => {
      signal?.removeEventListener('abort', onAbort);
      ws.removeAllListeners();
      ws.on('error', () => {}); // late errors of the discarded socket
      ws.terminate();
      reject(err);
    };
    const onAbort = () => fail(signal!.reason instanceof Error ? signal!.reason : new Error('aborted'));
    signal?.addEventListener('abort', onAbort, { once: true });
    ws.once('open', () => {
      signal?.removeEventListener('abort', onAbort);
      ws.removeAllListeners('unexpected-response');
      ws.removeAllListeners('error');
      resolve(ws);
    });
    ws.once('error', (err) => fail(new Error(`media stream ${requestUrl}: ${err.message}`)));
    ws.once('unexpected-response', (req, res: IncomingMessage) => {
      let body = '';
      let finished = false;
      const done = () => {
        if (finished) return;
        finished = true;
        const refused = res.statusCode === 403 ? ': the edge refused the X-Twilio-Signature of the upgrade' : '';
        req.destroy();
        fail(new Error(`media stream upgrade ${requestUrl} answered ${res.statusCode}${refused}: ${bodyStart(body)}`));
      };
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        if (body.length < 1000) body += c;
      });
      res.once('end', done);
      res.once('error', done);
      setTimeout(done, 2000).unref(); // a body that never ends does not hold the call
    });
  });
}
