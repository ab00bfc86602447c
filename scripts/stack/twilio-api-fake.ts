import { createServer, type IncomingMessage, type Server } from 'node:http';

/** One request the fake received, as the edge sent it. */
export interface RecordedRequest {
  method: string;
  path: string;
  authorization: string;
  form: [string, string][];
  /** What the fake answered (JSON), so a simulated callee can learn the id of a call it placed. */
  response?: unknown;
}

type CallStatus = 'queued' | 'in-progress' | 'completed' | 'canceled';

/** A call the fake knows: one it placed, or one declared through `POST /__calls`. */
interface FakeCall {
  sid: string;
  accountSid: string;
  to: string;
  from: string;
  status: CallStatus;
}

const ENDED: ReadonlySet<CallStatus> = new Set(['completed', 'canceled']);

/**
 * A protocol-level fake of Twilio's REST API, from Twilio's documented request and response formats:
 * - "create call", `POST /2010-04-01/Accounts/{AccountSid}/Calls.json` (form): 201 with the call
 *   resource, `status: queued`. A `To` of +15005550001 is answered with Twilio's documented 400
 *   for an invalid number (21211).
 * - "update call", `POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json` (form), Basic
 *   auth whose user is the path's account: 200 with the call resource. `Status=completed` ends
 *   the call; `Status=canceled` ends it unless it is in progress (Twilio leaves those alone);
 *   either on an ended call changes nothing (200). `Url` (with `Method` GET or POST) redirects a
 *   live call; on an ended one it is Twilio's 400 21220 (not in progress). A call the fake does
 *   not know is Twilio's 404 (20404); a missing or foreign Basic auth 401 (20003).
 * - `GET /__requests` returns every other request received, in order, for assertions and for a
 *   caller simulator to learn that a call was hung up or redirected.
 * - `POST /__calls` (form or JSON: `CallSid`, optional `Status` `queued` or `in-progress`, default
 *   in-progress) declares a call the fake did not place, such as a simulated inbound call, so that
 *   it can be hung up or redirected. It is not part of Twilio's API and is not recorded.
 */
export async function startFakeTwilioApi(port = 0): Promise<{ url: string; server: Server }> {
  const seen: RecordedRequest[] = [];
  const calls = new Map<string, FakeCall>();
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://x');
    let logged: RecordedRequest | undefined;
    const json = (status: number, value: unknown) => {
      if (logged) logged.response = value;
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(value));
    };
    const twilioError = (status: number, code: number, message: string) =>
      json(status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
    if (url.pathname === '/__requests') return json(200, seen);
    if (url.pathname === '/__calls' && req.method === 'POST') {
      const fields = fieldsOf(req.headers['content-type'] ?? '', body);
      const sid = fields.get('CallSid') ?? '';
      const status = fields.get('Status') === 'queued' ? 'queued' : 'in-progress';
      if (!sid) return json(400, { error: 'CallSid is required' });
      calls.set(sid, { sid, accountSid: fields.get('AccountSid') ?? '', to: fields.get('To') ?? '', from: fields.get('From') ?? '', status });
      return json(201, { sid, status });
    }
    const form = new URLSearchParams(body);
    logged = { method: req.method ?? '', path: url.pathname, authorization: req.headers.authorization ?? '', form: [...form.entries()] };
    seen.push(logged);

    const create = /^\/2010-04-01\/Accounts\/(AC\w+)\/Calls\.json$/.exec(url.pathname);
    if (req.method === 'POST' && create) {
      const to = form.get('To') ?? '';
      if (to === '+15005550001') return twilioError(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
      const sid = 'CA' + [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
      const call: FakeCall = { sid, accountSid: create[1]!, to, from: form.get('From') ?? '', status: 'queued' };
      calls.set(sid, call);
      return json(201, resource(call));
    }

    const update = /^\/2010-04-01\/Accounts\/(AC\w+)\/Calls\/([^/]+)\.json$/.exec(url.pathname);
    if (req.method === 'POST' && update) {
      const accountSid = update[1]!;
      if (basicUser(req.headers.authorization) !== accountSid) return twilioError(401, 20003, 'Authenticate');
      const call = calls.get(decodeURIComponent(update[2]!));
      if (!call || (call.accountSid && call.accountSid !== accountSid)) return twilioError(404, 20404, 'The requested resource was not found');
      const status = form.get('Status');
      const redirectTo = form.get('Url');
      if (status !== null) {
        if (status !== 'completed' && status !== 'canceled') return twilioError(400, 20001, `Invalid Status: ${status}`);
        if (!ENDED.has(call.status) && (status === 'completed' || call.status !== 'in-progress')) call.status = status;
        return json(200, resource(call));
      }
      if (redirectTo !== null) {
        const method = form.get('Method') ?? 'POST';
        if (method !== 'GET' && method !== 'POST') return twilioError(400, 20001, `Invalid Method: ${method}`);
        if (ENDED.has(call.status)) return twilioError(400, 21220, 'Call is not in-progress. Cannot redirect.');
        return json(200, resource(call));
      }
      return twilioError(400, 20001, 'Nothing to update: pass Status, Url or Twiml');
    }
    return twilioError(404, 20404, 'The requested resource was not found');
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const addr = server.address();
  return { url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`, server };
}

/** The call resource's fields the edge and the tests look at. */
function resource(call: FakeCall) {
  return {
    sid: call.sid,
    account_sid: call.accountSid,
    to: call.to,
    from: call.from,
    status: call.status,
    direction: 'outbound-api',
    api_version: '2010-04-01',
    uri: `/2010-04-01/Accounts/${call.accountSid}/Calls/${call.sid}.json`,
  };
}

/** The user of a Basic `Authorization` header, or '' when there is none. */
function basicUser(header: string | undefined): string {
  const m = /^Basic (\S+)$/.exec(header ?? '');
  if (!m) return '';
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  return decoded.slice(0, Math.max(0, decoded.indexOf(':')));
}

/** A form or JSON body's top-level fields as strings. */
function fieldsOf(contentType: string, body: string): Map<string, string> {
  if (!contentType.includes('json')) return new Map(new URLSearchParams(body));
  try {
    const value = JSON.parse(body || '{}') as Record<string, unknown>;
    return new Map(Object.entries(value).map(([k, v]) => [k, String(v)]));
  } catch {
    return new Map();
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let s = '';
    req.on('data', (c: Buffer) => (s += c.toString()));
    req.on('end', () => resolve(s));
  });
}
