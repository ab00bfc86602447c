import { Hono, type Context } from 'hono';
import { TwilioVoiceParams } from '@switchboard/protocol';
import { loadConfig, requireSetting, type Config } from '../config.ts';
import type { Env } from '../env.ts';
import { HttpError, badRequest, forbidden, unsupportedMediaType } from '../errors.ts';
import { mediaType, readText } from '../http/body.ts';
import { phoneSessionId, sessionStub, unwrap } from '../session/stub.ts';
import { parseForm } from '../twilio/form.ts';
import { signingKeys, verifyTwilioRequest } from '../twilio/verify-request.ts';
import { connectStream, goodbye, hangup, holdAndRedirect, streamUrlFromBase } from '../twilio/twiml.ts';

type C = Context<{ Bindings: Env }>;

const HOLD_MESSAGE = 'Please hold while we connect you.';
const BUSY_MESSAGE = 'Sorry, nobody is available to take your call right now. Please try again later. Goodbye.';
const ERROR_MESSAGE = 'Sorry, something went wrong. Goodbye.';

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
  return c.body(goodbye(ERROR_MESSAGE), status, { 'Content-Type': 'text/xml' });
}

function voiceParams(params: Record<string, string | string[]>) {
  const flat = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, Array.isArray(v) ? (v[0] ?? '') : v]));
  const r = TwilioVoiceParams.safeParse(flat);
  if (!r.success) throw badRequest(`webhook parameters: ${r.error.issues[0]?.path.join('.')} ${r.error.issues[0]?.message}`);
  return r.data;
}

export const twilioWebhooks = new Hono<{ Bindings: Env }>()
  .post('/twilio/voice', async (c) => {
    try {
      const config = loadConfig(c.env);
      const p = voiceParams(await signedForm(c, config));
      const id = phoneSessionId(p.CallSid);
      const direction = p.Direction.startsWith('outbound') ? 'outbound' : 'inbound';
      const action = unwrap(
        await sessionStub(c.env, id).voice(id, { callSid: p.CallSid, from: p.From, to: p.To, direction }),
      );
      // The voice URL is also <Connect>'s action: when the stream ends without the call ending
      // (the edge restarted, the session's object was reset), Twilio asks it what to do next, and
      // a call whose session still runs gets a new stream.
      const voiceUrl = `${config.PUBLIC_BASE_URL}/twilio/voice`;
      const xml =
        action.action === 'connect'
          ? connectStream({
              streamUrl: streamUrlFromBase(config.PUBLIC_BASE_URL),
              parameters: { sessionId: action.sessionId, token: action.token },
              action: voiceUrl,
            })
          : action.action === 'hold'
            ? holdAndRedirect({ message: HOLD_MESSAGE, redirectUrl: voiceUrl })
            : action.action === 'wait'
              ? holdAndRedirect({ message: '', redirectUrl: voiceUrl })
              : action.action === 'hangup'
                ? hangup()
                : goodbye(BUSY_MESSAGE);
      return c.body(xml, 200, { 'Content-Type': 'text/xml' });
    } catch (err) {
      return twilioError(c, err);
    }
  })
  .post('/twilio/status', async (c) => {
    try {
      const config = loadConfig(c.env);
      const p = voiceParams(await signedForm(c, config));
      const id = phoneSessionId(p.CallSid);
      await sessionStub(c.env, id).phoneStatus(p.CallStatus);
      return c.body(null, 204);
    } catch (err) {
      return twilioError(c, err);
    }
  });
