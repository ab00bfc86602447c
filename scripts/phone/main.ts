import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { audioFrame, readWav, toMono, writeWav } from '@switchboard/media-worker';
import { LOCAL_DEFAULTS } from '../stack/config.ts';
import { localProviderApiUrl } from '../stack/local-provider-apis.ts';
import { API_BASE_ENV, waitForPlacedCall } from './answer.ts';
import { simulateCall, type CallResult } from './caller.ts';

/**
 * `npm run phone -- <speech.wav> [options]`: one simulated phone call (Twilio, Telnyx or Plivo) against the edge,
 * in real time. The caller says the WAV, hears the server, and the heard audio is written out.
 * Exit codes: 0 call done, 1 the call failed, 2 bad command line or input file.
 */
const USAGE = `usage: npm run phone -- <speech.wav> [options]
  --provider P        twilio (default), telnyx or plivo
  --url URL           edge to call (default http://127.0.0.1:8787)
  --public-url URL    the edge's PUBLIC_BASE_URL, which signatures cover (default env PUBLIC_BASE_URL, else --url)
  --auth-token T      Twilio auth token (default env TWILIO_AUTH_TOKEN, else the local default);
                      Plivo auth token with --provider plivo (default env PLIVO_AUTH_TOKEN, else the local default)
  --out FILE          where to write what the caller heard (default phone-reply.wav)
  --dtmf LIST         digits at stream times, e.g. 1@2000,#@3500
  --lead MS           silence before the speech (default 0)
  --tail MS           stay on the line this long after the speech (default 3000)
  --hangup MS         hang up at this stream time instead
  --direction D       inbound (default) or outbound-api (answer a call placed by POST /v1/calls)
  --call-sid SID      the CallSid / CallUUID to use (default random; for outbound-api, the provider's)
  --request-uuid U    Plivo outbound-api: the request_uuid the Call API answered
  --from N, --to N    caller and called numbers
  --voice-url URL     where the first instruction request goes, query kept and signed as written
                      (the REST request's Url / answer_url; default <public-url>/<provider>/voice)
  --status-callback-url URL  where the end-of-call request goes (default <public-url>/<provider>/status)
  --api-url URL       the local fake provider API (scripts/stack/*-api-fake.ts); while the call runs its
                      GET /__requests is polled and the edge's hang-ups and redirects of this call are played
  --answer            wait for the next call placed through --api-url (default env TWILIO_API_BASE,
                      TELNYX_API_BASE or PLIVO_API_BASE, else the fake npm start runs: 127.0.0.1:8791,
                      8792, 8793) and answer it as the callee (its Url / answer_url and status callback)
  --dial-outcome O    how a <Dial> ends: completed (default), busy, no-answer or failed
  --dial-talk MS      a completed <Dial>'s talk time before the human hangs up (default 500)
  --quiet             print only the summary`;

class UsageError extends Error {}

function die(code: number, message: string): never {
  process.stderr.write(`phone: ${message}\n`);
  process.exit(code);
}

function number(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`--${name} must be a non-negative number of ms, got ${JSON.stringify(v)}`);
  return n;
}

/** `1@2000,#@3500` -> [{digit '1', atMs 2000}, {digit '#', atMs 3500}]. */
function parseDtmf(list: string | undefined): Array<{ digit: string; atMs: number }> | undefined {
  if (list === undefined) return undefined;
  return list.split(',').map((item) => {
    const m = /^([0-9*#A-D])@(\d+(?:\.\d+)?)$/.exec(item.trim());
    if (!m) throw new UsageError(`--dtmf item ${JSON.stringify(item)} is not DIGIT@MS (digits 0-9 * # A-D)`);
    return { digit: m[1]!, atMs: Number(m[2]) };
  });
}

function parseCommandLine() {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        provider: { type: 'string' },
        'request-uuid': { type: 'string' },
        url: { type: 'string' },
        'public-url': { type: 'string' },
        'auth-token': { type: 'string' },
        out: { type: 'string' },
        dtmf: { type: 'string' },
        lead: { type: 'string' },
        tail: { type: 'string' },
        hangup: { type: 'string' },
        direction: { type: 'string' },
        'call-sid': { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        'voice-url': { type: 'string' },
        'status-callback-url': { type: 'string' },
        'api-url': { type: 'string' },
        answer: { type: 'boolean' },
        'dial-outcome': { type: 'string' },
        'dial-talk': { type: 'string' },
        quiet: { type: 'boolean', short: 'q' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values: v, positionals } = parsed;
  if (v.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'no speech WAV given' : `one speech WAV expected, got ${positionals.length} arguments`);
  const direction = v.direction ?? 'inbound';
  if (direction !== 'inbound' && direction !== 'outbound-api') throw new UsageError(`--direction must be inbound or outbound-api, got ${JSON.stringify(direction)}`);
  const provider = v.provider ?? 'twilio';
  if (provider !== 'twilio' && provider !== 'telnyx' && provider !== 'plivo') throw new UsageError(`--provider must be twilio, telnyx or plivo, got ${JSON.stringify(provider)}`);
  const url = v.url ?? 'http://127.0.0.1:8787';
  const dialOutcome = v['dial-outcome'] ?? 'completed';
  if (!['completed', 'busy', 'no-answer', 'failed'].includes(dialOutcome)) throw new UsageError(`--dial-outcome must be completed, busy, no-answer or failed, got ${JSON.stringify(dialOutcome)}`);
  const answer = v.answer ?? false;
  const apiUrl = v['api-url'] ?? (answer ? process.env[API_BASE_ENV[provider as 'twilio']] || localProviderApiUrl(provider as 'twilio') : undefined);
  if (answer && v.direction !== undefined && v.direction !== 'outbound-api') throw new UsageError('--answer answers a placed call: its direction is outbound-api');
  const urls = [['url', url], ['public-url', v['public-url']], ['voice-url', v['voice-url']], ['status-callback-url', v['status-callback-url']], ['api-url', apiUrl]] as const;
  for (const [name, u] of urls) {
    if (u !== undefined && !/^https?:\/\/[^/]/.test(u)) throw new UsageError(`--${name} must be an http:// or https:// URL, got ${JSON.stringify(u)}`);
  }
  return {
    wav: positionals[0]!,
    url,
    publicUrl: v['public-url'] ?? (process.env.PUBLIC_BASE_URL || url),
    provider: provider as 'twilio' | 'telnyx' | 'plivo',
    requestUuid: v['request-uuid'],
    authToken:
      provider === 'plivo'
        ? v['auth-token'] ?? (process.env.PLIVO_AUTH_TOKEN || LOCAL_DEFAULTS.PLIVO_AUTH_TOKEN || '')
        : v['auth-token'] ?? (process.env.TWILIO_AUTH_TOKEN || LOCAL_DEFAULTS.TWILIO_AUTH_TOKEN || ''),
    out: v.out ?? 'phone-reply.wav',
    dtmf: parseDtmf(v.dtmf),
    leadSilenceMs: number('lead', v.lead),
    tailMs: number('tail', v.tail),
    hangupAtMs: number('hangup', v.hangup),
    direction: direction as 'inbound' | 'outbound-api',
    callSid: v['call-sid'],
    from: v.from,
    to: v.to,
    voiceUrl: v['voice-url'],
    statusCallbackUrl: v['status-callback-url'],
    apiUrl,
    answer,
    dialOutcome: dialOutcome as 'completed' | 'busy' | 'no-answer' | 'failed',
    dialTalkMs: number('dial-talk', v['dial-talk']),
    quiet: v.quiet ?? false,
  };
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function summary(r: CallResult, outPath: string): string[] {
  const lines: string[] = [];
  const hooks = r.webhookMs.map((ms) => `${ms.toFixed(0)} ms`).join(', ');
  lines.push(`webhook -> TwiML: ${hooks}${r.holds > 0 ? ` (${r.holds} hold${r.holds > 1 ? 's' : ''} followed)` : ''}`);
  if (!r.connected) {
    lines.push(`call not connected: the edge said "${r.goodbye ?? ''}" and hung up`);
  } else {
    lines.push(`stream started: ${r.streamSid} (call ${r.callSid}, session ${r.sessionId || 'none given'})`);
    if (r.turns.length === 0) lines.push('turns: no caller speech detected in the input');
    r.turns.forEach((t, i) => {
      lines.push(
        t.firstReplyMs === null
          ? `turn ${i + 1}: caller stopped at ${s(t.speechEndMs)}, no reply heard before the next turn or hang-up`
          : `turn ${i + 1}: caller stopped at ${s(t.speechEndMs)}, reply heard at ${s(t.firstReplyMs)}, latency ${Math.round(t.latencyMs!)} ms`,
      );
    });
    const mediaBytes = r.received.reduce((n, f) => n + (f.event === 'media' ? (f.bytes ?? 0) : 0), 0);
    lines.push(`received: ${s((mediaBytes / r.heardSampleRate) * 1000)} of audio`);
    lines.push(`clears received: ${r.clears.length}${r.clears.length > 0 ? ` (at ${r.clears.map(s).join(', ')})` : ''}`);
    lines.push(`marks: ${r.marksEchoed} echoed of ${r.marksReceived} received`);
    lines.push(`sent ${r.sentFrames} media frames; pacing lateness p50 ${r.sendLatenessMs.p50} ms, p99 ${r.sendLatenessMs.p99} ms, max ${r.sendLatenessMs.max} ms`);
    lines.push(`closed by ${r.closedBy}${r.hungUpBy === 'api' ? ' (hung up through the REST API)' : ''}: ${r.closeCode ?? '-'}${r.closeReason ? ` ${r.closeReason}` : ''}`);
    for (const d of r.redirects) lines.push(`redirected through the REST API at ${Math.round(d.atMs)} ms to ${d.url}; next stream at ${Number.isNaN(d.resumedAtMs) ? 'none' : `${Math.round(d.resumedAtMs)} ms`}`);
    for (const g of r.reconnects) lines.push(`stream lost at ${Math.round(g.lostAtMs)} ms (${g.closeCode}); next stream at ${Number.isNaN(g.resumedAtMs) ? 'none' : `${Math.round(g.resumedAtMs)} ms`}`);
    if (r.protocolErrors.length > 0) lines.push(`protocol errors (${r.protocolErrors.length}): ${r.protocolErrors.slice(0, 3).join('; ')}`);
    lines.push(`heard audio (${s((r.heard.length / r.heardSampleRate) * 1000)} at ${r.heardSampleRate} Hz) written to ${outPath}`);
  }
  for (const d of r.dials) lines.push(`dialed ${d.to}${d.callerId ? ` from ${d.callerId}` : ''} at ${s(d.atMs)} of the call: ${d.outcome}`);
  const sc = r.statusCallback;
  lines.push(`${r.provider === 'plivo' ? 'hangup URL' : 'status callback'}: ${sc.status ?? 'failed'}${sc.error ? ` (${sc.error})` : ''}`);
  return lines;
}

async function main(): Promise<void> {
  let args: ReturnType<typeof parseCommandLine>;
  try {
    args = parseCommandLine();
  } catch (err) {
    if (err instanceof UsageError) die(2, `${err.message} (--help for usage)`);
    throw err;
  }
  // `npm run` starts us in the repository root; relative paths are the user's (INIT_CWD).
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const wavPath = resolve(cwd, args.wav);
  const outPath = resolve(cwd, args.out);

  let bytes: Buffer;
  try {
    bytes = readFileSync(wavPath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    die(2, code === 'ENOENT' ? `${args.wav}: no such file` : code === 'EISDIR' ? `${args.wav}: is a directory` : `${args.wav}: ${(err as Error).message}`);
  }
  let audio;
  try {
    audio = toMono(readWav(bytes));
  } catch (err) {
    die(2, `${args.wav} is not a usable WAV file: ${(err as Error).message.replace(/^readWav: /, '')}`);
  }
  if (audio.samples.length === 0) die(2, `${args.wav} has no audio samples`);

  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort(new Error('interrupted (Ctrl-C): hung up')));
  const log = args.quiet ? undefined : (line: string) => process.stdout.write(`  . ${line}\n`);
  if (!args.quiet) process.stdout.write(`calling ${args.url} as ${args.provider}${args.publicUrl !== args.url ? ` (signed for ${args.publicUrl})` : ''} with ${args.wav}\n`);

  let placed: Awaited<ReturnType<typeof waitForPlacedCall>> | undefined;
  if (args.answer) {
    if (!args.quiet) process.stdout.write(`waiting for a call placed through ${args.apiUrl} (${args.provider})...\n`);
    try {
      placed = await waitForPlacedCall({ apiUrl: args.apiUrl!, provider: args.provider, signal: abort.signal, log });
    } catch (err) {
      die(1, (err as Error).message);
    }
    if (!args.quiet) process.stdout.write(`call placed to ${placed.to ?? '?'} from ${placed.from ?? '?'}: answering at ${placed.url}\n`);
    const idGiven = args.provider === 'plivo' ? args.requestUuid : args.callSid;
    if (!placed.id && !idGiven) {
      process.stderr.write(`phone: the fake API does not log the ${args.provider === 'plivo' ? 'request_uuid' : 'call sid'} it answered, so this call gets a random one the edge does not know; pass ${args.provider === 'plivo' ? '--request-uuid' : '--call-sid'} with the id the edge's POST /v1/calls answered\n`);
    }
  }
  const placedId = placed?.id;
  let result: CallResult;
  try {
    result = await simulateCall({
      baseUrl: args.url,
      publicBaseUrl: args.publicUrl,
      provider: args.provider,
      authToken: args.provider === 'twilio' ? args.authToken : undefined,
      plivoAuthToken: args.provider === 'plivo' ? args.authToken : undefined,
      plivoRequestUuid: args.requestUuid ?? (args.provider === 'plivo' ? placedId : undefined),
      // Plivo gives a single-destination call's CallUUID the request_uuid's value.
      callSid: args.callSid ?? placedId,
      from: args.from ?? placed?.from,
      to: args.to ?? placed?.to,
      direction: placed ? 'outbound-api' : args.direction,
      voiceUrl: args.voiceUrl ?? placed?.url,
      statusCallbackUrl: args.statusCallbackUrl ?? placed?.statusCallbackUrl,
      providerApiUrl: args.apiUrl,
      providerApiCursor: placed?.cursor,
      dialOutcome: args.dialOutcome,
      dialTalkMs: args.dialTalkMs,
      audio: { samples: audio.samples, sampleRate: audio.sampleRate },
      leadSilenceMs: args.leadSilenceMs,
      tailMs: args.tailMs,
      hangupAtMs: args.hangupAtMs,
      dtmf: args.dtmf,
      onLog: log,
      signal: abort.signal,
    });
  } catch (err) {
    die(err instanceof TypeError ? 2 : 1, (err as Error).message);
  }
  if (result.connected) writeFileSync(outPath, writeWav(audioFrame(result.heard, result.heardSampleRate, 1)));
  process.stdout.write(`${summary(result, outPath).join('\n')}\n`);
}

await main();
