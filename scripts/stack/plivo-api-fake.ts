import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';

/** One request the fake received. */
export interface RecordedPlivoRequest {
  method: string;
  path: string;
  authorization: string;
  body: Record<string, unknown>;
  /** The body's fields as string pairs (a value that is not a string is JSON-encoded); [] for none. */
  form: [string, string][];
  /** What the fake answered (JSON), so a simulated callee can learn the id of a call it placed. */
  response?: unknown;
}

/**
 * A call the fake knows. One it placed is known by its request_uuid both as a queued request and
 * as a call (Plivo gives a single-destination call's CallUUID the request_uuid's value); one
 * declared through `POST /__calls` by whichever of the two ids it was given.
 */
interface FakeCall {
  callUuid?: string | undefined;
  requestUuid?: string | undefined;
}

/**
 * A protocol-level fake of Plivo's Call API, from Plivo's documented formats, with HTTP basic auth
 * (auth id : auth token; 401 otherwise) under `/v1/Account/{auth_id}/`:
 * - "make a call", `POST Call/` with a JSON body (from, to, answer_url, answer_method,
 *   hangup_url...), answered 201 `{ message: "call fired", request_uuid, api_id }`. A `to` of
 *   15005550001 is answered 400 with Plivo's `{ api_id, error }`.
 * - "hang up a call", `DELETE Call/{call_uuid}/`, and "cancel a queued call",
 *   `DELETE Request/{request_uuid}/`: 204 with no body, and the call is over.
 * - "transfer a call", `POST Call/{call_uuid}/` with a JSON body (`legs` aleg, bleg or both;
 *   `aleg_url` required for aleg and both; `aleg_method` GET or POST): 202
 *   `{ message: "call transferred", api_id }`; 400 for missing or invalid arguments.
 * A call that is over, or that the fake never knew, is 404 `{ api_id, error: "not found" }`.
 * - `GET /__requests` returns every other request received, in order, for assertions and for a
 *   caller simulator to learn that a call was hung up or transferred.
 * - `POST /__calls` (JSON: `call_uuid` and/or `request_uuid`) declares a call the fake did not
 *   place: a simulated inbound call (call_uuid), or an outbound call still queued (request_uuid
 *   only). It is not part of Plivo's API and is not recorded.
 */
export async function startFakePlivoApi(credentials: { authId: string; authToken: string }, port = 0): Promise<{ url: string; server: Server }> {
  const seen: RecordedPlivoRequest[] = [];
  const calls: FakeCall[] = [];
  const expected = `Basic ${Buffer.from(`${credentials.authId}:${credentials.authToken}`).toString('base64')}`;
  const server = createServer(async (req, res) => {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://x');
    let logged: RecordedPlivoRequest | undefined;
    const json = (status: number, value: unknown) => {
      if (logged) logged.response = value;
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(value));
    };
    if (url.pathname === '/__requests') return json(200, seen);
    const apiId = randomUUID();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(raw || '{}') as Record<string, unknown>;
    } catch {
      return json(400, { api_id: apiId, error: 'invalid JSON body' });
    }
    const str = (name: string) => (typeof body[name] === 'string' ? (body[name] as string) : '');
    if (url.pathname === '/__calls' && req.method === 'POST') {
      if (!str('call_uuid') && !str('request_uuid')) return json(400, { error: 'call_uuid or request_uuid is required' });
      calls.push({ callUuid: str('call_uuid') || undefined, requestUuid: str('request_uuid') || undefined });
      return json(201, { call_uuid: str('call_uuid'), request_uuid: str('request_uuid') });
    }
    logged = { method: req.method ?? '', path: url.pathname, authorization: req.headers.authorization ?? '', body, form: pairs(body) };
    seen.push(logged);

    const route = /^\/v1\/Account\/([^/]+)\/(Call|Request)\/(?:([^/]+)\/)?$/.exec(url.pathname);
    const notFound = () => json(404, { api_id: apiId, error: 'not found' });
    if (!route) return notFound();
    if (route[1] !== credentials.authId || req.headers.authorization !== expected) return json(401, { api_id: apiId, error: 'authentication failed' });
    const [, , resource, rawId] = route;
    const id = rawId === undefined ? undefined : decodeURIComponent(rawId);

    if (resource === 'Call' && id === undefined && req.method === 'POST') {
      for (const field of ['from', 'to', 'answer_url']) {
        if (typeof body[field] !== 'string' || body[field] === '') return json(400, { api_id: apiId, error: `${field} parameter is required` });
      }
      if (String(body.to).replace(/^\+/, '') === '15005550001') return json(400, { api_id: apiId, error: 'invalid destination number' });
      const requestUuid = randomUUID();
      calls.push({ callUuid: requestUuid, requestUuid });
      return json(201, { message: 'call fired', request_uuid: requestUuid, api_id: apiId });
    }
    if (id === undefined) return notFound();
    const index = calls.findIndex((c) => (resource === 'Call' ? c.callUuid === id : c.requestUuid === id));
    if (index < 0) return notFound();

    if (req.method === 'DELETE') {
      calls.splice(index, 1);
      res.writeHead(204).end();
      return;
    }
    if (req.method === 'POST' && resource === 'Call') {
      const legs = str('legs');
      if (legs !== 'aleg' && legs !== 'bleg' && legs !== 'both') return json(400, { api_id: apiId, error: 'legs must be aleg, bleg or both' });
      if (legs !== 'bleg' && !str('aleg_url')) return json(400, { api_id: apiId, error: 'aleg_url is required' });
      const method = str('aleg_method') || 'POST';
      if (method !== 'GET' && method !== 'POST') return json(400, { api_id: apiId, error: 'aleg_method must be GET or POST' });
      return json(202, { message: 'call transferred', api_id: apiId });
    }
    return notFound();
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const addr = server.address();
  return { url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`, server };
}

/** Body fields as string pairs: strings as they are, other values JSON-encoded. */
function pairs(body: Record<string, unknown>): [string, string][] {
  return Object.entries(body).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let s = '';
    req.on('data', (c: Buffer) => (s += c.toString()));
    req.on('end', () => resolve(s));
  });
}
