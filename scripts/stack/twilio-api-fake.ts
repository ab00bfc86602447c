import { createServer, type IncomingMessage, type Server } from 'node:http';

/** One request the fake received, as the edge sent it. */
export interface RecordedRequest {
  method: string;
  path: string;
  authorization: string;
  form: [string, string][];
}

/**
 * A protocol-level fake of Twilio's REST API (Calls.json, Tokens.json), from Twilio's documented
 * request and response formats. `GET /__requests` returns what it received, for assertions.
 * A `To` of +15005550001 is answered with Twilio's documented 400 for an invalid number.
 */
export async function startFakeTwilioApi(): Promise<{ url: string; server: Server }> {
  const seen: RecordedRequest[] = [];
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/__requests') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(seen));
      return;
    }
    const form = [...new URLSearchParams(body).entries()];
    seen.push({ method: req.method ?? '', path: url.pathname, authorization: req.headers.authorization ?? '', form });
    const calls = /^\/2010-04-01\/Accounts\/(AC\w+)\/Calls\.json$/.exec(url.pathname);
    if (req.method === 'POST' && calls) {
      const to = new URLSearchParams(body).get('To');
      if (to === '+15005550001') {
        res.writeHead(400, { 'Content-Type': 'application/json' }).end(
          JSON.stringify({ code: 21211, message: "The 'To' number +15005550001 is not a valid phone number.", more_info: 'https://www.twilio.com/docs/errors/21211', status: 400 }),
        );
        return;
      }
      const sid = 'CA' + [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
      res.writeHead(201, { 'Content-Type': 'application/json' }).end(
        JSON.stringify({ sid, account_sid: calls[1], to, from: new URLSearchParams(body).get('From'), status: 'queued', direction: 'outbound-api', api_version: '2010-04-01', uri: `/2010-04-01/Accounts/${calls[1]}/Calls/${sid}.json` }),
      );
      return;
    }
    res.writeHead(404, { 'Content-Type': 'application/json' }).end(JSON.stringify({ code: 20404, message: 'The requested resource was not found', status: 404 }));
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
