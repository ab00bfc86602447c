import { beforeEach, describe, expect, it } from 'vitest';
import { expectTenSecondDeadline } from '../rest-call.test-support.ts';
import type { Config } from '../../config.ts';
import { HttpError } from '../../errors.ts';
import { telnyxTelephony } from './rest-client.ts';

/**
 * A fake of Telnyx's "create a connection-scoped TeXML call" endpoint, passed as `fetch`, behaving
 * as Telnyx documents it: `POST /v2/texml/calls/{connection_id}`, `Authorization: Bearer <key>`,
 * a JSON body with case-sensitive `From`/`To` required; the flat
 * `{"call_sid", "from", "to", "status": "queued"}` on success, Telnyx's
 * `{"errors": [{"code", "title", "detail"}]}` otherwise. Every request is recorded.
 */
const API_KEY = 'KEY0123456789ABCDEF_s3cr3t';
const APP_ID = '1568109700606592442';
const CALL_SID = 'v3:9X2vxPDFY2RHSJ1EdMS0RHRksMTg7ldNxdjWbVr9zBjbGjGsSe-aiQ';
const BASE = 'https://api.telnyx.test';

interface Recorded {
  method: string;
  url: string;
  headers: Headers;
  body: string;
}

type Mode = 'ok' | 'wrapped' | 'telnyx422' | 'telnyx400' | 'plain400' | 'telnyx500' | 'badJson' | 'noSid' | 'manyErrors';

let mode: Mode = 'ok';
const requests: Recorded[] = [];

const json = (status: number, payload: unknown) =>
  new Response(typeof payload === 'string' ? payload : JSON.stringify(payload), { status, headers: { 'Content-Type': 'application/json' } });
const telnyxError = (status: number, code: string, title: string, detail?: string) =>
  json(status, { errors: [{ code, title, ...(detail ? { detail } : {}), meta: { url: `https://developers.telnyx.com/docs/overview/errors/${code}` } }] });

const fakeTelnyx: typeof fetch = async (input, init) => {
  const request = new Request(input, init);
  const body = await request.text();
  requests.push({ method: request.method, url: request.url, headers: request.headers, body });
  const path = new URL(request.url).pathname;
  const match = /^\/v2\/texml\/calls\/([^/]+)$/.exec(path);
  if (!match || request.method !== 'POST') return telnyxError(404, '10005', 'Resource not found');
  if (request.headers.get('authorization') !== `Bearer ${API_KEY}`) {
    return telnyxError(401, '10009', 'Authentication failed', 'The API key provided is invalid.');
  }
  if (decodeURIComponent(match[1]!) !== APP_ID) return telnyxError(404, '10005', 'Resource not found', 'Connection not found.');
  let payload: Record<string, unknown>;
  try {
    payload = JSON.parse(body) as Record<string, unknown>;
  } catch {
    return telnyxError(400, '10015', 'Bad Request', 'The request body is not valid JSON.');
  }
  if (typeof payload['To'] !== 'string' || typeof payload['From'] !== 'string') {
    return telnyxError(422, '10004', 'Missing required parameter', 'From and To are required.');
  }
  if (payload['To'] === '+1invalid') return telnyxError(422, '10016', 'Phone number must be in +E.164 format', 'The To number is invalid.');
  switch (mode) {
    case 'ok':
      return json(200, { call_sid: CALL_SID, from: payload['From'], to: payload['To'], status: 'queued' });
    case 'wrapped':
      return json(200, { data: { call_sid: CALL_SID, from: payload['From'], to: payload['To'], status: 'queued' } });
    case 'telnyx422':
      return telnyxError(422, '10010', 'Invalid source number', 'The From number is not associated with the connection.');
    case 'telnyx400':
      return telnyxError(400, '10015', 'Bad Request', 'The request failed because it was not well-formed.');
    case 'plain400':
      return new Response('<html>Bad Request</html>', { status: 400, headers: { 'Content-Type': 'text/html' } });
    case 'telnyx500':
      return telnyxError(500, '10007', 'Unexpected error', 'An unexpected error occured.');
    case 'badJson':
      return json(200, '{"call_sid": "v3');
    case 'noSid':
      return json(200, { from: payload['From'], to: payload['To'], status: 'queued' });
    case 'manyErrors':
      return json(422, {
        errors: [
          { code: '10016', title: 'Invalid phone number', detail: 'x'.repeat(400) },
          { code: 10002, title: 'Invalid phone number' },
          { title: 'Third' },
          { title: 'Fourth (not shown)' },
        ],
      });
  }
};

beforeEach(() => {
  mode = 'ok';
  requests.length = 0;
});

function config(overrides: Partial<Config> = {}): Config {
  return {
    TELNYX_API_KEY: API_KEY,
    TELNYX_APP_ID: APP_ID,
    TELNYX_API_BASE: BASE,
    TELNYX_FROM: '+15550001111',
    ...overrides,
  } as Config;
}

const CALL = {
  to: '+15550002222',
  voiceUrl: 'https://edge.example/telnyx/voice',
  statusCallbackUrl: 'https://edge.example/telnyx/status',
};

async function rejection(p: Promise<unknown>): Promise<HttpError> {
  const err = await p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HttpError);
  const httpErr = err as HttpError;
  // The API key never appears in what we report.
  expect(httpErr.message).not.toContain(API_KEY);
  return httpErr;
}

describe('telnyxTelephony().placeCall', () => {
  it('is named telnyx, makes exactly the documented request and returns the call_sid', async () => {
    const provider = telnyxTelephony(config(), fakeTelnyx);
    expect(provider.name).toBe('telnyx');
    const { callSid } = await provider.placeCall(CALL);
    expect(callSid).toBe(CALL_SID);
    expect(requests).toHaveLength(1);
    const r = requests[0]!;
    expect(r.method).toBe('POST');
    expect(r.url).toBe(`${BASE}/v2/texml/calls/${APP_ID}`);
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(r.headers.get('accept')).toBe('application/json');
    expect(JSON.parse(r.body)).toEqual({
      To: '+15550002222',
      From: '+15550001111',
      Url: 'https://edge.example/telnyx/voice',
      Method: 'POST',
      UrlMethod: 'POST',
      StatusCallback: 'https://edge.example/telnyx/status',
      StatusCallbackMethod: 'POST',
      StatusCallbackEvent: 'completed',
    });
  });

  it('accepts the data-wrapped answer of the earlier schema', async () => {
    mode = 'wrapped';
    expect(await telnyxTelephony(config(), fakeTelnyx).placeCall(CALL)).toEqual({ callSid: CALL_SID });
  });

  it('uses the request `from` over TELNYX_FROM, tolerates a trailing slash, escapes the app id', async () => {
    await telnyxTelephony(config({ TELNYX_API_BASE: `${BASE}//` }), fakeTelnyx).placeCall({ ...CALL, from: '+15550003333' });
    expect(requests[0]!.url).toBe(`${BASE}/v2/texml/calls/${APP_ID}`);
    expect(JSON.parse(requests[0]!.body).From).toBe('+15550003333');
    await rejection(telnyxTelephony(config({ TELNYX_APP_ID: '../calls/x?y' }), fakeTelnyx).placeCall(CALL));
    expect(requests[1]!.url).toBe(`${BASE}/v2/texml/calls/..%2Fcalls%2Fx%3Fy`);
  });

  it('400 without any from, before calling Telnyx', async () => {
    const err = await rejection(telnyxTelephony(config({ TELNYX_FROM: '' }), fakeTelnyx).placeCall(CALL));
    expect(err.status).toBe(400);
    expect(err.message).toBe('from is required: set TELNYX_FROM or pass "from"');
    expect(requests).toHaveLength(0);
  });

  it('500 misconfigured without the API key or the application id', async () => {
    const err = await rejection(telnyxTelephony(config({ TELNYX_API_KEY: '' }), fakeTelnyx).placeCall(CALL));
    expect(err.status).toBe(500);
    expect(err.message).toContain('TELNYX_API_KEY');
    const err2 = await rejection(telnyxTelephony(config({ TELNYX_APP_ID: '' }), fakeTelnyx).placeCall(CALL));
    expect(err2.status).toBe(500);
    expect(err2.message).toContain('TELNYX_APP_ID');
    expect(requests).toHaveLength(0);
  });

  it("Telnyx's 422 and 400 become our 400 carrying Telnyx's summary", async () => {
    const err = await rejection(telnyxTelephony(config(), fakeTelnyx).placeCall({ ...CALL, to: '+1invalid' }));
    expect(err.status).toBe(400);
    expect(err.code).toBe('bad_request');
    expect(err.message).toBe('Telnyx error 10016: Phone number must be in +E.164 format: The To number is invalid.');

    mode = 'telnyx422';
    expect((await rejection(telnyxTelephony(config(), fakeTelnyx).placeCall(CALL))).message).toContain('not associated with the connection');
    mode = 'telnyx400';
    const err3 = await rejection(telnyxTelephony(config(), fakeTelnyx).placeCall(CALL));
    expect(err3.status).toBe(400);
    expect(err3.message).toContain('Telnyx error 10015');
    mode = 'plain400';
    const err4 = await rejection(telnyxTelephony(config(), fakeTelnyx).placeCall(CALL));
    expect(err4.status).toBe(400);
    expect(err4.message).toBe('Telnyx rejected the call request (HTTP 400)');
  });

  it('summarises at most three errors and caps the text', async () => {
    mode = 'manyErrors';
    const err = await rejection(telnyxTelephony(config(), fakeTelnyx).placeCall(CALL));
    expect(err.status).toBe(400);
    expect(err.message.length).toBeLessThanOrEqual(300);
    expect(err.message.startsWith('Telnyx error 10016: Invalid phone number: xxx')).toBe(true);
    expect(err.message).not.toContain('Fourth');
  });

  it('wrong credentials (Telnyx 401) are a 502 that does not leak the key', async () => {
    const err = await rejection(telnyxTelephony(config({ TELNYX_API_KEY: 'KEYwrong-value' }), fakeTelnyx).placeCall(CALL));
    expect(err.status).toBe(502);
    expect(err.message).toBe('Telnyx failed to place the call: HTTP 401 (Telnyx error 10009: Authentication failed: The API key provided is invalid.)');
    expect(err.message).not.toContain('KEYwrong-value');
  });

  it("an unknown application (404) and Telnyx's 500 become 502", async () => {
    const err = await rejection(telnyxTelephony(config({ TELNYX_APP_ID: '999' }), fakeTelnyx).placeCall(CALL));
    expect(err.status).toBe(502);
    expect(err.message).toContain('HTTP 404');
    mode = 'telnyx500';
    const err2 = await rejection(telnyxTelephony(config(), fakeTelnyx).placeCall(CALL));
    expect(err2.status).toBe(502);
    expect(err2.code).toBe('upstream_failed');
    expect(err2.message).toContain('HTTP 500');
  });

  it('invalid JSON or a missing call_sid in a 200 becomes 502', async () => {
    mode = 'badJson';
    const err = await rejection(telnyxTelephony(config(), fakeTelnyx).placeCall(CALL));
    expect(err.status).toBe(502);
    expect(err.message).toContain('invalid JSON');
    mode = 'noSid';
    const err2 = await rejection(telnyxTelephony(config(), fakeTelnyx).placeCall(CALL));
    expect(err2.status).toBe(502);
    expect(err2.message).toContain('call_sid');
  });

  it('an unreachable Telnyx becomes 502 without echoing the error', async () => {
    const failing: typeof fetch = async () => {
      throw new TypeError(`fetch failed: connect ECONNREFUSED (Authorization: Bearer ${API_KEY})`);
    };
    const err = await rejection(telnyxTelephony(config(), failing).placeCall(CALL));
    expect(err.status).toBe(502);
    expect(err.message).toBe('could not reach Telnyx to place the call');
  });

  it('aborts the request after 10 s, maps that to 502, and leaves no timer behind an answered one', async () => {
    await expectTenSecondDeadline('Telnyx', (fetchFn) => telnyxTelephony(config(), fetchFn).placeCall(CALL));
  });
});
