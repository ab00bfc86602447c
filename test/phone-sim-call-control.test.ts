import { createHmac, createPublicKey, verify } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { waitForPlacedCall } from '../scripts/phone/answer.ts';
import { simulateCall } from '../scripts/phone/caller.ts';
import type { DialOutcome, Provider } from '../scripts/phone/providers/types.ts';
import { LOCAL_DEFAULTS } from '../scripts/stack/config.ts';
import { startFakePlivoApi } from '../scripts/stack/plivo-api-fake.ts';
import { startFakeTelnyxApi } from '../scripts/stack/telnyx-api-fake.ts';
import { startFakeTwilioApi } from '../scripts/stack/twilio-api-fake.ts';

/**
 * The provider's side of REST-driven call changes, for Twilio, Telnyx and Plivo, against a small
 * in-test edge (each provider's signature checked independently) and an in-test request log in
 * the fakes' `/__requests` shapes: the voice URL (query kept) and status callback URL, a hang-up
 * and a redirect through the REST API, `<Dial>` with its action and outcome, and `--answer`'s
 * wait for a placed call.
 */
const PUBLIC = 'https://edge.example.test';
const TW_AUTH = 'test-auth-token';
const PLIVO_TOKEN = LOCAL_DEFAULTS.PLIVO_AUTH_TOKEN!;
const telnyxPublic = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(LOCAL_DEFAULTS.TELNYX_PUBLIC_KEY!, 'base64').toString('base64url') }, format: 'jwk' });
const SIDS: Record<Provider, string> = { twilio: `CA${'3c'.repeat(16)}`, telnyx: 'v3:leg-two_Abc', plivo: '5b1f3c2e-0000-4000-8000-00000000ab12' };
const OUTCOME: Record<Provider, DialOutcome> = { twilio: 'busy', telnyx: 'no-answer', plivo: 'failed' };
const PROVIDERS: Provider[] = ['twilio', 'telnyx', 'plivo'];

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let b = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (b += c));
    req.on('end', () => resolve(b));
  });

/** Plivo V3, from its documented algorithm: base?sorted-query.sorted-body-params.nonce. */
function plivoOk(url: string, params: Record<string, string>, nonce: string, sig: string): boolean {
  const u = new URL(url);
  const query = [...u.searchParams].map(([k, v]) => `${k}=${v}`).sort().join('&');
  const body = Object.keys(params).sort().map((k) => k + params[k]).join('');
  const s = `${u.origin}${u.pathname}?${query}${query && body ? '.' : ''}${body}.${nonce}`;
  return createHmac('sha256', PLIVO_TOKEN).update(s).digest('base64') === sig;
}

function signatureOk(p: Provider, req: IncomingMessage, raw: string, params: Record<string, string>): boolean {
  const h = (n: string) => String(req.headers[n] ?? '');
  if (p === 'twilio') return twilio.validateRequest(TW_AUTH, h('x-twilio-signature'), `${PUBLIC}${req.url}`, params);
  if (p === 'telnyx') return verify(null, Buffer.from(`${h('telnyx-timestamp')}|${raw}`), telnyxPublic, Buffer.from(h('telnyx-signature-ed25519'), 'base64'));
  return plivoOk(`${PUBLIC}${req.url}`, params, h('x-plivo-signature-v3-nonce'), h('x-plivo-signature-v3'));
}

type Msg = Record<string, any>;
interface StreamRec { path: string; messages: Msg[]; closed: Promise<void> }
interface Edge { url: string; server: Server; hooks: Array<{ path: string; params: Record<string, string>; ok: boolean }>; streams: StreamRec[]; onStream: (i: number) => void }

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** The edge: `route(path)` answers markup, or null (204) for status callbacks. */
async function startEdge(p: Provider, route: (path: string) => string | null): Promise<Edge> {
  const wss = new WebSocketServer({ noServer: true });
  const edge: Edge = { url: '', server: createServer(), hooks: [], streams: [], onStream: () => {} };
  edge.server.on('request', async (req, res) => {
    const raw = await readBody(req);
    const params = Object.fromEntries(new URLSearchParams(raw));
    const ok = signatureOk(p, req, raw, params);
    edge.hooks.push({ path: req.url ?? '', params, ok });
    if (!ok) return res.writeHead(403).end();
    const xml = route(req.url ?? '');
    if (xml === null) return res.writeHead(204).end();
    res.writeHead(200, { 'Content-Type': 'text/xml' }).end(`<?xml version="1.0"?><Response>${xml}</Response>`);
  });
  edge.server.on('upgrade', (req, socket, head) =>
    wss.handleUpgrade(req, socket, head, (ws) => {
      let done = () => {};
      const rec: StreamRec = { path: req.url ?? '', messages: [], closed: new Promise<void>((r) => (done = r)) };
      const i = edge.streams.push(rec) - 1;
      ws.on('message', (d) => {
        const m = JSON.parse(d.toString()) as Msg;
        rec.messages.push(m);
        if (m.event === 'start') edge.onStream(i);
      });
      ws.on('close', () => done());
    }),
  );
  await new Promise<void>((r) => edge.server.listen(0, '127.0.0.1', r));
  edge.url = `http://127.0.0.1:${(edge.server.address() as AddressInfo).port}`;
  servers.push(edge.server);
  return edge;
}

/** A log served at /__requests, in the fakes' shapes. */
async function startApiLog(): Promise<{ url: string; entries: unknown[] }> {
  const entries: unknown[] = [];
  const server = createServer((req, res) => {
    if (req.url === '/__requests') return res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(entries));
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, entries };
}

const entry = (p: Provider, method: string, path: string, fields: Record<string, string>) =>
  p === 'twilio' ? { method, path, authorization: 'Basic eDp5', form: Object.entries(fields) } : { method, path, authorization: 'Bearer k', contentType: 'application/json', body: fields };
const hangupEntry = (p: Provider, sid: string) =>
  p === 'twilio' ? entry(p, 'POST', `/2010-04-01/Accounts/AC0/Calls/${sid}.json`, { Status: 'completed' })
  : p === 'telnyx' ? entry(p, 'POST', `/v2/texml/Accounts/acc/Calls/${encodeURIComponent(sid)}`, { Status: 'completed' })
  : entry(p, 'DELETE', `/v1/Account/MA0/Call/${sid}/`, {});
const redirectEntry = (p: Provider, sid: string, url: string) =>
  p === 'twilio' ? entry(p, 'POST', `/2010-04-01/Accounts/AC0/Calls/${sid}.json`, { Url: url, Method: 'POST' })
  : p === 'telnyx' ? entry(p, 'POST', `/v2/texml/Accounts/acc/Calls/${encodeURIComponent(sid)}`, { Url: url, Method: 'POST' })
  : entry(p, 'POST', `/v1/Account/MA0/Call/${sid}/`, { legs: 'aleg', aleg_url: url, aleg_method: 'POST' });
const createEntry = (p: Provider, url: string, status: string) =>
  p === 'twilio' ? entry(p, 'POST', '/2010-04-01/Accounts/AC0/Calls.json', { To: '+15550109999', From: '+15550100000', Url: url, StatusCallback: status })
  : p === 'telnyx' ? entry(p, 'POST', '/v2/texml/Accounts/acc/Calls', { To: '+15550109999', From: '+15550100000', Url: url, StatusCallback: status })
  : entry(p, 'POST', '/v1/Account/MA0/Call/', { to: '15550109999', from: '15550100000', answer_url: url, answer_method: 'POST', hangup_url: status });

const streamXml = (p: Provider, name: string) =>
  p === 'twilio' ? `<Connect><Stream url="wss://edge.example.test/media/${name}"><Parameter name="sessionId" value="s1"/></Stream></Connect>`
  : p === 'telnyx' ? `<Connect><Stream url="wss://edge.example.test/media/${name}" bidirectionalMode="rtp"/></Connect>`
  : `<Stream bidirectional="true" keepCallAlive="true" contentType="audio/x-mulaw;rate=8000">wss://edge.example.test/media/${name}</Stream>`;
const sayXml = (p: Provider, s: string) => (p === 'plivo' ? `<Speak>${s}</Speak>` : `<Say>${s}</Say>`);

const call = (p: Provider, extra: Partial<Parameters<typeof simulateCall>[0]>) =>
  simulateCall({ provider: p, baseUrl: extra.baseUrl!, publicBaseUrl: PUBLIC, authToken: TW_AUTH, plivoAuthToken: PLIVO_TOKEN, callSid: SIDS[p], audio: { samples: new Int16Array(800), sampleRate: 8000 }, hangupAtMs: 8000, ...extra });

describe.each(PROVIDERS)('REST-driven call changes as %s', (p) => {
  it('requests the voice URL with its query, signed as written, and ends the call on an API hang-up', async () => {
    const edge = await startEdge(p, (path) => (path.startsWith('/leg/voice') ? streamXml(p, 'one') : null));
    const api = await startApiLog();
    api.entries.push(hangupEntry(p, SIDS[p])); // before the call: not new, ignored
    edge.onStream = () => {
      setTimeout(() => api.entries.push(hangupEntry(p, p === 'twilio' ? `CA${'00'.repeat(16)}` : 'another-call')), 150);
      setTimeout(() => api.entries.push(hangupEntry(p, SIDS[p])), 700);
    };
    const r = await call(p, { baseUrl: edge.url, voiceUrl: `${PUBLIC}/leg/voice?conv=c_1&leg=2`, statusCallbackUrl: `${PUBLIC}/leg/status?leg=2`, providerApiUrl: api.url });
    expect(edge.hooks.map((h) => [h.path, h.ok])).toEqual([['/leg/voice?conv=c_1&leg=2', true], ['/leg/status?leg=2', true]]);
    expect(edge.hooks[1]!.params.CallStatus).toBe('completed');
    expect(r).toMatchObject({ connected: true, closedBy: 'provider', hungUpBy: 'api', streams: 1, statusCallback: { status: 204 } });
    expect(r.sentFrames).toBeGreaterThan(30); // the other call's hang-up did not end this one
    expect(r.sentFrames).toBeLessThan(60); // ended within ~100 ms polling of the request
    await edge.streams[0]!.closed;
    const last = edge.streams[0]!.messages.at(-1)!;
    if (p === 'plivo') expect(last.event).toBe('media'); // Plivo has no stop event: the socket closes
    else expect(last.event).toBe('stop');
  }, 15_000);

  it('ends the stream on an API redirect, plays the <Dial> there with its action, and connects the stream that answers', async () => {
    const dial = `<Dial action="/dial-done?x=1" timeout="20" callerId="+15550100000"><Number>+15550109999</Number></Dial>`;
    const edge = await startEdge(p, (path) => {
      if (path === `/${p}/voice`) return streamXml(p, 'one');
      if (path === '/transfer?to=human') return `${sayXml(p, 'Transferring you.')}${dial}`;
      if (path === '/dial-done?x=1') return streamXml(p, 'two');
      return null;
    });
    const api = await startApiLog();
    edge.onStream = (i) => setTimeout(() => api.entries.push(i === 0 ? redirectEntry(p, SIDS[p], `${PUBLIC}/transfer?to=human`) : hangupEntry(p, SIDS[p])), 300);
    const r = await call(p, { baseUrl: edge.url, providerApiUrl: api.url, dialOutcome: OUTCOME[p] });
    expect(edge.hooks.map((h) => [h.path, h.ok])).toEqual([[`/${p}/voice`, true], ['/transfer?to=human', true], ['/dial-done?x=1', true], [`/${p}/status`, true]]);
    const action = edge.hooks[2]!.params;
    if (p === 'plivo') expect(action).toMatchObject({ DialStatus: OUTCOME[p], DialALegUUID: SIDS[p], CallUUID: SIDS[p] });
    else expect(action).toMatchObject({ DialCallStatus: OUTCOME[p], CallSid: SIDS[p], CallStatus: 'in-progress' });
    expect(r.dials).toEqual([{ to: '+15550109999', callerId: '+15550100000', atMs: expect.any(Number), outcome: OUTCOME[p] }]);
    expect(r).toMatchObject({ streams: 2, hungUpBy: 'api', closedBy: 'provider' });
    expect(r.redirects).toHaveLength(1);
    expect(r.redirects[0]!.url).toBe(`${PUBLIC}/transfer?to=human`);
    expect(r.redirects[0]!.resumedAtMs).toBeGreaterThan(r.redirects[0]!.atMs);
    expect(r.heard.length / 8000).toBeGreaterThan(r.redirects[0]!.resumedAtMs / 1000); // one timeline across both streams
    expect(edge.streams.map((s) => s.path)).toEqual(['/media/one', '/media/two']);
    await Promise.all(edge.streams.map((s) => s.closed));
    if (p !== 'plivo') for (const s of edge.streams) expect(s.messages.at(-1)!.event).toBe('stop');
  }, 15_000);

  it('ends the call after the talk time of a completed <Dial> without action', async () => {
    const edge = await startEdge(p, (path) => (path === `/${p}/voice` ? `<Dial callerId="+15550100000"><Number>+15550109999</Number></Dial>` : null));
    const t0 = performance.now();
    const r = await call(p, { baseUrl: edge.url, dialTalkMs: 400 });
    expect(performance.now() - t0).toBeGreaterThan(390);
    expect(r).toMatchObject({ connected: false, dials: [{ to: '+15550109999', callerId: '+15550100000', outcome: 'completed' }] });
    expect(edge.hooks.map((h) => h.path)).toEqual([`/${p}/voice`, `/${p}/status`]);
  }, 15_000);

  it('--answer: finds the next placed call in the log and answers it at its URL', async () => {
    const edge = await startEdge(p, (path) => (path.startsWith('/leg/voice') ? streamXml(p, 'one') : null));
    const api = await startApiLog();
    api.entries.push(createEntry(p, `${PUBLIC}/old`, `${PUBLIC}/old-status`)); // placed before the wait: not this one
    const waiting = waitForPlacedCall({ apiUrl: api.url, provider: p, timeoutMs: 5000 });
    setTimeout(() => {
      api.entries.push(hangupEntry(p, 'x'));
      api.entries.push(createEntry(p, `${PUBLIC}/leg/voice?conv=c_9`, `${PUBLIC}/leg/status`));
    }, 200);
    const placed = await waiting;
    expect(placed).toMatchObject({ url: `${PUBLIC}/leg/voice?conv=c_9`, method: 'POST', statusCallbackUrl: `${PUBLIC}/leg/status`, cursor: 3 });
    edge.onStream = () => setTimeout(() => api.entries.push(hangupEntry(p, SIDS[p])), 200);
    const r = await call(p, { baseUrl: edge.url, direction: 'outbound-api', from: placed.from, to: placed.to, voiceUrl: placed.url, statusCallbackUrl: placed.statusCallbackUrl, providerApiUrl: api.url, providerApiCursor: placed.cursor });
    expect(r.hungUpBy).toBe('api');
    expect(edge.hooks.map((h) => [h.path, h.ok])).toEqual([['/leg/voice?conv=c_9', true], ['/leg/status', true]]);
    if (p !== 'telnyx') expect(edge.hooks[0]!.params.Direction).toBe(p === 'twilio' ? 'outbound-api' : 'outbound');
    expect(edge.hooks[0]!.params[p === 'plivo' ? 'To' : 'To']).toBe(p === 'plivo' ? '15550109999' : '+15550109999');
  }, 15_000);

  it("is hung up through the local stack's fake API, which it told about the call", async () => {
    const edge = await startEdge(p, (path) => (path === `/${p}/voice` ? streamXml(p, 'one') : null));
    const fake = p === 'twilio' ? await startFakeTwilioApi() : p === 'telnyx' ? await startFakeTelnyxApi() : await startFakePlivoApi({ authId: LOCAL_DEFAULTS.PLIVO_AUTH_ID!, authToken: PLIVO_TOKEN });
    servers.push(fake.server);
    const plivoAuth = `Basic ${Buffer.from(`${LOCAL_DEFAULTS.PLIVO_AUTH_ID}:${PLIVO_TOKEN}`).toString('base64')}`;
    const answers: number[] = [];
    const rest = (method: string, path: string, fields: Record<string, string>) =>
      fetch(`${fake.url}${path}`, {
        method,
        headers: p === 'twilio' ? { Authorization: `Basic ${Buffer.from('AC0:x').toString('base64')}`, 'Content-Type': 'application/x-www-form-urlencoded' } : { Authorization: p === 'telnyx' ? 'Bearer k' : plivoAuth, 'Content-Type': p === 'telnyx' ? 'application/x-www-form-urlencoded' : 'application/json' },
        body: method === 'DELETE' ? undefined : p === 'plivo' ? JSON.stringify(fields) : new URLSearchParams(fields).toString(),
      }).then((r) => answers.push(r.status));
    const sid = SIDS[p];
    edge.onStream = () => {
      setTimeout(() => {
        if (p === 'twilio') void rest('POST', `/2010-04-01/Accounts/AC0/Calls/${sid}.json`, { Status: 'canceled' }).then(() => rest('POST', `/2010-04-01/Accounts/AC0/Calls/${sid}.json`, { Status: 'completed' }));
        else if (p === 'telnyx') void rest('POST', `/v2/texml/Accounts/acc/Calls/${encodeURIComponent(sid)}`, { Status: 'completed' });
        else void rest('DELETE', `/v1/Account/${LOCAL_DEFAULTS.PLIVO_AUTH_ID}/Call/${sid}/`, {});
      }, 300);
    };
    const r = await call(p, { baseUrl: edge.url, providerApiUrl: fake.url });
    expect(r).toMatchObject({ hungUpBy: 'api', closedBy: 'provider' });
    expect(answers).toEqual(p === 'twilio' ? [200, 200] : p === 'telnyx' ? [200] : [204]); // the fake knew the call
    expect(r.sentFrames).toBeLessThan(60);
  }, 15_000);
});
