import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeTwilioApi, type RecordedRequest } from '../../../../scripts/stack/twilio-api-fake.ts';
import type { Config } from '../../config.ts';
import { HttpError } from '../../errors.ts';
import { twilioTelephony } from './rest-client.ts';

/** Hang-up and redirect against the stack's protocol-level fake of Twilio's REST API. */
const ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef';
const AUTH_TOKEN = 'tok-s3cr3t-ü';
const UNKNOWN = 'CA00000000000000000000000000000000';

let api: { url: string; server: Server };
beforeAll(async () => {
  api = await startFakeTwilioApi();
});
afterAll(async () => {
  api.server.closeAllConnections();
  await new Promise((r) => api.server.close(r));
});

const config = (overrides: Partial<Config> = {}) =>
  ({ TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: AUTH_TOKEN, TWILIO_API_BASE: api.url, TWILIO_FROM: '+15550001111', ...overrides }) as Config;
const CALL = { to: '+15550002222', voiceUrl: 'https://edge.example/twilio/voice', statusCallbackUrl: 'https://edge.example/twilio/status' };
const callPath = (sid: string) => `/2010-04-01/Accounts/${ACCOUNT_SID}/Calls/${sid}.json`;

async function requests(): Promise<RecordedRequest[]> {
  return ((await (await fetch(`${api.url}/__requests`)).json()) as RecordedRequest[]).map(({ response: _response, ...request }) => request);
}
/** The requests the fake received while `run` ran. */
async function during(run: () => Promise<unknown>): Promise<RecordedRequest[]> {
  const before = (await requests()).length;
  await run();
  return (await requests()).slice(before);
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
/** A `fetch` answering every request with `status` and `body`, recording the forms it was sent. */
function answering(status: number, body: (form: URLSearchParams) => unknown) {
  const forms: [string, string][][] = [];
  const fetchFn: typeof fetch = async (_input, init) => {
    const form = new URLSearchParams(String(init?.body ?? ''));
    forms.push([...form]);
    return new Response(JSON.stringify(body(form)), { status, headers: { 'Content-Type': 'application/json' } });
  };
  return { fetchFn, forms };
}
const twilioError = (status: number, code: number, message: string) => ({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });

describe('twilioTelephony().hangUp', () => {
  it('posts Status=completed to the call, with Basic auth, and is idempotent', async () => {
    const twilio = twilioTelephony(config());
    const { callSid } = await twilio.placeCall(CALL);
    const seen = await during(() => twilio.hangUp(callSid));
    expect(seen).toEqual([
      {
        method: 'POST',
        path: callPath(callSid),
        authorization: `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`, 'utf8').toString('base64')}`,
        form: [['Status', 'completed']],
      },
    ]);
    // Twilio answers a second hang-up of an ended call with the resource unchanged.
    expect(await during(() => twilio.hangUp(callSid))).toHaveLength(1);
  });

  it('a call Twilio does not know (404) counts as hung up', async () => {
    const seen = await during(() => twilioTelephony(config()).hangUp(UNKNOWN));
    expect(seen.map((r) => r.path)).toEqual([callPath(UNKNOWN)]);
  });

  it('retries with Status=canceled when Twilio answers 21220, and takes 21220 to both as over', async () => {
    const once = answering(400, () => twilioError(400, 21220, 'Call is not in-progress.'));
    await twilioTelephony(config(), once.fetchFn).hangUp(UNKNOWN);
    expect(once.forms).toEqual([[['Status', 'completed']], [['Status', 'canceled']]]);

    let n = 0;
    const retried: typeof fetch = async () => (n++ === 0 ? new Response(JSON.stringify(twilioError(400, 21220, 'x')), { status: 400 }) : new Response('{}', { status: 200 }));
    await twilioTelephony(config(), retried).hangUp(UNKNOWN);
    expect(n).toBe(2);
  });

  it("Twilio's 500 (or a 401) is a 502 carrying Twilio's words but not the token", async () => {
    const { fetchFn } = answering(500, () => twilioError(500, 20500, 'An internal server error has occurred'));
    const err = await rejection(twilioTelephony(config(), fetchFn).hangUp(UNKNOWN));
    expect(err.status).toBe(502);
    expect(err.code).toBe('upstream_failed');
    expect(err.message).toBe('Twilio failed to hang up the call: HTTP 500 (Twilio error 20500: An internal server error has occurred)');
    const unauthorized = answering(401, () => twilioError(401, 20003, 'Authenticate'));
    const err2 = await rejection(twilioTelephony(config(), unauthorized.fetchFn).hangUp(UNKNOWN));
    expect(err2.status).toBe(502);
    expect(err2.message).toContain('HTTP 401');
  });

  it('an unreachable Twilio is 502; missing credentials 500 before any request', async () => {
    const refused: typeof fetch = async () => {
      throw new TypeError('fetch failed');
    };
    const err = await rejection(twilioTelephony(config(), refused).hangUp(UNKNOWN));
    expect(err.status).toBe(502);
    expect(err.message).toBe('could not reach Twilio to hang up the call');
    const seen = await during(async () => expect((await rejection(twilioTelephony(config({ TWILIO_AUTH_TOKEN: '' })).hangUp(UNKNOWN))).status).toBe(500));
    expect(seen).toEqual([]);
  });
});

describe('twilioTelephony().redirect', () => {
  it('posts Url and Method=POST to a live call', async () => {
    const twilio = twilioTelephony(config());
    const { callSid } = await twilio.placeCall(CALL);
    const seen = await during(() => twilio.redirect(callSid, 'https://edge.example/twilio/voice?leg=a&x=1'));
    expect(seen.map((r) => [r.method, r.path, r.form])).toEqual([
      ['POST', callPath(callSid), [['Url', 'https://edge.example/twilio/voice?leg=a&x=1'], ['Method', 'POST']]],
    ]);
  });

  it('redirects a call declared to the fake (an inbound call it did not place)', async () => {
    const sid = 'CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
    await fetch(`${api.url}/__calls`, { method: 'POST', body: new URLSearchParams({ CallSid: sid }) });
    await twilioTelephony(config()).redirect(sid, 'https://edge.example/twilio/voice');
  });

  it('410 for a call Twilio does not know; 409 for one that is no longer in progress', async () => {
    const twilio = twilioTelephony(config());
    const gone = await rejection(twilio.redirect(UNKNOWN, 'https://edge.example/twilio/voice'));
    expect(gone.status).toBe(410);
    const { callSid } = await twilio.placeCall(CALL);
    await twilio.hangUp(callSid);
    const refused = await rejection(twilio.redirect(callSid, 'https://edge.example/twilio/voice'));
    expect(refused.status).toBe(409);
    expect(refused.message).toContain('21220');
  });

  it("Twilio's 500 is a 502", async () => {
    const { fetchFn } = answering(500, () => twilioError(500, 20500, 'An internal server error has occurred'));
    const err = await rejection(twilioTelephony(config(), fetchFn).redirect(UNKNOWN, 'https://e/v'));
    expect(err.status).toBe(502);
    expect(err.message).toContain('Twilio failed to redirect the call: HTTP 500');
  });
});
