import { Hono, type Context } from 'hono';
import { TwilioVoiceParams } from '@switchboard/protocol';
import { loadConfig, requireSetting, type Config } from '../config.ts';
import type { Env } from '../env.ts';
import { HttpError, badRequest, forbidden } from '../errors.ts';
import { readText, requireMediaType } from '../http/body.ts';
import { phoneSessionId, sessionStub, unwrap } from '../session/stub.ts';
import { parseForm } from '../twilio/form.ts';
import { validateTwilioSignature } from '../twilio/signature.ts';
import { connectStream, goodbye, holdAndRedirect, streamUrlFromBase } from '../twilio/twiml.ts';

type C = Context<{ Bindings: Env }>;

const HOLD_MESSAGE = 'Please hold while we connect you.';
const BUSY_MESSAGE = 'Sorry, nobody is available to take your call right now. Please try again later. Goodbye.';
const ERROR_MESSAGE = 'Sorry, something went wrong. Goodbye.';

/** Reads a signed Twilio form webhook: size and type checked, signature over PUBLIC_BASE_URL + path. */
async function signedForm(c: C, config: Config): Promise<Record<string, string | string[]>> {
  requireMediaType(c, 'application/x-www-form-urlencoded');
  const params = parseForm(await readText(c));
  const url = new URL(c.req.url);
  const signedUrl = `${config.PUBLIC_BASE_URL}${url.pathname}${url.search}`;
  const token = requireSetting(config.TWILIO_AUTH_TOKEN, 'TWILIO_AUTH_TOKEN');
  const ok = await validateTwilioSignature(token, c.req.header('X-Twilio-Signature') ?? '', signedUrl, params);
  if (!ok) throw forbidden('invalid Twilio signature');
  return params;
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
      const xml =
        action.action === 'connect'
          ? connectStream({
              streamUrl: streamUrlFromBase(config.PUBLIC_BASE_URL),
              parameters: { sessionId: action.sessionId, token: action.token },
            })
          : action.action === 'hold'
            ? holdAndRedirect({ message: HOLD_MESSAGE, redirectUrl: `${config.PUBLIC_BASE_URL}/twilio/voice` })
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
