import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakePlivoApi, type RecordedPlivoRequest } from '../../../../scripts/stack/plivo-api-fake.ts';
import type { Config } from '../../config.ts';
import { HttpError } from '../../errors.ts';
import { plivoTelephony } from './rest-client.ts';

/** Hang-up and redirect against the stack's protocol-level fake of Plivo's Call API. */
const AUTH_ID = 'MAXXXXXXXXXXXXXXXXXX';
const AUTH_TOKEN = 'tok-s3cr3t-ü';
const UNKNOWN = '00000000-0000-4000-8000-000000000000';

let api: { url: string; server: Server };
beforeAll(async () => {
  api = await startFakePlivoApi({ authId: AUTH_ID, authToken: AUTH_TOKEN });
});
afterAll(async () => {
  api.server.closeAllConnections();
  await new Promise((r) => api.server.close(r));
});

const config = (overrides: Partial<Config> = {}) =>
  ({ PLIVO_AUTH_ID: AUTH_ID, PLIVO_AUTH_TOKEN: AUTH_TOKEN, PLIVO_API_BASE: api.url, PLIVO_FROM: '+14155550111', ...overrides }) as Config;
const CALL = { to: '+14155550100', voiceUrl: 'https://edge.example/plivo/voice', statusCallbackUrl: 'https://edge.example/plivo/status' };
const path = (resource: 'Call' | 'Request', id: string) => `/v1/Account/${AUTH_ID}/${resource}/${id}/`;
const declare = (ids: { call_uuid?: string; request_uuid?: string }) =>
  fetch(`${api.url}/__calls`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(ids) });

async function during(run: () => Promise<unknown>): Promise<RecordedPlivoRequest[]> {
  const get = async () => ((await (await fetch(`${api.url}/__requests`)).json()) as RecordedPlivoRequest[]).map(({ response: _response, ...request }) => request);
  const before = (await get()).length;
  await run();
  return (await get()).slice(before);
}
async function rejection(p: Promise<unknown>): Promise<HttpError> {
  const err = await p.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HttpError);
  expect((err as HttpError).message).not.toContain(AUTH_TOKEN);
  return err as HttpError;
}

describe('plivoTelephony().hangUp', () => {
  it('a placed call: DELETE Call/{request_uuid}/ (204), with Basic auth; again: 404 to both, done', async () => {
    const plivo = plivoTelephony(config());
    const { callSid } = await plivo.placeCall(CALL);
    const seen = await during(() => plivo.hangUp(callSid));
    expect(seen).toEqual([
      { method: 'DELETE', path: path('Call', callSid), authorization: `Basic ${Buffer.from(`${AUTH_ID}:${AUTH_TOKEN}`, 'utf8').toString('base64')}`, body: {}, form: [] },
    ]);
    const again = await during(() => plivo.hangUp(callSid));
    expect(again.map((r) => [r.method, r.path])).toEqual([
      ['DELETE', path('Call', callSid)],
      ['DELETE', path('Request', callSid)],
    ]);
  });

  it('a queued call known only by its request_uuid: the Call 404s, the Request is cancelled', async () => {
    const requestUuid = '9834029e-58b6-11e1-b8b7-a5bd0e4e126f';
    await declare({ request_uuid: requestUuid });
    const seen = await during(() => plivoTelephony(config()).hangUp(requestUuid));
    expect(seen.map((r) => [r.method, r.path])).toEqual([
      ['DELETE', path('Call', requestUuid)],
      ['DELETE', path('Request', requestUuid)],
    ]);
    // Cancelled: a redirect now finds nothing.
    expect((await rejection(plivoTelephony(config()).redirect(requestUuid, 'https://e/v'))).status).toBe(410);
  });

  it("Plivo's 500 is a 502 with Plivo's words, on either request", async () => {
    const err = await rejection(plivoTelephony(config(), async () => new Response(JSON.stringify({ api_id: 'x', error: 'internal error' }), { status: 500 })).hangUp(UNKNOWN));
    expect(err.status).toBe(502);
    expect(err.code).toBe('upstream_failed');
    expect(err.message).toBe('Plivo failed to hang up the call: HTTP 500 (Plivo: internal error)');
    let n = 0;
    const secondFails: typeof fetch = async () => new Response('{}', { status: n++ === 0 ? 404 : 503 });
    expect((await rejection(plivoTelephony(config(), secondFails).hangUp(UNKNOWN))).message).toContain('HTTP 503');
  });

  it('wrong credentials (the fake\'s 401) are a 502 that does not leak the token', async () => {
    const err = await rejection(plivoTelephony(config({ PLIVO_AUTH_TOKEN: 'wrong-token-value' })).hangUp(UNKNOWN));
    expect(err.status).toBe(502);
    expect(err.message).toContain('HTTP 401');
    expect(err.message).not.toContain('wrong-token-value');
  });
});

describe('plivoTelephony().redirect', () => {
  it("transfers the call's A leg: POST Call/{id}/ with legs, aleg_url, aleg_method (202)", async () => {
    const plivo = plivoTelephony(config());
    const { callSid } = await plivo.placeCall(CALL);
    const seen = await during(() => plivo.redirect(callSid, 'https://edge.example/plivo/voice?a=1&b=2'));
    expect(seen.map((r) => [r.method, r.path, r.body, r.form])).toEqual([
      [
        'POST',
        path('Call', callSid),
        { legs: 'aleg', aleg_url: 'https://edge.example/plivo/voice?a=1&b=2', aleg_method: 'POST' },
        [['legs', 'aleg'], ['aleg_url', 'https://edge.example/plivo/voice?a=1&b=2'], ['aleg_method', 'POST']],
      ],
    ]);
  });

  it('redirects and hangs up a declared inbound call by its CallUUID', async () => {
    const callUuid = '3e82ae9d-2c78-4d85-b1a4-6eae7dbafb36';
    await declare({ call_uuid: callUuid });
    const plivo = plivoTelephony(config());
    await plivo.redirect(callUuid, 'https://edge.example/plivo/voice');
    const seen = await during(() => plivo.hangUp(callUuid));
    expect(seen.map((r) => r.path)).toEqual([path('Call', callUuid)]);
  });

  it('410 for a call Plivo does not know; 502 for its 500', async () => {
    expect((await rejection(plivoTelephony(config()).redirect(UNKNOWN, 'https://e/v'))).status).toBe(410);
    const err = await rejection(plivoTelephony(config(), async () => new Response('oops', { status: 500 })).redirect(UNKNOWN, 'https://e/v'));
    expect(err.status).toBe(502);
    expect(err.message).toBe('Plivo failed to redirect the call: HTTP 500');
  });
});
