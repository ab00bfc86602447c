import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';

/** One request the fake received. */
export interface RecordedPlivoRequest {
  method: string;
  path: string;
  authorization: string;
  body: Record<string, unknown>;
}

/**
 * A protocol-level fake of Plivo's Call API, from Plivo's documented formats:
 * `POST /v1/Account/{auth_id}/Call/` with HTTP basic auth (auth id : auth token) and a JSON body
 * (from, to, answer_url, answer_method, hangup_url...), answered 201
 * `{ message: "call fired", request_uuid, api_id }`. `GET /__requests` returns what it received.
 * A `to` of 15005550001 is answered 400 with Plivo's `{ api_id, error }`; wrong credentials 401.
 */
export async function startFakePlivoApi(credentials: { authId: string; authToken: string }): Promise<{ url: string; server: Server }> {
  const seen: RecordedPlivoRequest[] = [];
  const expected = `Basic ${Buffer.from(`${credentials.authId}:${credentials.authToken}`).toString('base64')}`;
  const server = createServer(async (req, res) => {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://x');
    const json = (status: number, value: unknown) => res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(value));
    if (url.pathname === '/__requests') return json(200, seen);
    const apiId = randomUUID();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(raw || '{}') as Record<string, unknown>;
    } catch {
      return json(400, { api_id: apiId, error: 'invalid JSON body' });
    }
    seen.push({ method: req.method ?? '', path: url.pathname, authorization: req.headers.authorization ?? '', body });
    const call = /^\/v1\/Account\/([^/]+)\/Call\/$/.exec(url.pathname);
    if (req.method !== 'POST' || !call) return json(404, { api_id: apiId, error: 'not found' });
    if (call[1] !== credentials.authId || req.headers.authorization !== expected) return json(401, { api_id: apiId, error: 'authentication failed' });
    for (const field of ['from', 'to', 'answer_url']) {
      if (typeof body[field] !== 'string' || body[field] === '') return json(400, { api_id: apiId, error: `${field} parameter is required` });
    }
    if (String(body.to).replace(/^\+/, '') === '15005550001') return json(400, { api_id: apiId, error: 'invalid destination number' });
    return json(201, { message: 'call fired', request_uuid: randomUUID(), api_id: apiId });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return { url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`, server };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let s = '';
    req.on('data', (c: Buffer) => (s += c.toString()));
    req.on('end', () => resolve(s));
  });
}
