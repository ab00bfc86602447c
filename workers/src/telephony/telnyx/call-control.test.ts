import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeTelnyxApi, type RecordedTelnyxRequest } from '../../../../scripts/stack/telnyx-api-fake.ts';
import type { Config } from '../../config.ts';
import { HttpError } from '../../errors.ts';
import { telnyxTelephony } from './rest-client.ts';

/** Hang-up and redirect against the stack's protocol-level fake of Telnyx's TeXML Calls API. */
const API_KEY = 'KEY0123456789ABCDEF_s3cr3t';
const ACCOUNT_SID = '61bf923e-5e4d-4595-a110-56190ea18a1b';
const UNKNOWN = 'v3:unknown-call';

let api: { url: string; server: Server };
beforeAll(async () => {
  api = await startFakeTelnyxApi();
});
afterAll(async () => {
  api.server.closeAllConnections();
  await new Promise((r) => api.server.close(r));
});

const config = () => ({ TELNYX_API_KEY: API_KEY, TELNYX_APP_ID: '1568109700606592442', TELNYX_API_BASE: api.url, TELNYX_FROM: '+15550001111' }) as Config;
const CALL = { to: '+15550002222', voiceUrl: 'https://edge.example/telnyx/voice', statusCallbackUrl: 'https://edge.example/telnyx/status' };
const legacyPath = (sid: string) => `/v2/texml/calls/${encodeURIComponent(sid)}/update`;
const accountPath = (sid: string) => `/v2/texml/Accounts/${ACCOUNT_SID}/Calls/${encodeURIComponent(sid)}`;

async function during(run: () => Promise<unknown>): Promise<RecordedTelnyxRequest[]> {
  const get = async () => ((await (await fetch(`${api.url}/__requests`)).json()) as RecordedTelnyxRequest[]).map(({ response: _response, ...request }) => request);
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
  expect((err as HttpError).message).not.toContain(API_KEY);
  return err as HttpError;
}
const answering =
  (status: number, body: unknown): typeof fetch =>
  async () =>
    new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

describe('telnyxTelephony() without an account sid: the connection-free update path (JSON)', () => {
  it('hangUp posts {"Status": "completed"} with the Bearer key, and a second hang-up (404) is done', async () => {
    const telnyx = telnyxTelephony(config());
    const { callSid } = await telnyx.placeCall(CALL);
    const seen = await during(() => telnyx.hangUp(callSid));
    expect(seen).toEqual([
      {
        method: 'POST',
        path: legacyPath(callSid),
        authorization: `Bearer ${API_KEY}`,
        contentType: 'application/json',
        body: { Status: 'completed' },
        form: [['Status', 'completed']],
      },
    ]);
    expect(await during(() => telnyx.hangUp(callSid))).toHaveLength(1);
  });

  it('redirect posts Url and Method=POST; a call Telnyx does not know is 410', async () => {
    const telnyx = telnyxTelephony(config());
    const { callSid } = await telnyx.placeCall(CALL);
    const seen = await during(() => telnyx.redirect(callSid, 'https://edge.example/telnyx/voice?a=1&b=2'));
    expect(seen.map((r) => [r.path, r.form])).toEqual([[legacyPath(callSid), [['Url', 'https://edge.example/telnyx/voice?a=1&b=2'], ['Method', 'POST']]]]);
    expect((await rejection(telnyx.redirect(UNKNOWN, 'https://e/v'))).status).toBe(410);
  });
});

describe('telnyxTelephony() with an account sid: the account-scoped update path (form)', () => {
  it('redirects and hangs up a declared inbound call with form bodies', async () => {
    const telnyx = telnyxTelephony(config(), fetch, { accountSid: ACCOUNT_SID });
    const sid = 'v3:inbound-call-1';
    await fetch(`${api.url}/__calls`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ CallSid: sid }) });
    const seen = await during(async () => {
      await telnyx.redirect(sid, 'https://edge.example/telnyx/voice');
      await telnyx.hangUp(sid);
      await telnyx.hangUp(sid);
    });
    expect(seen.map((r) => [r.path, r.contentType, r.form])).toEqual([
      [accountPath(sid), 'application/x-www-form-urlencoded', [['Url', 'https://edge.example/telnyx/voice'], ['Method', 'POST']]],
      [accountPath(sid), 'application/x-www-form-urlencoded', [['Status', 'completed']]],
      [accountPath(sid), 'application/x-www-form-urlencoded', [['Status', 'completed']]],
    ]);
  });
});

describe('telnyxTelephony() errors', () => {
  const ended = { errors: [{ code: '90018', title: 'Call has already ended', detail: 'This call is no longer active and can not receive commands.' }] };
  const broken = { errors: [{ code: '10007', title: 'Unexpected error', detail: 'An unexpected error occured.' }] };

  it('"call has already ended" (90018) counts as hung up, and is 410 for a redirect', async () => {
    await telnyxTelephony(config(), answering(422, ended)).hangUp(UNKNOWN);
    expect((await rejection(telnyxTelephony(config(), answering(422, ended)).redirect(UNKNOWN, 'https://e/v'))).status).toBe(410);
  });

  it("Telnyx's 500 (or another 422) is a 502 with Telnyx's words", async () => {
    const err = await rejection(telnyxTelephony(config(), answering(500, broken)).hangUp(UNKNOWN));
    expect(err.status).toBe(502);
    expect(err.code).toBe('upstream_failed');
    expect(err.message).toBe('Telnyx failed to hang up the call: HTTP 500 (Telnyx error 10007: Unexpected error: An unexpected error occured.)');
    const err2 = await rejection(telnyxTelephony(config(), answering(422, { errors: [{ code: '10015', title: 'Invalid value' }] })).redirect(UNKNOWN, 'https://e/v'));
    expect(err2.status).toBe(502);
    expect(err2.message).toContain('HTTP 422');
  });

  it('a missing key is 401 from the fake, hence 502', async () => {
    const noKey: typeof fetch = (input, init) => fetch(input, { ...init, headers: { 'Content-Type': 'application/json' } });
    const err = await rejection(telnyxTelephony(config(), noKey).hangUp(UNKNOWN));
    expect(err.status).toBe(502);
    expect(err.message).toContain('HTTP 401');
  });
});
