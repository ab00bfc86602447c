import { createPublicKey, verify } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { simulateCall } from '../scripts/phone/caller.ts';
import { energySegments } from '../scripts/phone/energy-turns.ts';
import { parseTexml } from '../scripts/phone/providers/telnyx-texml.ts';
import { LOCAL_DEFAULTS } from '../scripts/stack/config.ts';
import { startFakeTelnyxApi } from '../scripts/stack/telnyx-api-fake.ts';
import { concat } from './support/phone-audio.ts';

/**
 * The Telnyx (TeXML) side of the caller simulator, against a small in-test edge written from
 * Telnyx's documents: Ed25519-signed webhooks checked with node:crypto and the local public key,
 * a hold then `<Connect><Stream bidirectionalMode="rtp">` in L16 16 kHz, an echo that sends each
 * burst back as one chunk with a mark, a clear, and one chunk too short for Telnyx.
 */
const PUBLIC = 'https://edge.example.test';
const STREAM_URL = `wss://edge.example.test/telnyx/media/cred-123`;
const ECHO_DELAY_MS = 250;
const CLEAR_AFTER_MS = 120;
const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(LOCAL_DEFAULTS.TELNYX_PUBLIC_KEY!, 'base64').toString('base64url') }, format: 'jwk' });

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
/** L16 big-endian (RTP byte order) payload <-> samples. */
const l16 = (b64: string) => {
  const buf = Buffer.from(b64, 'base64');
  return Int16Array.from({ length: buf.length / 2 }, (_, i) => buf.readInt16BE(i * 2));
};

type Msg = Record<string, any>;
interface Edge {
  url: string;
  server: Server;
  webhooks: Array<{ path: string; params: Record<string, string>; signatureOk: boolean; fresh: boolean }>;
  upgrade: { path: string; headers: Record<string, unknown> } | null;
  inbound: Msg[];
  markAt: Map<string, number>;
  clearAt: number | null;
  closed: Promise<void>;
}

async function startEdge(): Promise<Edge> {
  const wss = new WebSocketServer({ noServer: true });
  let closedResolve = () => {};
  const edge: Edge = { url: '', webhooks: [], upgrade: null, inbound: [], markAt: new Map(), clearAt: null, closed: new Promise((r) => (closedResolve = r)), server: createServer() };
  edge.server.on('request', async (req, res) => {
    const raw = await readBody(req);
    const ts = String(req.headers['telnyx-timestamp'] ?? '');
    const sig = Buffer.from(String(req.headers['telnyx-signature-ed25519'] ?? ''), 'base64');
    const signatureOk = verify(null, Buffer.from(`${ts}|${raw}`), publicKey, sig);
    const params = Object.fromEntries(new URLSearchParams(raw));
    edge.webhooks.push({ path: req.url ?? '', params, signatureOk, fresh: Math.abs(Date.now() / 1000 - Number(ts)) < 5 });
    if (!signatureOk) return res.writeHead(403).end('bad signature');
    if (req.url === '/telnyx/status') return res.writeHead(200).end();
    const first = edge.webhooks.filter((w) => w.path === '/telnyx/voice').length === 1;
    res.writeHead(200, { 'Content-Type': 'text/xml' }).end(
      first
        ? `<?xml version="1.0"?><Response><Say>Please hold.</Say><Pause length="1"/><Redirect>${PUBLIC}/telnyx/voice</Redirect></Response>`
        : `<Response><Connect><Stream url="${STREAM_URL}" bidirectionalMode="rtp" codec="L16" bidirectionalCodec="L16" bidirectionalSamplingRate="16000"><Parameter name="sessionId" value="ph_tx"/></Stream></Connect></Response>`,
    );
  });
  edge.server.on('upgrade', (req, socket, head) => {
    edge.upgrade = { path: req.url ?? '', headers: req.headers };
    wss.handleUpgrade(req, socket, head, (ws) => echo(ws, edge, closedResolve));
  });
  await new Promise<void>((r) => edge.server.listen(0, '127.0.0.1', r));
  edge.url = `http://127.0.0.1:${(edge.server.address() as AddressInfo).port}`;
  return edge;
}

/** Echoes each audible burst back as one media chunk + a mark; cuts the second with clear; sends one 10 ms chunk. */
function echo(ws: WebSocket, edge: Edge, onClosed: () => void): void {
  let t0 = 0;
  let burst: string[] = [];
  let n = 0;
  ws.on('message', (d) => {
    const msg = JSON.parse(d.toString()) as Msg;
    edge.inbound.push(msg);
    if (msg.event === 'start') {
      t0 = performance.now();
      ws.send(JSON.stringify({ event: 'media', media: { payload: Buffer.alloc(320).toString('base64') } })); // 10 ms: too short
    } else if (msg.event === 'mark') edge.markAt.set(msg.mark.name, performance.now() - t0);
    else if (msg.event === 'media') {
      if (l16(msg.media.payload).some((v) => Math.abs(v) > 1000)) burst.push(msg.media.payload);
      else if (burst.length > 0) {
        const audio = Buffer.concat(burst.map((p) => Buffer.from(p, 'base64'))).toString('base64');
        const k = ++n;
        burst = [];
        setTimeout(() => {
          ws.send(JSON.stringify({ event: 'media', media: { payload: audio } }));
          ws.send(JSON.stringify({ event: 'mark', mark: { name: `m${k}` } }));
          if (k === 2) setTimeout(() => {
            edge.clearAt = performance.now() - t0;
            ws.send(JSON.stringify({ event: 'clear' }));
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

describe('parseTexml', () => {
  it('reads <Start><Stream> + <Pause> as a stream the markup ends after the pauses', () => {
    const a = parseTexml('<Response><Start><Stream url="wss://e/x" /></Start><Pause length="5"/></Response>');
    expect(a).toMatchObject({ connect: { url: 'wss://e/x', endsAfterS: 5, inbound: { encoding: 'mulaw', rate: 8000 } } });
    expect('connect' in a && a.connect.playbackProblem).toMatch(/bidirectionalMode="rtp"/);
  });
  it('refuses codecs the simulator does not implement', () => {
    expect(() => parseTexml('<Response><Connect><Stream url="wss://e" codec="OPUS"/></Connect></Response>')).toThrow(/PCMU and L16 only/);
  });
});

describe('simulateCall as Telnyx', () => {
  it('signs, holds, streams L16 16 kHz, plays marks after playout, answers clear with the pending marks, reports a short chunk', async () => {
    const edge = await startEdge();
    servers.push(edge.server);
    const rate = 16000;
    const audio = concat(tone(400, rate), tone(1000, rate, 0), tone(400, rate, 8000, 660), tone(200, rate, 0));
    const r = await simulateCall({ provider: 'telnyx', baseUrl: edge.url, publicBaseUrl: PUBLIC, audio: { samples: audio, sampleRate: rate }, leadSilenceMs: 100, tailMs: 700, dtmf: [{ atMs: 300, digit: '5' }] });
    await edge.closed;

    // Webhooks: signed (Ed25519 over timestamp|body), TeXML params without Direction.
    expect(edge.webhooks.map((w) => [w.path, w.params.CallStatus, w.signatureOk, w.fresh])).toEqual([
      ['/telnyx/voice', 'in-progress', true, true],
      ['/telnyx/voice', 'in-progress', true, true],
      ['/telnyx/status', 'completed', true, true],
    ]);
    const p = edge.webhooks[0]!.params;
    expect(p.CallSid).toMatch(/^v3:/);
    expect(p).toMatchObject({ CallSidLegacy: p.CallSid, From: '+15550100001', To: '+15550100002', ApiVersion: '2010-04-01' });
    expect(p.AccountSid && p.ConnectionId).toBeTruthy();
    expect(p.Direction).toBeUndefined();
    expect(r).toMatchObject({ provider: 'telnyx', holds: 1, connected: true, sessionId: 'ph_tx', heardSampleRate: 16000, closedBy: 'caller' });
    expect(r.statusCallback.status).toBe(200);

    // The upgrade: to the stream URL as given, no signature header.
    expect(edge.upgrade!.path).toBe('/telnyx/media/cred-123');
    expect(Object.keys(edge.upgrade!.headers).some((h) => /signature/i.test(h))).toBe(false);

    // Frames: connected, start (L16 16 kHz), 20 ms media chunks numbered and timed, dtmf, stop.
    const inbound = edge.inbound;
    expect(inbound[0]).toEqual({ event: 'connected', version: '1.0.0' });
    expect(inbound[1]).toMatchObject({ event: 'start', sequence_number: '1', stream_id: r.streamSid, start: { call_control_id: r.callSid, custom_parameters: { sessionId: 'ph_tx' }, media_format: { encoding: 'L16', sample_rate: 16000, channels: 1 } } });
    expect(inbound.slice(1).map((m) => m.sequence_number)).toEqual(inbound.slice(1).map((_, i) => String(i + 1)));
    const media = inbound.filter((m) => m.event === 'media').map((m) => m.media);
    expect(media).toHaveLength(r.sentFrames);
    expect(r.sentFrames).toBe(140); // 100 + 2000 + 700 ms
    expect(media.every((m, i) => m.track === 'inbound' && m.chunk === String(i + 1) && m.timestamp === String(i * 20) && Buffer.from(m.payload, 'base64').length === 640)).toBe(true);
    expect(inbound.find((m) => m.event === 'dtmf')).toMatchObject({ dtmf: { digit: '5' } });
    expect(inbound.at(-1)).toMatchObject({ event: 'stop', stop: { call_control_id: r.callSid } });

    // Heard at 16 kHz: echo A whole, echo B cut by the clear.
    const segs = energySegments(r.heard, 16000, { minSilenceMs: 100 });
    expect(segs).toHaveLength(2);
    expect(segs[0]!.endMs - segs[0]!.startMs).toBeGreaterThan(360);
    expect(segs[1]!.endMs - segs[1]!.startMs).toBeLessThan(CLEAR_AFTER_MS + 60);

    // m1 answered once its 400 ms played; m2 answered at the clear, at once.
    const sentA = r.received.find((f) => f.event === 'mark' && f.name === 'm1')!.atMs;
    expect(edge.markAt.get('m1')! - sentA).toBeGreaterThan(380);
    expect(edge.markAt.get('m2')! - edge.clearAt!).toBeLessThan(30);
    expect(r.marksEchoed).toBe(2);
    expect(r.clears).toHaveLength(1);
    expect(r.protocolErrors).toHaveLength(1);
    expect(r.protocolErrors[0]).toMatch(/media chunk of 10\.0 ms .*20 ms to 30 s/);
  }, 15_000);
});

describe('fake Telnyx TeXML Calls API', () => {
  it('creates a call with a Bearer key, records it, and refuses an invalid number', async () => {
    const api = await startFakeTelnyxApi();
    servers.push(api.server);
    const post = (body: unknown, auth = 'Bearer KEY123') =>
      fetch(`${api.url}/v2/texml/Accounts/acc-1/Calls`, { method: 'POST', headers: { Authorization: auth, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const ok = await post({ ApplicationSid: 'app', To: '+15550100002', From: '+15550100001', Url: 'https://e/telnyx/voice' });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ call_sid: expect.stringMatching(/^v3:/), status: 'queued', to: '+15550100002' });
    expect((await post({ To: '+15005550001', From: '+1' })).status).toBe(422);
    expect((await post({ To: '+1', From: '+1' }, '')).status).toBe(401);
    const seen = (await (await fetch(`${api.url}/__requests`)).json()) as Array<{ body: Record<string, string>; authorization: string }>;
    expect(seen[0]).toMatchObject({ authorization: 'Bearer KEY123', body: { Url: 'https://e/telnyx/voice' } });
  });
});
