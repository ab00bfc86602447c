import { Hono, type Context } from 'hono';
import { SessionId, TwilioVoiceParams, type PhoneCall } from '@switchboard/protocol';
import { loadConfig, requireSetting, type Config } from '../../config.ts';
import type { Env } from '../../env.ts';
import { HttpError, badRequest, forbidden, unsupportedMediaType } from '../../errors.ts';
import { mediaType, readText } from '../../http/body.ts';
import { sessionStub } from '../../session/stub.ts';
import { parseForm } from '../form.ts';
import type { CallStatus } from '../provider.ts';
import { ERROR_MESSAGE, answerVoice, mediaStreamUrl, reportStatus } from '../voice-flow.ts';
import { twiml } from './twiml.ts';
import { signingKeys, verifyTwilioRequest } from './verify-request.ts';

type C = Context<{ Bindings: Env }>;

/**
 * Reads a signed Twilio webhook, size and type checked, signature over PUBLIC_BASE_URL + path +
 * query: a form (its params signed), or a JSON object whose raw body is bound to the signed URL by
 * its `bodySHA256` query parameter. Either may be signed with the auth token (HMAC-SHA1) or a
 * webhook rule's shared key (see verify-request.ts).
 */
async function signedForm(c: C, config: Config): Promise<Record<string, string | string[]>> {
  const type = mediaType(c);
  if (type !== 'application/x-www-form-urlencoded' && type !== 'application/json') throw unsupportedMediaType('application/x-www-form-urlencoded');
  const text = await readText(c);
  const url = new URL(c.req.url);
  const signedUrl = `${config.PUBLIC_BASE_URL}${url.pathname}${url.search}`;
  const keys = signingKeys(requireSetting(config.TWILIO_AUTH_TOKEN, 'TWILIO_AUTH_TOKEN'), config.TWILIO_SHARED_KEY_SECRETS);
  if (type === 'application/json') {
    const verdict = await verifyTwilioRequest(keys, c.req.raw.headers, signedUrl, { body: text });
    if (!verdict.ok) throw forbidden(verdict.why);
    return jsonParams(text);
  }
  const params = parseForm(text);
  const verdict = await verifyTwilioRequest(keys, c.req.raw.headers, signedUrl, { params });
  if (!verdict.ok) throw forbidden(verdict.why);
  return params;
}

/** A signed JSON body's top-level strings and numbers, as form params would carry them. */
function jsonParams(text: string): Record<string, string> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw badRequest('body is not valid JSON', 'bad_json');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw badRequest('body must be a JSON object', 'bad_json');
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, v] of Object.entries(raw)) if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
  return out;
}

/** `/twilio/*` answers errors as Twilio expects: 403 text for a bad signature, TwiML otherwise. */
function twilioError(c: C, err: unknown): Response {
  const status = err instanceof HttpError ? err.status : 500;
  if (status === 403) return c.text('Forbidden: invalid Twilio signature', 403);
  if (!(err instanceof HttpError)) console.error('twilio webhook failed', err);
  return c.body(twiml.goodbye(ERROR_MESSAGE), status, { 'Content-Type': twiml.contentType });
}

function voiceParams(params: Record<string, string | string[]>) {
  const flat = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, Array.isArray(v) ? (v[0] ?? '') : v]));
  const r = TwilioVoiceParams.safeParse(flat);
  if (!r.success) throw badRequest(`webhook parameters: ${r.error.issues[0]?.path.join('.')} ${r.error.issues[0]?.message}`);
  return r.data;
}

const STATUSES: Record<string, CallStatus> = { completed: 'completed', busy: 'busy', failed: 'failed', 'no-answer': 'no-answer', canceled: 'canceled' };

/**
 * Twilio's routes: the voice webhook (also `<Connect action>` and the hold redirect), the status
 * callback, and the Media Stream's upgrade, whose signature covers the exact stream URL
 * (`/twilio/media/<sessionId>`); the socket then terminates in the session's object (one hop),
 * which checks the `token` parameter when `start` arrives.
 */
export const twilioRoutes = new Hono<{ Bindings: Env }>()
  .post('/twilio/voice', async (c) => {
    try {
      const config = loadConfig(c.env);
      const form = await signedForm(c, config);
      const p = voiceParams(form);
      const call: PhoneCall = {
        provider: 'twilio',
        callSid: p.CallSid,
        from: p.From,
        to: p.To,
        direction: p.Direction.startsWith('outbound') ? 'outbound' : 'inbound',
      };
      return await answerVoice(c, config, call, twiml, form);
    } catch (err) {
      return twilioError(c, err);
    }
  })
  .post('/twilio/status', async (c) => {
    try {
      const config = loadConfig(c.env);
      const p = voiceParams(await signedForm(c, config));
      return await reportStatus(c, 'twilio', p.CallSid, STATUSES[p.CallStatus] ?? 'other', 204);
    } catch (err) {
      return twilioError(c, err);
    }
  })
  .get('/twilio/media/:sessionId', async (c) => {
    if (c.req.header('Upgrade')?.toLowerCase() !== 'websocket') return c.text('Expected a WebSocket upgrade', 426);
    const config = loadConfig(c.env);
    const id = c.req.param('sessionId');
    if (!SessionId.safeParse(id).success) return c.text('Not Found', 404);
    const keys = signingKeys(requireSetting(config.TWILIO_AUTH_TOKEN, 'TWILIO_AUTH_TOKEN'), config.TWILIO_SHARED_KEY_SECRETS);
    const verdict = await verifyTwilioRequest(keys, c.req.raw.headers, mediaStreamUrl(config, 'twilio', id, ''), { params: {} });
    if (!verdict.ok) return c.text('Forbidden: invalid Twilio signature', 403);
    return sessionStub(c.env, id).fetch(new Request('https://session/peer', { headers: { Upgrade: 'websocket', 'X-Peer-Kind': 'twilio' } }));
  });
