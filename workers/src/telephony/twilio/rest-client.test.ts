import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { expectTenSecondDeadline } from '../rest-call.test-support.ts';
import type { Config } from '../../config.ts';
import { HttpError } from '../../errors.ts';
import { twilioTelephony } from './rest-client.ts';

/**
 * A protocol-level fake of Twilio's "create call" endpoint on 127.0.0.1, behaving as Twilio
 * documents it: `POST /2010-04-01/Accounts/{AccountSid}/Calls.json`, HTTP Basic auth with the
 * account SID and auth token, a form body; 201 with the call resource as JSON, or Twilio's error
 * JSON (`code`, `message`, `more_info`, `status`). Every request is recorded for exact assertions.
 */
const ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef';
const AUTH_TOKEN = 'tok-s3cr3t-ü';
const CALL_SID = 'CAfedcba9876543210fedcba9876543210';

interface Recorded {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

type Mode = 'ok' | 'twilio400' | 'twilio500' | 'badJson' | 'noSid' | 'plain400';

let server: Server;
let base: string;
let mode: Mode = 'ok';
const requests: Recorded[] = [];

function callResource(form: URLSearchParams) {
  const now = new Date().toUTCString();
  return {
    account_sid: ACCOUNT_SID,
    annotation: null,
    answered_by: null,
    api_version: '2010-04-01',
    caller_name: null,
    date_created: now,
    date_updated: now,
    direction: 'outbound-api',
    duration: null,
    end_time: null,
    forwarded_from: null,
    from: form.get('From'),
    from_formatted: form.get('From'),
    group_sid: null,
    parent_call_sid: null,
    phone_number_sid: 'PN0123456789abcdef0123456789abcdef',
    price: null,
    price_unit: 'USD',
    queue_time: '0',
    sid: CALL_SID,
    start_time: null,
    status: 'queued',
    subresource_uris: {
      notifications: `/2010-04-01/Accounts/${ACCOUNT_SID}/Calls/${CALL_SID}/Notifications.json`,
      recordings: `/2010-04-01/Accounts/${ACCOUNT_SID}/Calls/${CALL_SID}/Recordings.json`,
    },
    to: form.get('To'),
    to_formatted: form.get('To'),
    trunk_sid: null,
    uri: `/2010-04-01/Accounts/${ACCOUNT_SID}/Calls/${CALL_SID}.json`,
  };
}

function twilioError(status: number, code: number, message: string) {
  return JSON.stringify({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
      const json = (status: number, payload: string) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(payload);
      };
      const match = /^\/2010-04-01\/Accounts\/([^/]+)\/Calls\.json$/.exec(req.url ?? '');
      if (!match || req.method !== 'POST') return json(404, twilioError(404, 20404, 'The requested resource was not found'));
      const expectedAuth = `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`, 'utf8').toString('base64')}`;
      if (req.headers.authorization !== expectedAuth || match[1] !== ACCOUNT_SID) {
        return json(401, twilioError(401, 20003, 'Authenticate'));
      }
      if (!req.headers['content-type']?.startsWith('application/x-www-form-urlencoded')) {
        return json(400, twilioError(400, 20001, 'Unsupported content type'));
      }
      const form = new URLSearchParams(body);
      if (!form.get('To') || !form.get('From') || !form.get('Url')) {
        return json(400, twilioError(400, 21201, 'No called number is specified'));
      }
      if (form.get('To') === '+1invalid') {
        return json(400, twilioError(400, 21211, "The 'To' number +1invalid is not a valid phone number."));
      }
      switch (mode) {
        case 'ok':
          return json(201, JSON.stringify(callResource(form)));
        case 'twilio400':
          return json(400, twilioError(400, 21210, "The source phone number provided, +15550009999, is not yet verified for your account."));
        case 'plain400':
          res.writeHead(400, { 'Content-Type': 'text/html' });
          return res.end('<html>Bad Request</html>');
        case 'twilio500':
          return json(500, twilioError(500, 20500, 'An internal server error has occurred'));
        case 'badJson':
          res.writeHead(201, { 'Content-Type': 'application/json' });
          return res.end('{"sid": "CA');
        case 'noSid':
          return json(201, JSON.stringify({ ...callResource(form), sid: 'not-a-call-sid' }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  mode = 'ok';
  requests.length = 0;
});

function config(overrides: Partial<Config> = {}): Config {
  return {
    TWILIO_ACCOUNT_SID: ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: AUTH_TOKEN,
    TWILIO_API_BASE: base,
    TWILIO_FROM: '+15550001111',
    ...overrides,
  } as Config;
}

const CALL = {
  to: '+15550002222',
  voiceUrl: 'https://edge.example/twilio/voice',
  statusCallbackUrl: 'https://edge.example/twilio/status',
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
  // The auth token never appears in what we report.
  expect(httpErr.message).not.toContain(AUTH_TOKEN);
  return httpErr;
}

describe('twilioTelephony().placeCall', () => {
  it('makes exactly the documented request and returns the call sid', async () => {
    const { callSid } = await twilioTelephony(config()).placeCall(CALL);
    expect(callSid).toBe(CALL_SID);
    expect(requests).toHaveLength(1);
    const r = requests[0]!;
    expect(r.method).toBe('POST');
    expect(r.path).toBe(`/2010-04-01/Accounts/${ACCOUNT_SID}/Calls.json`);
    expect(r.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(r.headers.accept).toBe('application/json');
    const form = new URLSearchParams(r.body);
    expect([...form]).toEqual([
      ['To', '+15550002222'],
      ['From', '+15550001111'],
      ['Url', 'https://edge.example/twilio/voice'],
      ['Method', 'POST'],
      ['StatusCallback', 'https://edge.example/twilio/status'],
      ['StatusCallbackMethod', 'POST'],
      ['StatusCallbackEvent', 'initiated'],
      ['StatusCallbackEvent', 'ringing'],
      ['StatusCallbackEvent', 'answered'],
      ['StatusCallbackEvent', 'completed'],
    ]);
    // `+` must travel percent-encoded, or Twilio would read a space.
    expect(r.body).toContain('To=%2B15550002222');
  });

  it('uses the request `from` over TWILIO_FROM, and tolerates a trailing slash on the API base', async () => {
    await twilioTelephony(config({ TWILIO_API_BASE: `${base}/` })).placeCall({ ...CALL, from: '+15550003333' });
    expect(requests[0]!.path).toBe(`/2010-04-01/Accounts/${ACCOUNT_SID}/Calls.json`);
    expect(new URLSearchParams(requests[0]!.body).get('From')).toBe('+15550003333');
  });

  it('400 without any from, before calling Twilio', async () => {
    const err = await rejection(twilioTelephony(config({ TWILIO_FROM: '' })).placeCall(CALL));
    expect(err.status).toBe(400);
    expect(err.message).toBe('from is required: set TWILIO_FROM or pass "from"');
    expect(requests).toHaveLength(0);
  });

  it('500 misconfigured without account credentials', async () => {
    const err = await rejection(twilioTelephony(config({ TWILIO_AUTH_TOKEN: '' })).placeCall(CALL));
    expect(err.status).toBe(500);
    expect(err.message).toContain('TWILIO_AUTH_TOKEN');
    const err2 = await rejection(twilioTelephony(config({ TWILIO_ACCOUNT_SID: '' })).placeCall(CALL));
    expect(err2.status).toBe(500);
    expect(requests).toHaveLength(0);
  });

  it("Twilio's 400 becomes our 400 carrying Twilio's message", async () => {
    const err = await rejection(twilioTelephony(config()).placeCall({ ...CALL, to: '+1invalid' }));
    expect(err.status).toBe(400);
    expect(err.code).toBe('bad_request');
    expect(err.message).toContain("The 'To' number +1invalid is not a valid phone number.");
    expect(err.message).toContain('21211');

    mode = 'twilio400';
    const err2 = await rejection(twilioTelephony(config()).placeCall(CALL));
    expect(err2.status).toBe(400);
    expect(err2.message).toContain('is not yet verified for your account');

    mode = 'plain400';
    const err3 = await rejection(twilioTelephony(config()).placeCall(CALL));
    expect(err3.status).toBe(400);
    expect(err3.message).toContain('HTTP 400');
  });

  it('wrong credentials (Twilio 401) are a 502 that does not leak the token', async () => {
    const err = await rejection(twilioTelephony(config({ TWILIO_AUTH_TOKEN: 'wrong-token-value' })).placeCall(CALL));
    expect(err.status).toBe(502);
    expect(err.message).toContain('HTTP 401');
    expect(err.message).not.toContain('wrong-token-value');
  });

  it("Twilio's 500 becomes 502", async () => {
    mode = 'twilio500';
    const err = await rejection(twilioTelephony(config()).placeCall(CALL));
    expect(err.status).toBe(502);
    expect(err.code).toBe('upstream_failed');
    expect(err.message).toContain('HTTP 500');
  });

  it('invalid JSON or a missing call sid in a 201 becomes 502', async () => {
    mode = 'badJson';
    const err = await rejection(twilioTelephony(config()).placeCall(CALL));
    expect(err.status).toBe(502);
    expect(err.message).toContain('invalid JSON');
    mode = 'noSid';
    const err2 = await rejection(twilioTelephony(config()).placeCall(CALL));
    expect(err2.status).toBe(502);
    expect(err2.message).toContain('call sid');
  });

  it('an unreachable Twilio becomes 502', async () => {
    // A port that was just bound and released: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const err = await rejection(twilioTelephony(config({ TWILIO_API_BASE: `http://127.0.0.1:${port}` })).placeCall(CALL));
    expect(err.status).toBe(502);
    expect(err.message).toContain('could not reach Twilio');
  });

  it('aborts the request after 10 s, maps that to 502, and leaves no timer behind an answered one', async () => {
    await expectTenSecondDeadline('Twilio', (fetchFn) => twilioTelephony(config(), fetchFn).placeCall(CALL));
  });
});
