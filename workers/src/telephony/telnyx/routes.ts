import { Hono, type Context } from 'hono';
import { loadConfig, requireSetting, type Config } from '../../config.ts';
import type { Env } from '../../env.ts';
import { HttpError, badRequest, forbidden, unsupportedMediaType } from '../../errors.ts';
import { mediaType, readText } from '../../http/body.ts';
import { parseForm } from '../form.ts';
import { upgradeWithToken } from '../media-upgrade.ts';
import { stringFields } from '../form.ts';
import { ERROR_MESSAGE, answerVoice, reportStatus } from '../voice-flow.ts';
import { TexmlWebhookParams, toCallStatus, toPhoneCall } from './params.ts';
import { verifyTelnyxSignature } from './signature.ts';
import { texmlMarkup } from './texml.ts';

type C = Context<{ Bindings: Env }>;

/** A TeXML webhook: size and type checked, its Ed25519 signature verified over the raw body, then parsed. */
async function signedParams(c: C, config: Config): Promise<TexmlWebhookParams> {
  if (mediaType(c) !== 'application/x-www-form-urlencoded') throw unsupportedMediaType('application/x-www-form-urlencoded');
  const body = await readText(c);
  const verdict = await verifyTelnyxSignature(requireSetting(config.TELNYX_PUBLIC_KEY, 'TELNYX_PUBLIC_KEY'), c.req.raw.headers, body, Date.now());
  if (!verdict.ok) throw forbidden(verdict.why);
  const form = parseForm(body);
  const flat = Object.fromEntries(Object.entries(form).map(([k, v]) => [k, Array.isArray(v) ? (v[0] ?? '') : v]));
  const r = TexmlWebhookParams.safeParse(flat);
  if (!r.success) throw badRequest(`webhook parameters: ${r.error.issues[0]?.path.join('.')} ${r.error.issues[0]?.message}`);
  return r.data;
}

/** `/telnyx/*` errors: 403 text for a bad signature; otherwise TeXML that ends the call politely. */
function telnyxError(c: C, err: unknown): Response {
  const status = err instanceof HttpError ? err.status : 500;
  if (status === 403) return c.text('Forbidden: invalid Telnyx signature', 403);
  if (!(err instanceof HttpError)) console.error('telnyx webhook failed', err);
  return c.body(texmlMarkup.goodbye(ERROR_MESSAGE), status, { 'Content-Type': texmlMarkup.contentType });
}

/**
 * Telnyx TeXML: the voice webhook (also the hold redirect and the redirect after a stream), the
 * status callback (200), and the media stream's upgrade. TeXML sends no credential on the upgrade,
 * so the stream URL carries one (`/telnyx/media/<sessionId>/<token>`): its HMAC and expiry are
 * checked here, its single use by the session's object, where the socket terminates (one hop).
 */
export const telnyxRoutes = new Hono<{ Bindings: Env }>()
  .post('/telnyx/voice', async (c) => {
    try {
      const config = loadConfig(c.env);
      const params = await signedParams(c, config);
      return await answerVoice(c, config, toPhoneCall(params), texmlMarkup, stringFields(params));
    } catch (err) {
      return telnyxError(c, err);
    }
  })
  .post('/telnyx/status', async (c) => {
    try {
      const config = loadConfig(c.env);
      const p = await signedParams(c, config);
      return await reportStatus(c, 'telnyx', p.CallSid, toCallStatus(p));
    } catch (err) {
      return telnyxError(c, err);
    }
  })
  .get('/telnyx/media/:sessionId/:token', (c) => upgradeWithToken(c, 'telnyx'));
