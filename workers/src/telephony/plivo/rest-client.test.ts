import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { expectTenSecondDeadline } from '../rest-call.test-support.ts';
import type { Config } from '../../config.ts';
import { HttpError } from '../../errors.ts';
import { plivoTelephony } from './rest-client.ts';

/**
 * A protocol-level fake of Plivo's "make a call" endpoint on 127.0.0.1, behaving as Plivo
 * documents it: `POST /v1/Account/{auth_id}/Call/`, HTTP Basic auth with the auth id and token, a
 * JSON body; 201 `{"api_id", "message": "call fired", "request_uuid"}`, or an error JSON
 * `{"api_id", "error"}`. Every request is recorded for exact assertions.
 */
const AUTH_ID = 'MAXXXXXXXXXXXXXXXXXX';
const AUTH_TOKEN = 'tok-s3cr3t-ü';
const REQUEST_UUID = '9834029e-58b6-11e1-b8b7-a5bd0e4e126f';
const API_ID = '97ceeb52-58b6-11e1-86da-77300b68f8bb';

interface Recorded {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

type Mode = 'ok' | 'plivo400' | 'objectError400' | 'plain400' | 'plivo500' | 'badJson' | 'noUuid' | 'longError';

let server: Server;
let base: string;
let mode: Mode = 'ok';
const requests: Recorded[] = [];

const plivoError = (error: unknown) => JSON.stringify({ api_id: API_ID, error });

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
      const match = /^\/v1\/Account\/([^/]+)\/Call\/$/.exec(req.url ?? '');
      if (!match || req.method !== 'POST') return json(404, plivoError('not found'));
      const expectedAuth = `Basic ${Buffer.from(`${AUTH_ID}:${AUTH_TOKEN}`, 'utf8').toString('base64')}`;
      if (req.headers.authorization !== expectedAuth || match[1] !== AUTH_ID) {
        res.writeHead(401, { 'Content-Type': 'text/html' });
        return res.end('Could not verify your access level for that URL.');
      }
      let call: Record<string, unknown>;
      try {
        call = JSON.parse(body) as Record<string, unknown>;
      } catch {
        return json(400, plivoError('invalid JSON'));
      }
      if (!call['from'] || !call['to'] || !call['answer_url']) return json(400, plivoError('Missing mandatory parameters'));
      if (call['to'] === '999') return json(400, plivoError('invalid destination number'));
      switch (mode) {
        case 'ok':
          return json(201, JSON.stringify({ api_id: API_ID, message: 'call fired', request_uuid: REQUEST_UUID }));
        case 'plivo400':
          return json(400, plivoError('from number is not a valid caller ID'));
        case 'objectError400':
          return json(400, plivoError({ to: ['invalid'] }));
        case 'plain400':
          res.writeHead(400, { 'Content-Type': 'text/html' });
          return res.end('<html>Bad Request</html>');
        case 'longError':
          return json(400, plivoError('e'.repeat(5000)));
        case 'plivo500':
          return json(500, plivoError('internal error'));
        case 'badJson':
          res.writeHead(201, { 'Content-Type': 'application/json' });
          return res.end('{"request_uuid": "98');
        case 'noUuid':
          return json(201, JSON.stringify({ api_id: API_ID, message: 'call fired', request_uuid: ['a', 'b'] }));
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
    PLIVO_AUTH_ID: AUTH_ID,
    PLIVO_AUTH_TOKEN: AUTH_TOKEN,
    PLIVO_API_BASE: base,
    PLIVO_FROM: '+14155550111',
    ...overrides,
  } as Config;
}

const CALL = {
  to: '+14155550100',
  voiceUrl: 'https://edge.example/plivo/answer',
  statusCallbackUrl: 'https://edge.example/plivo/hangup',
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

describe('plivoTelephony().placeCall', () => {
  it('is named plivo, makes exactly the documented request and returns the request_uuid', async () => {
    const provider = plivoTelephony(config());
    expect(provider.name).toBe('plivo');
    const { callSid } = await provider.placeCall(CALL);
    expect(callSid).toBe(REQUEST_UUID);
    expect(requests).toHaveLength(1);
    const r = requests[0]!;
    expect(r.method).toBe('POST');
    expect(r.path).toBe(`/v1/Account/${AUTH_ID}/Call/`);
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers.accept).toBe('application/json');
    expect(JSON.parse(r.body)).toEqual({
      from: '14155550111',
      to: '14155550100',
      answer_url: 'https://edge.example/plivo/answer',
      answer_method: 'POST',
      hangup_url: 'https://edge.example/plivo/hangup',
      hangup_method: 'POST',
    });
  });

  it('uses the request `from` over PLIVO_FROM, keeps SIP URIs, and tolerates a trailing slash on the API base', async () => {
    await plivoTelephony(config({ PLIVO_API_BASE: `${base}/` })).placeCall({ ...CALL, to: 'sip:alice@phone.plivo.com', from: '14155550133' });
    expect(requests[0]!.path).toBe(`/v1/Account/${AUTH_ID}/Call/`);
    expect(JSON.parse(requests[0]!.body)).toMatchObject({ from: '14155550133', to: 'sip:alice@phone.plivo.com' });
  });

  it('400 without any from, or for a bulk-call `<` list, before calling Plivo', async () => {
    const err = await rejection(plivoTelephony(config({ PLIVO_FROM: '' })).placeCall(CALL));
    expect(err.status).toBe(400);
    expect(err.message).toBe('from is required: set PLIVO_FROM or pass "from"');
    const bulk = await rejection(plivoTelephony(config()).placeCall({ ...CALL, to: '14155550100<14155550101' }));
    expect(bulk.status).toBe(400);
    expect(bulk.message).toContain('single number');
    expect(requests).toHaveLength(0);
  });

  it('500 misconfigured without credentials', async () => {
    const err = await rejection(plivoTelephony(config({ PLIVO_AUTH_TOKEN: '' })).placeCall(CALL));
    expect(err.status).toBe(500);
    expect(err.message).toContain('PLIVO_AUTH_TOKEN');
    const err2 = await rejection(plivoTelephony(config({ PLIVO_AUTH_ID: '' })).placeCall(CALL));
    expect(err2.status).toBe(500);
    expect(err2.message).toContain('PLIVO_AUTH_ID');
    expect(requests).toHaveLength(0);
  });

  it("Plivo's 400 becomes our 400 carrying Plivo's error, capped", async () => {
    const err = await rejection(plivoTelephony(config()).placeCall({ ...CALL, to: '999' }));
    expect(err.status).toBe(400);
    expect(err.code).toBe('bad_request');
    expect(err.message).toBe('Plivo: invalid destination number');

    mode = 'plivo400';
    expect((await rejection(plivoTelephony(config()).placeCall(CALL))).message).toBe('Plivo: from number is not a valid caller ID');

    mode = 'objectError400';
    expect((await rejection(plivoTelephony(config()).placeCall(CALL))).message).toBe('Plivo: {"to":["invalid"]}');

    mode = 'plain400';
    const plain = await rejection(plivoTelephony(config()).placeCall(CALL));
    expect(plain.status).toBe(400);
    expect(plain.message).toBe('Plivo rejected the call request (HTTP 400)');

    mode = 'longError';
    expect((await rejection(plivoTelephony(config()).placeCall(CALL))).message).toBe(`Plivo: ${'e'.repeat(300)}`);
  });

  it('wrong credentials (Plivo 401) are a 502 that does not leak the token', async () => {
    const err = await rejection(plivoTelephony(config({ PLIVO_AUTH_TOKEN: 'wrong-token-value' })).placeCall(CALL));
    expect(err.status).toBe(502);
    expect(err.message).toBe('Plivo failed to place the call: HTTP 401');
    expect(err.message).not.toContain('wrong-token-value');
  });

  it("Plivo's 500 becomes 502", async () => {
    mode = 'plivo500';
    const err = await rejection(plivoTelephony(config()).placeCall(CALL));
    expect(err.status).toBe(502);
    expect(err.code).toBe('upstream_failed');
    expect(err.message).toBe('Plivo failed to place the call: HTTP 500 (Plivo: internal error)');
  });

  it('invalid JSON or a missing request_uuid in a 201 becomes 502', async () => {
    mode = 'badJson';
    const err = await rejection(plivoTelephony(config()).placeCall(CALL));
    expect(err.status).toBe(502);
    expect(err.message).toContain('invalid JSON');
    mode = 'noUuid';
    const err2 = await rejection(plivoTelephony(config()).placeCall(CALL));
    expect(err2.status).toBe(502);
    expect(err2.message).toContain('request_uuid');
  });

  it('an unreachable Plivo becomes 502', async () => {
    // A port that was just bound and released: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const err = await rejection(plivoTelephony(config({ PLIVO_API_BASE: `http://127.0.0.1:${port}` })).placeCall(CALL));
    expect(err.status).toBe(502);
    expect(err.message).toBe('could not reach Plivo to place the call');
  });

  it('aborts the request after 10 s, maps that to 502, and leaves no timer behind an answered one', async () => {
    await expectTenSecondDeadline('Plivo', (fetchFn) => plivoTelephony(config(), fetchFn).placeCall(CALL));
  });
});
