import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';

/** One request the fake received. */
export interface RecordedTelnyxRequest {
  method: string;
  path: string;
  authorization: string;
  contentType: string;
  /** The body's fields, from JSON or a form. */
  body: Record<string, unknown>;
}

/**
 * A protocol-level fake of Telnyx's TeXML Calls API, from Telnyx's documented formats:
 * `POST /v2/texml/Accounts/{account_sid}/Calls` (answers the call object: call_sid, from, to,
 * status "queued") and `POST /v2/texml/calls/{application_id}` (the same inside `data`), both
 * with `Authorization: Bearer <API key>` and a JSON or form body with To, From, Url,
 * StatusCallback... `GET /__requests` returns what it received. A `To` of +15005550001 is
 * answered 422 with Telnyx's error list; a missing Bearer key 401.
 */
export async function startFakeTelnyxApi(): Promise<{ url: string; server: Server }> {
  const seen: RecordedTelnyxRequest[] = [];
  const server = createServer(async (req, res) => {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://x');
    const json = (status: number, value: unknown) => res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(value));
    if (url.pathname === '/__requests') return json(200, seen);
    const contentType = req.headers['content-type'] ?? '';
    let body: Record<string, unknown> = {};
    try {
      body = contentType.includes('json') ? (JSON.parse(raw || '{}') as Record<string, unknown>) : Object.fromEntries(new URLSearchParams(raw));
    } catch {
      return json(400, { errors: [{ code: '10002', title: 'Invalid request', detail: 'The request body is not valid JSON.' }] });
    }
    seen.push({ method: req.method ?? '', path: url.pathname, authorization: req.headers.authorization ?? '', contentType, body });
    const accounts = /^\/v2\/texml\/Accounts\/([^/]+)\/Calls$/.exec(url.pathname);
    const apps = /^\/v2\/texml\/calls\/([^/]+)$/.exec(url.pathname);
    if (req.method !== 'POST' || (!accounts && !apps)) return json(404, { errors: [{ code: '10005', title: 'Resource not found', detail: 'The requested resource or URL could not be found.' }] });
    if (!/^Bearer \S+$/.test(req.headers.authorization ?? '')) {
      return json(401, { errors: [{ code: '10009', title: 'Authentication failed', detail: 'The API key is missing or invalid.' }] });
    }
    const to = typeof body.To === 'string' ? body.To : '';
    const from = typeof body.From === 'string' ? body.From : '';
    if (!to || !from) return json(422, { errors: [{ code: '10015', title: 'Invalid value', detail: 'To and From are required.', source: { pointer: to ? '/From' : '/To' } }] });
    if (to === '+15005550001') {
      return json(422, { errors: [{ code: '10016', title: 'Invalid phone number', detail: `The 'To' number ${to} is not a valid phone number.`, source: { pointer: '/To' } }] });
    }
    const call = { call_sid: `v3:${randomBytes(39).toString('base64url')}`, from, to, status: 'queued' };
    return json(200, accounts ? call : { data: call });
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
