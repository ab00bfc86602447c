import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Protocol-level fakes of the TURN providers' REST endpoints, built from their documented request
 * and response formats, on 127.0.0.1 with an ephemeral port. Each records every request it gets.
 * (Named `.test-helper.ts` so vitest does not collect it as a test file.)
 */

/** One request as the fake received it. */
export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * What the endpoint does once the request is valid:
 * - `documented`: the provider's documented success answer;
 * - `legacy`: (Cloudflare) `iceServers` as one object, as the older `credentials/generate` did;
 * - `hang`: accept the request and never answer;
 * - `hang-body`: send status and headers and part of the body, then stall;
 * - `{status, body}`: a raw answer.
 */
export type Behaviour = 'documented' | 'legacy' | 'hang' | 'hang-body' | { status: number; body: string; contentType?: string };

export interface FakeUpstream {
  base: string;
  seen: SeenRequest[];
  /** The TURN username and credential the fake handed out last. */
  issued: { username: string; credential: string } | null;
  close(): Promise<void>;
}

type Handler = (req: SeenRequest) => { status: number; body: string; contentType?: string } | 'hang' | 'hang-body';

async function startFake(handler: Handler): Promise<FakeUpstream> {
  const seen: SeenRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const got: SeenRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      seen.push(got);
      const out = handler(got);
      if (out === 'hang') return;
      if (out === 'hang-body') {
        res.writeHead(201, { 'Content-Type': 'application/json' });
        res.write('{"iceServers": [');
        return;
      }
      res.writeHead(out.status, { 'Content-Type': out.contentType ?? 'application/json' }).end(out.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const fake: FakeUpstream = {
    base: `http://127.0.0.1:${port}`,
    seen,
    issued: null,
    close: () =>
      new Promise<void>((resolve) => {
        // Hung requests keep their sockets open; cut them so close() returns.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return fake;
}

const json = (status: number, body: unknown) => ({ status, body: JSON.stringify(body) });
const randomToken = () => crypto.randomUUID().replaceAll('-', '');

/**
 * Cloudflare Realtime TURN key API: `POST /v1/turn/keys/{keyId}/credentials/generate-ice-servers`
 * with `Authorization: Bearer <key API token>`, `Content-Type: application/json`, `{"ttl": n}`;
 * answers 201 with the documented `iceServers` array (STUN entry, then TURN entry with credentials,
 * including the `:53` URLs). Bad token: 401; wrong body: 400; unknown key or path: 404.
 */
export async function startFakeCloudflareTurn(opts: { keyId: string; token: string; behaviour?: Behaviour }): Promise<FakeUpstream> {
  const behaviour = opts.behaviour ?? 'documented';
  const fake: FakeUpstream = await startFake((req) => {
    const m = /^\/v1\/turn\/keys\/([^/]+)\/credentials\/generate-ice-servers$/.exec(req.path);
    if (req.method !== 'POST' || !m) return json(404, { error: 'not found' });
    if (decodeURIComponent(m[1]!) !== opts.keyId) return json(404, { error: 'TURN key not found' });
    if (req.headers.authorization !== `Bearer ${opts.token}`) return json(401, { error: 'unauthorized' });
    if (!String(req.headers['content-type']).startsWith('application/json')) return json(400, { error: 'expected JSON' });
    let ttl: unknown;
    try {
      ttl = (JSON.parse(req.body) as { ttl?: unknown }).ttl;
    } catch {
      return json(400, { error: 'invalid JSON' });
    }
    if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl <= 0) return json(400, { error: 'ttl must be a positive integer' });
    if (typeof behaviour === 'object' || behaviour === 'hang' || behaviour === 'hang-body') return behaviour;
    const issued = { username: randomToken(), credential: randomToken() };
    fake.issued = issued;
    const turn = {
      urls: [
        'turn:turn.cloudflare.com:3478?transport=udp',
        'turn:turn.cloudflare.com:53?transport=udp',
        'turn:turn.cloudflare.com:3478?transport=tcp',
        'turn:turn.cloudflare.com:80?transport=tcp',
        'turns:turn.cloudflare.com:5349?transport=tcp',
        'turns:turn.cloudflare.com:443?transport=tcp',
      ],
      ...issued,
    };
    if (behaviour === 'legacy') return json(201, { iceServers: turn });
    return json(201, {
      iceServers: [{ urls: ['stun:stun.cloudflare.com:3478', 'stun:stun.cloudflare.com:53'] }, turn],
    });
  });
  return fake;
}

/**
 * Twilio Network Traversal Service: `POST /2010-04-01/Accounts/{AccountSid}/Tokens.json` with HTTP
 * Basic AccountSid:AuthToken and a form body (`Ttl` optional, seconds, at most 86400); answers 201
 * with the documented Token resource (`ice_servers` entries carry `url` and `urls` as strings, `ttl`
 * a string). Bad credentials: Twilio's 401 error 20003.
 */
export async function startFakeTwilioTokens(opts: { accountSid: string; authToken: string; behaviour?: Behaviour }): Promise<FakeUpstream> {
  const behaviour = opts.behaviour ?? 'documented';
  const fake: FakeUpstream = await startFake((req) => {
    const m = /^\/2010-04-01\/Accounts\/([^/]+)\/Tokens\.json$/.exec(req.path);
    if (req.method !== 'POST' || !m) return json(404, { code: 20404, message: 'The requested resource was not found', status: 404 });
    const expected = `Basic ${Buffer.from(`${opts.accountSid}:${opts.authToken}`).toString('base64')}`;
    if (m[1] !== opts.accountSid || req.headers.authorization !== expected) {
      return json(401, { code: 20003, message: 'Authenticate', more_info: 'https://www.twilio.com/docs/errors/20003', status: 401 });
    }
    if (!String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
      return json(400, { code: 20001, message: 'Unsupported content type', status: 400 });
    }
    const ttlRaw = new URLSearchParams(req.body).get('Ttl') ?? '86400';
    const ttl = Number(ttlRaw);
    if (!Number.isInteger(ttl) || ttl <= 0 || ttl > 86_400) {
      return json(400, { code: 20001, message: 'Ttl must be between 1 and 86400', status: 400 });
    }
    if (typeof behaviour === 'object' || behaviour === 'hang' || behaviour === 'hang-body') return behaviour;
    const issued = { username: randomToken(), credential: randomToken() };
    fake.issued = issued;
    const date = new Date().toUTCString().replace('GMT', '+0000');
    const turn = (url: string) => ({ url, username: issued.username, urls: url, credential: issued.credential });
    return json(201, {
      account_sid: opts.accountSid,
      date_created: date,
      date_updated: date,
      ice_servers: [
        { url: 'stun:global.stun.twilio.com:3478', urls: 'stun:global.stun.twilio.com:3478' },
        turn('turn:global.turn.twilio.com:3478?transport=udp'),
        turn('turn:global.turn.twilio.com:3478?transport=tcp'),
        turn('turn:global.turn.twilio.com:443?transport=tcp'),
      ],
      password: issued.credential,
      ttl: String(ttl),
      username: issued.username,
    });
  });
  return fake;
}
