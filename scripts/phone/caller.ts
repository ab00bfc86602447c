import { audioFrame, resampleOnce } from '@switchboard/media-worker';
import { LOCAL_DEFAULTS } from '../stack/config.ts';
import type { CallResult, SimulateCallOptions } from './call-types.ts';
import { watchCallControl, type CallControl } from './call-control.ts';
import { DEFAULT_DIAL_TALK_MS, dialPlayer } from './dial-play.ts';
import { energySegments, pairTurns } from './energy-turns.ts';
import { markupLoop, webhookFailure } from './markup-loop.ts';
import { openStream } from './open-stream.ts';
import { plivoAdapter } from './providers/plivo.ts';
import { telnyxAdapter } from './providers/telnyx.ts';
import { twilioAdapter } from './providers/twilio.ts';
import type { CallContext, ProviderAdapter } from './providers/types.ts';
import { transportUrl } from './public-url.ts';
import { DTMF_DIGIT } from './stream-messages.ts';
import { runStream } from './stream-session.ts';

export type { CallResult, ReceivedFrame, SimulateCallOptions } from './call-types.ts';

const DEFAULT_TAIL_MS = 3000;
const DEFAULT_MAX_HOLD_MS = 30_000;

function checkOptions(o: SimulateCallOptions): void {
  if (!/^https?:\/\//.test(o.baseUrl)) throw new TypeError(`baseUrl must be an http(s):// URL, got ${JSON.stringify(o.baseUrl)}`);
  if (o.publicBaseUrl !== undefined && !/^https?:\/\//.test(o.publicBaseUrl)) throw new TypeError(`publicBaseUrl must be an http(s):// URL, got ${JSON.stringify(o.publicBaseUrl)}`);
  const provider = o.provider ?? 'twilio';
  if (!['twilio', 'telnyx', 'plivo'].includes(provider)) throw new TypeError(`provider must be twilio, telnyx or plivo, got ${JSON.stringify(o.provider)}`);
  if (provider === 'twilio' && o.callSid !== undefined && !/^CA[0-9a-fA-F]{32}$/.test(o.callSid)) throw new TypeError(`callSid must be CA + 32 hex digits, got ${JSON.stringify(o.callSid)}`);
  if (!(o.audio.samples instanceof Int16Array)) throw new TypeError('audio.samples must be an Int16Array');
  if (!Number.isInteger(o.audio.sampleRate) || o.audio.sampleRate <= 0) throw new TypeError(`audio.sampleRate must be a positive integer, got ${o.audio.sampleRate}`);
  for (const [name, u] of [['voiceUrl', o.voiceUrl], ['statusCallbackUrl', o.statusCallbackUrl], ['providerApiUrl', o.providerApiUrl]] as const) {
    if (u !== undefined && !/^https?:\/\/[^/]/.test(u)) throw new TypeError(`${name} must be an http(s):// URL, got ${JSON.stringify(u)}`);
  }
  if (o.dialOutcome !== undefined && !['completed', 'busy', 'no-answer', 'failed'].includes(o.dialOutcome)) throw new TypeError(`dialOutcome must be completed, busy, no-answer or failed, got ${JSON.stringify(o.dialOutcome)}`);
  for (const [name, v] of [['leadSilenceMs', o.leadSilenceMs], ['tailMs', o.tailMs], ['hangupAtMs', o.hangupAtMs], ['maxHoldMs', o.maxHoldMs], ['dialTalkMs', o.dialTalkMs]] as const) {
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new TypeError(`${name} must be a non-negative number, got ${v}`);
  }
  for (const d of o.dtmf ?? []) {
    if (!DTMF_DIGIT.test(d.digit)) throw new TypeError(`DTMF digit must be one of 0-9 * # A-D, got ${JSON.stringify(d.digit)}`);
    if (!(Number.isFinite(d.atMs) && d.atMs >= 0)) throw new TypeError(`DTMF time must be a non-negative number of ms, got ${d.atMs}`);
  }
}

function adapterFor(o: SimulateCallOptions, ctx: CallContext): ProviderAdapter {
  switch (o.provider ?? 'twilio') {
    case 'telnyx':
      return telnyxAdapter(ctx, { signingKey: o.telnyxSigningKey, accountSid: o.accountSid });
    case 'plivo':
      return plivoAdapter(ctx, { authId: o.plivoAuthId, authToken: o.plivoAuthToken, requestUuid: o.plivoRequestUuid });
    default:
      return twilioAdapter(ctx, { authToken: o.authToken ?? LOCAL_DEFAULTS.TWILIO_AUTH_TOKEN ?? '', accountSid: o.accountSid });
  }
}

/** The caller's side of the stream timeline at `rate`: lead silence, then the audio. */
async function callerTimeline(o: SimulateCallOptions, rate: number): Promise<Int16Array> {
  const resampled = await resampleOnce(audioFrame(o.audio.samples, o.audio.sampleRate, 1), rate);
  const lead = Math.round(((o.leadSilenceMs ?? 0) * rate) / 1000);
  const out = new Int16Array(lead + resampled.samples.length);
  out.set(resampled.samples, lead);
  return out;
}

export async function simulateCall(o: SimulateCallOptions): Promise<CallResult> {
  checkOptions(o);
  const log = o.onLog ?? (() => {});
  const publicBase = (o.publicBaseUrl ?? o.baseUrl).replace(/\/+$/, '');
  const base = o.baseUrl.replace(/\/+$/, '');
  const ctx: CallContext = {
    publicBase, base, from: o.from ?? '+15550100001', to: o.to ?? '+15550100002', outbound: o.direction === 'outbound-api', callSid: o.callSid,
    voiceUrl: o.voiceUrl, statusCallbackUrl: o.statusCallbackUrl,
  };
  const adapter = adapterFor(o, ctx);
  const provider = adapter.provider;
  const callSid = adapter.callSid;
  const maxHoldMs = o.maxHoldMs ?? DEFAULT_MAX_HOLD_MS;
  const callStartedAt = performance.now();
  const dials: CallResult['dials'] = [];
  const dialer = dialPlayer({ adapter, outcome: o.dialOutcome ?? 'completed', talkMs: o.dialTalkMs ?? DEFAULT_DIAL_TALK_MS, dials, callStartedAt, log });
  const loop = markupLoop(adapter, log, o.signal, dialer);
  let control: CallControl | undefined;
  if (o.providerApiUrl) {
    const ids = { callSid, ...(o.plivoRequestUuid ? { requestUuid: o.plivoRequestUuid } : {}) };
    control = await watchCallControl({ apiUrl: o.providerApiUrl, provider, ids, from: ctx.from, to: ctx.to, cursor: o.providerApiCursor, log });
  }
  try {
    return await call();
  } finally {
    control?.stop();
  }

  async function call(): Promise<CallResult> {
    /** The end-of-call request, on every ending after any answer. */
    const postEnd = async (): Promise<CallResult['statusCallback']> => {
      try {
        const a = await adapter.end(Math.round((performance.now() - callStartedAt) / 1000));
        const failure = webhookFailure(`POST ${a.url}`, a, adapter.signatureHeader);
        log(`end of call (${provider}) -> ${a.status} in ${a.ms.toFixed(0)} ms`);
        return failure ? { status: a.status, ms: a.ms, error: failure.message } : { status: a.status, ms: a.ms };
      } catch (err) {
        log(`end-of-call request failed: ${(err as Error).message}`);
        return { status: null, ms: 0, error: (err as Error).message };
      }
    };

    let first;
    try {
      first = await loop.run(adapter.firstUrl, 'POST', maxHoldMs);
    } catch (err) {
      if (loop.answered) await postEnd(); // the edge holds a session for the call: end it as the provider would
      throw err;
    }
    const { webhookMs } = loop;
    if ('hangup' in first) {
      const statusCallback = await postEnd();
      return {
        provider, callSid, streamSid: '', sessionId: '', webhookMs, holds: loop.holds, connected: false, goodbye: first.hangup.say,
        startedAt: performance.now(), heard: new Int16Array(0), heardSampleRate: 8000, received: [], clears: [], marksEchoed: 0, marksReceived: 0,
        sentFrames: 0, sendLatenessMs: { p50: 0, p99: 0, max: 0 }, closedBy: 'server', turns: [], protocolErrors: [], statusCallback,
        streams: 0, reconnects: [], redirects: [], dials,
      };
    }

    const target = first.connect;
    const open = (t: typeof target) => openStream(transportUrl(t.url, publicBase, base), adapter.upgradeHeaders(t.url), provider === 'twilio' ? adapter.signatureHeader : null, o.signal);
    let ws;
    let input;
    try {
      input = await callerTimeline(o, target.inbound.rate);
      ws = await open(target);
    } catch (err) {
      await postEnd();
      throw err;
    }
    log(`media stream open: ${target.url}`);
    const inRate = target.inbound.rate;
    const audioEndMs = (input.length / inRate) * 1000;
    const hangupAtMs = o.hangupAtMs ?? audioEndMs + (o.tailMs ?? DEFAULT_TAIL_MS);

    const session = await runStream({
      adapter, target, ws, input, hangupAtMs, dtmf: o.dtmf ?? [], dropStreamAtMs: o.dropStreamAtMs ?? [], log, signal: o.signal,
      follow: (action, signal) => loop.run(action.url, action.method, maxHoldMs, signal),
      open,
      control,
    });
    const statusCallback = await postEnd();
    if (o.signal?.aborted) throw o.signal.reason;
    if (session.failure) throw session.failure;

    const { failure: _failure, ...rest } = session;
    const sent = input.subarray(0, Math.min(input.length, session.sentFrames * (inRate / 50)));
    const turns = pairTurns(energySegments(sent, inRate), energySegments(session.heard, session.heardSampleRate));
    return {
      ...rest, provider, callSid, sessionId: target.parameters.sessionId ?? '', webhookMs, holds: loop.holds, connected: true,
      turns, statusCallback, dials,
    };
  }
}
