import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { simulateCall } from '../scripts/phone/caller.ts';
import { energySegments } from '../scripts/phone/energy-turns.ts';
import { LOCAL_DEFAULTS } from '../scripts/stack/config.ts';
import { startFakePlivoApi } from '../scripts/stack/plivo-api-fake.ts';
import { concat } from './support/phone-audio.ts';

/**
 * The Plivo side of the caller simulator, against a small in-test edge written from Plivo's
 * documents: V3 signatures recomputed here (POST: url + '?' + params sorted as key then value,
 * '.' + nonce, HMAC-SHA256 with the auth token, base64), a hold then a bidirectional
 * `<Stream keepCallAlive contentType="audio/x-l16;rate=16000">`, playAudio + checkpoint echoes,
 * clearAudio (answered clearedAudio, its checkpoint never acknowledged), one playAudio without
 * contentType, and the hangup URL.
 */
const PUBLIC = 'https://edge.example.test';
const TOKEN = LOCAL_DEFAULTS.PLIVO_AUTH_TOKEN!;
const ECHO_DELAY_MS = 250;
const CLEAR_AFTER_MS = 120;

function tone(ms: number, rate: number, amp = 8000, hz = 440): Int16Array {
  return Int16Array.from({ length: Math.round((ms * rate) / 1000) }, (_, i) => Math.round(amp * Math.sin((2 * Math.PI * hz * i) / rate)));
}
const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let b = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (b += c));
    req.on('end', () => resolve(b));
  });
function v3(url: string, params: Record<string, string>, nonce: string): string {
  const s = `${url}?${Object.keys(params).sort().map((k) => k + params[k]).join('')}.${nonce}`;
  return createHmac('sha256', TOKEN).update(s).digest('base64');
}
const le16 = (b64: string) => {
  const buf = Buffer.from(b64, 'base64');
  return Int16Array.from({ length: buf.length / 2 }, (_, i) => buf.readInt16LE(i * 2));
};

type Msg = Record<string, any>;
interface Edge {
  url: string;
  server: Server;
  webhooks: Array<{ path: string; params: Record<string, string>; signatureOk: boolean }>;
  inbound: Msg[];
  ackAt: Map<string, number>;
  clearAt: number | null;
  closed: Promise<void>;
}

async function startEdge(): Promise<Edge> {
  const wss = new WebSocketServer({ noServer: true });
  let closedResolve = () => {};
  const edge: Edge = { url: '', webhooks: [], inbound: [], ackAt: new Map(), clearAt: null, closed: new Promise((r) => (closedResolve = r)), server: createServer() };
  edge.server.on('request', async (req, res) => {
    const params = Object.fromEntries(new URLSearchParams(await readBody(req)));
    const path = req.url ?? '';
    const signatureOk = v3(`${PUBLIC}${path}`, params, String(req.headers['x-plivo-signature-v3-nonce'] ?? '')) === req.headers['x-plivo-signature-v3'];
    edge.webhooks.push({ path, params, signatureOk });
    if (!signatureOk) return res.writeHead(403).end();
    if (path === '/plivo/status') return res.writeHead(200).end();
    const first = edge.webhooks.filter((w) => w.path === '/plivo/voice').length === 1;
    res.writeHead(200, { 'Content-Type': 'application/xml' }).end(
      first
        ? `<Response><Speak>Please hold.</Speak><Wait length="1"/><Redirect>${PUBLIC}/plivo/voice</Redirect></Response>`
        : `<Response><Stream bidirectional="true" keepCallAlive="true" contentType="audio/x-l16;rate=16000" extraHeaders="sessionId=phpl">wss://edge.example.test/plivo/media/cred-9</Stream></Response>`,
    );
  });
  edge.server.on('upgrade', (req, socket, head) => {
    if (req.url !== '/plivo/media/cred-9' || Object.keys(req.headers).some((h) => /signature/i.test(h))) return socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
    wss.handleUpgrade(req, socket, head, (ws) => echo(ws, edge, closedResolve));
  });
  await new Promise<void>((r) => edge.server.listen(0, '127.0.0.1', r));
  edge.url = `http://127.0.0.1:${(edge.server.address() as AddressInfo).port}`;
  return edge;
}

function echo(ws: WebSocket, edge: Edge, onClosed: () => void): void {
  let t0 = 0;
  let streamId = '';
  let burst: string[] = [];
  let n = 0;
  const play = (payload: string) => ws.send(JSON.stringify({ event: 'playAudio', media: { contentType: 'audio/x-l16', sampleRate: 16000, payload } }));
  ws.on('message', (d) => {
    const msg = JSON.parse(d.toString()) as Msg;
    edge.inbound.push(msg);
    if (msg.event === 'start') {
      t0 = performance.now();
      streamId = msg.start.streamId;
      ws.send(JSON.stringify({ event: 'playAudio', media: { payload: Buffer.alloc(640).toString('base64') } })); // no contentType / sampleRate
    } else if (msg.event === 'playedStream') edge.ackAt.set(msg.name, performance.now() - t0);
    else if (msg.event === 'clearedAudio') edge.ackAt.set('cleared', performance.now() - t0);
    else if (msg.event === 'media') {
      if (le16(msg.media.payload).some((v) => Math.abs(v) > 1000)) burst.push(msg.media.payload);
      else if (burst.length > 0) {
        const chunks = burst;
        const k = ++n;
        burst = [];
        setTimeout(() => {
          chunks.forEach(play);
          ws.send(JSON.stringify({ event: 'checkpoint', streamId, name: `c${k}` }));
          if (k === 2) setTimeout(() => {
            edge.clearAt = performance.now() - t0;
            ws.send(JSON.stringify({ event: 'clearAudio', streamId }));
          }, CLEAR_AFTER_MS);
        }, ECHO_DELAY_MS);
      }
    }
  });
  ws.on('close', () => onClosed());
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

describe('simulateCall as Plivo', () => {
  it('signs V3, holds, streams L16 16 kHz, acknowledges checkpoints once played, clears without acknowledging, closes without stop, posts the hangup URL', async () => {
    const edge = await startEdge();
    servers.push(edge.server);
    const rate = 16000;
    const audio = concat(tone(400, rate), tone(1000, rate, 0), tone(400, rate, 8000, 660), tone(200, rate, 0));
    const r = await simulateCall({ provider: 'plivo', baseUrl: edge.url, publicBaseUrl: PUBLIC, audio: { samples: audio, sampleRate: rate }, leadSilenceMs: 100, tailMs: 700, dtmf: [{ atMs: 300, digit: '#' }] });
    await edge.closed;

    expect(edge.webhooks.map((w) => [w.path, w.params.CallStatus, w.signatureOk])).toEqual([
      ['/plivo/voice', 'ringing', true],
      ['/plivo/voice', 'in-progress', true],
      ['/plivo/status', 'completed', true],
    ]);
    expect(edge.webhooks[0]!.params).toMatchObject({ CallUUID: r.callSid, Direction: 'inbound', From: '15550100001', To: '15550100002' });
    expect(edge.webhooks[2]!.params).toMatchObject({ HangupCause: 'NORMAL_CLEARING' });
    expect(r).toMatchObject({ provider: 'plivo', holds: 1, connected: true, heardSampleRate: 16000, closedBy: 'caller', closeCode: 1000 });
    expect(r.statusCallback.status).toBe(200);

    // start first (no connected), numeric sequence numbers, 20 ms L16 frames, dtmf, no stop.
    const inbound = edge.inbound;
    expect(inbound[0]).toMatchObject({ event: 'start', sequenceNumber: 1, start: { callId: r.callSid, streamId: r.streamSid, tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-l16', sampleRate: 16000 } }, extra_headers: 'sessionId=phpl' });
    const fromPlivo = inbound.filter((m) => m.sequenceNumber !== undefined);
    expect(fromPlivo.map((m) => m.sequenceNumber)).toEqual(fromPlivo.map((_, i) => i + 1));
    const media = inbound.filter((m) => m.event === 'media');
    expect(media).toHaveLength(140);
    expect(media.every((m, i) => m.media.chunk === i + 1 && Buffer.from(m.media.payload, 'base64').length === 640)).toBe(true);
    const ts = media.map((m) => Number(m.media.timestamp));
    expect(ts[139]! - ts[0]!).toBe(139 * 20); // unix ms, 20 ms apart
    expect(inbound.find((m) => m.event === 'dtmf')).toMatchObject({ dtmf: { digit: '#' } });
    expect(inbound.some((m) => m.event === 'stop')).toBe(false);

    const segs = energySegments(r.heard, 16000, { minSilenceMs: 100 });
    expect(segs).toHaveLength(2);
    expect(segs[0]!.endMs - segs[0]!.startMs).toBeGreaterThan(360);
    expect(segs[1]!.endMs - segs[1]!.startMs).toBeLessThan(CLEAR_AFTER_MS + 60);

    // c1 acknowledged after its audio played; c2 dropped by the clear, never acknowledged.
    const sentC1 = r.received.find((f) => f.event === 'mark' && f.name === 'c1')!.atMs;
    expect(edge.ackAt.get('c1')! - sentC1).toBeGreaterThan(380);
    expect(edge.ackAt.has('c2')).toBe(false);
    expect(edge.ackAt.get('cleared')! - edge.clearAt!).toBeLessThan(30);
    expect(r.marksReceived).toBe(2);
    expect(r.marksEchoed).toBe(1);
    expect(r.protocolErrors).toHaveLength(1);
    expect(r.protocolErrors[0]).toMatch(/playAudio media\.contentType undefined/);
  }, 15_000);

  it('answers a Call API call with its request uuid', async () => {
    const api = await startFakePlivoApi({ authId: LOCAL_DEFAULTS.PLIVO_AUTH_ID!, authToken: TOKEN });
    servers.push(api.server);
    const auth = `Basic ${Buffer.from(`${LOCAL_DEFAULTS.PLIVO_AUTH_ID}:${TOKEN}`).toString('base64')}`;
    const call = (to: string, a = auth) =>
      fetch(`${api.url}/v1/Account/${LOCAL_DEFAULTS.PLIVO_AUTH_ID}/Call/`, { method: 'POST', headers: { Authorization: a, 'Content-Type': 'application/json' }, body: JSON.stringify({ from: '15550100001', to, answer_url: `${PUBLIC}/plivo/voice` }) });
    const res = await call('15550100002');
    expect(res.status).toBe(201);
    const fired = (await res.json()) as { message: string; request_uuid: string; api_id: string };
    expect(fired).toMatchObject({ message: 'call fired', request_uuid: expect.any(String), api_id: expect.any(String) });
    expect((await call('15005550001')).status).toBe(400);
    expect((await call('15550100002', 'Basic eDp5')).status).toBe(401);
    expect(((await (await fetch(`${api.url}/__requests`)).json()) as unknown[]).length).toBe(3);

    const edge = await startEdge();
    servers.push(edge.server);
    const r = await simulateCall({ provider: 'plivo', direction: 'outbound-api', plivoRequestUuid: fired.request_uuid, baseUrl: edge.url, publicBaseUrl: PUBLIC, audio: { samples: tone(100, 8000, 0), sampleRate: 8000 }, tailMs: 100 });
    expect(edge.webhooks[0]!.params).toMatchObject({ Direction: 'outbound', CallStatus: 'in-progress', ALegUUID: r.callSid, ALegRequestUUID: fired.request_uuid, RequestUUID: fired.request_uuid });
    expect(edge.webhooks.every((w) => w.signatureOk)).toBe(true);
  }, 15_000);
});
