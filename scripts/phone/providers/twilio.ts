import { randomBytes } from 'node:crypto';
import { LOCAL_DEFAULTS } from '../../stack/config.ts';
import { decodeMulaw } from '../mulaw.ts';
import { MULAW_8K } from '../pcm.ts';
import { transportUrl } from '../public-url.ts';
import { sendWebhook, twilioSignature, type FormParams } from '../signed-webhook.ts';
import { TwilioStreamMessages, parseServerMessage } from '../stream-messages.ts';
import { parseTwiml, type TwimlAction } from '../twiml.ts';
import type { CallContext, MarkupAction, ProviderAdapter, StreamProtocol, StreamTarget } from './types.ts';

/**
 * Twilio, from its documentation: voice webhook and status callback form-encoded and signed with
 * X-Twilio-Signature; TwiML; bidirectional Media Streams (mu-law 8 kHz, JSON text frames), whose
 * upgrade is signed over the exact stream URL with no params.
 */
export interface TwilioCredentials {
  authToken: string;
  accountSid?: string;
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

export function twilioAdapter(ctx: CallContext, creds: TwilioCredentials): ProviderAdapter {
  const accountSid = creds.accountSid ?? LOCAL_DEFAULTS.TWILIO_ACCOUNT_SID ?? 'AC00000000000000000000000000000000';
  const callSid = ctx.callSid ?? `CA${hex(16)}`;
  const params = (callStatus: string): FormParams => ({
    AccountSid: accountSid,
    ApiVersion: '2010-04-01',
    CallSid: callSid,
    CallStatus: callStatus,
    Called: ctx.to,
    Caller: ctx.from,
    Direction: ctx.outbound ? 'outbound-api' : 'inbound',
    From: ctx.from,
    To: ctx.to,
  });
  const send = (method: 'GET' | 'POST', url: string, p: FormParams, signal?: AbortSignal) =>
    sendWebhook({ method, signedUrl: url, requestUrl: transportUrl(url, ctx.publicBase, ctx.base), params: p, authToken: creds.authToken, signal });

  return {
    provider: 'twilio',
    callSid,
    firstUrl: ctx.voiceUrl ?? `${ctx.publicBase}/twilio/voice`,
    signatureHeader: 'X-Twilio-Signature',
    // Twilio's first request for an inbound call is made while it rings; later ones (redirects,
    // or an outbound call the callee answered) while the call is in progress.
    webhook: (r) => send(r.method, r.url, { ...params(!ctx.outbound && r.first ? 'ringing' : 'in-progress'), ...r.extra }, r.signal),
    markup: (body, documentUrl) => withCodecs(parseTwiml(body, documentUrl)),
    // Twilio's <Dial action> request: DialCallStatus, DialCallSid, DialCallDuration (answered legs), DialBridged.
    dialParams: (outcome, talkS) => ({
      DialBridged: String(outcome === 'completed'),
      DialCallSid: `CA${hex(16)}`,
      DialCallStatus: outcome,
      ...(outcome === 'completed' ? { DialCallDuration: String(talkS) } : {}),
    }),
    upgradeHeaders: (streamUrl) => ({ 'X-Twilio-Signature': twilioSignature(creds.authToken, streamUrl, {}) }),
    stream: (target) => twilioStream(accountSid, callSid, target),
    async end(durationS) {
      const url = ctx.statusCallbackUrl ?? `${ctx.publicBase}/twilio/status`;
      const p: FormParams = {
        ...params('completed'),
        CallDuration: String(durationS),
        CallbackSource: 'call-progress-events',
        Timestamp: new Date().toUTCString().replace('GMT', '+0000'),
      };
      return { ...(await send('POST', url, p)), url };
    },
  };
}

/** TwiML streams are mu-law 8 kHz both ways (a dial's remaining verbs included). */
function withCodecs(a: TwimlAction): MarkupAction {
  if ('connect' in a) return { connect: { ...a.connect, inbound: MULAW_8K, outbound: MULAW_8K } };
  if ('dial' in a) return { dial: { ...a.dial, then: withCodecs(a.dial.then) } };
  return a;
}

function twilioStream(accountSid: string, callSid: string, target: StreamTarget): StreamProtocol {
  const streamSid = `MZ${hex(16)}`;
  const msgs = new TwilioStreamMessages({ accountSid, callSid, streamSid });
  return {
    streamId: streamSid,
    opening: () => [msgs.connected(), msgs.start(target.parameters)],
    media: (payload, ts) => msgs.media(payload, ts),
    dtmf: (digit) => msgs.dtmf(digit),
    markReached: (name) => msgs.mark(name),
    clearAnswersMarks: true,
    cleared: () => null,
    stop: () => msgs.stop(),
    parse(data, isBinary) {
      if (isBinary) throw new Error('binary frame (Twilio takes JSON text frames only)');
      const m = parseServerMessage(data, streamSid);
      return m.event === 'media' ? { event: 'media', pcm: decodeMulaw(m.mulaw) } : m;
    },
  };
}
