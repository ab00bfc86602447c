import { Hono, type Context } from 'hono';
import { loadConfig, requireSetting, type Config } from '../../config.ts';
import type { Env } from '../../env.ts';
import { HttpError, badRequest, forbidden, unsupportedMediaType } from '../../errors.ts';
import { mediaType, readText } from '../../http/body.ts';
import { parseForm } from '../form.ts';
import { upgradeWithToken } from '../media-upgrade.ts';
import { stringFields } from '../form.ts';
import { ERROR_MESSAGE, answerVoice, reportStatus } from '../voice-flow.ts';
import { PlivoCallParams, plivoCallId, toCallStatus, toPhoneCall } from './params.ts';
import { plivoMarkup } from './plivo-xml.ts';
import { verifyPlivoSignature } from './signature.ts';

type C = Context<{ Bindings: Env }>;

/**
 * A Plivo webhook: size and type checked, its V3 signature verified over PUBLIC_BASE_URL + path +
 * query (the URL as given to Plivo) and the POST params, then parsed.
 */
async function signedParams(c: C, config: Config): Promise<PlivoCallParams> {
  if (mediaType(c) !== 'application/x-www-form-urlencoded') throw unsupportedMediaType('application/x-www-form-urlencoded');
  const form = parseForm(await readText(c));
  const url = new URL(c.req.url);
  const signedUrl = `${config.PUBLIC_BASE_URL}${url.pathname}${url.search}`;
  const verdict = await verifyPlivoSignature(requireSetting(config.PLIVO_AUTH_TOKEN, 'PLIVO_AUTH_TOKEN'), c.req.raw.headers, signedUrl, form, 'POST');
  if (!verdict.ok) throw forbidden(verdict.why);
  const flat = Object.fromEntries(Object.entries(form).map(([k, v]) => [k, Array.isArray(v) ? (v[0] ?? '') : v]));
  const r = PlivoCallParams.safeParse(flat);
  if (!r.success) throw badRequest(`webhook parameters: ${r.error.issues[0]?.path.join('.')} ${r.error.issues[0]?.message}`);
  return r.data;
}

/** `/plivo/*` errors: 403 text for a bad signature; otherwise Plivo XML that ends the call politely. */
function plivoError(c: C, err: unknown): Response {
  const status = err instanceof HttpError ? err.status : 500;
  if (status === 403) return c.text('Forbidden: invalid Plivo signature', 403);
  if (!(err instanceof HttpError)) console.error('plivo webhook failed', err);
  return c.body(plivoMarkup.goodbye(ERROR_MESSAGE), status, { 'Content-Type': plivoMarkup.contentType });
}

/**
 * Plivo: the answer URL (also the hold redirect and the redirect after the stream), the hang-up
 * callback (200), and the Audio Stream's upgrade. Which URL form Plivo signs on the upgrade is not
 * documented, so the stream URL carries the call's single-use credential instead
 * (`/plivo/media/<sessionId>/<token>`), checked like Telnyx's.
 */
export const plivoRoutes = new Hono<{ Bindings: Env }>()
  .post('/plivo/voice', async (c) => {
    try {
      const config = loadConfig(c.env);
      const params = await signedParams(c, config);
      return await answerVoice(c, config, toPhoneCall(params), plivoMarkup, stringFields(params));
    } catch (err) {
      return plivoError(c, err);
    }
  })
  .post('/plivo/status', async (c) => {
    try {
      const config = loadConfig(c.env);
      const p = await signedParams(c, config);
      return await reportStatus(c, 'plivo', plivoCallId(p), toCallStatus(p));
    } catch (err) {
      return plivoError(c, err);
    }
  })
  .get('/plivo/media/:sessionId/:token', (c) => upgradeWithToken(c, 'plivo'));
