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
  /** The same fields as string pairs (a JSON value that is not a string is JSON-encoded). */
  form: [string, string][];
  /** What the fake answered (JSON), so a simulated callee can learn the id of a call it placed. */
  response?: unknown;
}

/** A call the fake knows: one it placed, or one declared through `POST /__calls`. */
interface FakeCall {
  sid: string;
  accountSid: string;
  from: string;
  to: string;
}

const notFound = { errors: [{ code: '10005', title: 'Resource not found', detail: 'The requested resource or URL could not be found.' }] };

/**
 * A protocol-level fake of Telnyx's TeXML Calls API, from Telnyx's documented formats, all with
 * `Authorization: Bearer <API key>` (401 without) and a JSON or form body:
 * - "initiate a call": `POST /v2/texml/Accounts/{account_sid}/Calls` (answers the call object:
 *   call_sid, from, to, status "queued") and `POST /v2/texml/calls/{application_id}` (the same
 *   inside `data`), with To, From, Url, StatusCallback... A `To` of +15005550001 is answered 422
 *   with Telnyx's error list.
 * - "update call": `POST /v2/texml/Accounts/{account_sid}/Calls/{call_sid}` (a form, per the
 *   docs) answers 200 with the call resource; the deprecated
 *   `POST /v2/texml/calls/{call_sid}/update` (JSON) answers 200 `{"data": {"sid", "status":
 *   "accepted"}}`. `Status` `completed` (or `canceled`) ends the call; `Url` (with `Method` GET
 *   or POST) redirects it; anything else is 422. An ended call is forgotten: like a call the fake
 *   never knew, it is 404.
 * - `GET /__requests` returns every other request received, in order, for assertions and for a
 *   caller simulator to learn that a call was hung up or redirected.
 * - `POST /__calls` (JSON or form: `CallSid`, optional `AccountSid`) declares a call the fake did
 *   not place, such as a simulated inbound call. It is not part of Telnyx's API and is not recorded.
 */
export async function startFakeTelnyxApi(port = 0): Promise<{ url: string; server: Server }> {
  const seen: RecordedTelnyxRequest[] = [];
  const calls = new Map<string, FakeCall>();
  const server = createServer(async (req, res) => {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://x');
    let logged: RecordedTelnyxRequest | undefined;
    const json = (status: number, value: unknown) => {
      if (logged) logged.response = value;
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(value));
    };
    if (url.pathname === '/__requests') return json(200, seen);
    const contentType = req.headers['content-type'] ?? '';
    let body: Record<string, unknown> = {};
    try {
      body = contentType.includes('json') ? (JSON.parse(raw || '{}') as Record<string, unknown>) : Object.fromEntries(new URLSearchParams(raw));
    } catch {
      return json(400, { errors: [{ code: '10002', title: 'Invalid request', detail: 'The request body is not valid JSON.' }] });
    }
    const str = (name: string) => (typeof body[name] === 'string' ? (body[name] as string) : '');
    if (url.pathname === '/__calls' && req.method === 'POST') {
      if (!str('CallSid')) return json(400, { error: 'CallSid is required' });
      calls.set(str('CallSid'), { sid: str('CallSid'), accountSid: str('AccountSid'), from: str('From'), to: str('To') });
      return json(201, { call_sid: str('CallSid') });
    }
    logged = { method: req.method ?? '', path: url.pathname, authorization: req.headers.authorization ?? '', contentType, body, form: pairs(body) };
    seen.push(logged);

    const create = /^\/v2\/texml\/Accounts\/([^/]+)\/Calls$/.exec(url.pathname) ?? /^\/v2\/texml\/calls\/([^/]+)$/.exec(url.pathname);
    const update = /^\/v2\/texml\/Accounts\/([^/]+)\/Calls\/([^/]+)$/.exec(url.pathname);
    const legacyUpdate = /^\/v2\/texml\/calls\/([^/]+)\/update$/.exec(url.pathname);
    if (req.method !== 'POST' || (!create && !update && !legacyUpdate)) return json(404, notFound);
    if (!/^Bearer \S+$/.test(req.headers.authorization ?? '')) {
      return json(401, { errors: [{ code: '10009', title: 'Authentication failed', detail: 'The API key is missing or invalid.' }] });
    }

    if (update || legacyUpdate) {
      const sid = decodeURIComponent((update ? update[2] : legacyUpdate?.[1]) ?? '');
      const call = calls.get(sid);
      if (!call) return json(404, notFound);
      const status = str('Status');
      const redirectTo = str('Url');
      const method = str('Method') || 'POST';
      if (status && status !== 'completed' && status !== 'canceled') return json(422, invalid('Status', `Status must be completed, not ${status}.`));
      if (!status && !redirectTo) return json(422, invalid('Url', 'Pass Status or Url.'));
      if (redirectTo && method !== 'GET' && method !== 'POST') return json(422, invalid('Method', 'Method must be GET or POST.'));
      if (status) calls.delete(sid);
      if (legacyUpdate) return json(200, { data: { sid, status: 'accepted' } });
      const accountSid = decodeURIComponent(update![1]!);
      return json(200, {
        account_sid: accountSid,
        sid,
        from: call.from,
        to: call.to,
        status: status ? 'completed' : 'in-progress',
        uri: `/v2/texml/Accounts/${accountSid}/Calls/${sid}.json`,
      });
    }

    const to = str('To');
    const from = str('From');
    if (!to || !from) return json(422, { errors: [{ code: '10015', title: 'Invalid value', detail: 'To and From are required.', source: { pointer: to ? '/From' : '/To' } }] });
    if (to === '+15005550001') {
      return json(422, { errors: [{ code: '10016', title: 'Invalid phone number', detail: `The 'To' number ${to} is not a valid phone number.`, source: { pointer: '/To' } }] });
    }
    const call = { call_sid: `v3:${randomBytes(39).toString('base64url')}`, from, to, status: 'queued' };
    const accounts = url.pathname.startsWith('/v2/texml/Accounts/');
    calls.set(call.call_sid, { sid: call.call_sid, accountSid: accounts ? decodeURIComponent(create![1]!) : '', from, to });
    return json(200, accounts ? call : { data: call });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const addr = server.address();
  return { url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`, server };
}

/** Telnyx's 422 for one invalid field. */
function invalid(field: string, detail: string) {
  return { errors: [{ code: '10015', title: 'Invalid value', detail, source: { pointer: `/${field}` } }] };
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
