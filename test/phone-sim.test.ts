import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import alawmulaw from 'alawmulaw';
import twilio from 'twilio';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { connectStream, goodbye, holdAndRedirect, streamUrlFromBase } from '../workers/src/telephony/twilio/twiml.ts';
import { simulateCall } from '../scripts/phone/caller.ts';
import { energySegments, pairTurns } from '../scripts/phone/energy-turns.ts';
import { PlaybackBuffer, TICK_SAMPLES } from '../scripts/phone/playback-buffer.ts';
import { transportUrl } from '../scripts/phone/public-url.ts';
import { parseTwiml } from '../scripts/phone/twiml.ts';
import { concat } from './support/phone-audio.ts';

/**
 * The Twilio caller simulator (scripts/phone): its TwiML reading, its Twilio-like playback buffer,
 * its energy turn finder, and one whole call in real time against a small in-test server playing
 * the edge's part just enough (signed webhook, signed upgrade, echo with marks, one clear).
 */
const { mulaw } = alawmulaw;

/** A tone burst of `ms` at `rate`, amplitude 8000 (about -12 dBFS), or silence for amp 0. */
function tone(ms: number, rate: number, amp = 8000, hz = 440): Int16Array {
  const n = Math.round((ms * rate) / 1000);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(amp * Math.sin((2 * Math.PI * hz * i) / rate));
  return out;
}


const rms = (x: Int16Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / Math.max(1, x.length));

describe('parseTwiml', () => {
  it('reads the connect TwiML the edge builds, parameters included', () => {
    const xml = connectStream({
      streamUrl: streamUrlFromBase('https://edge.example.com'),
      parameters: { sessionId: 'ph_CA0123', token: 'a&b<c>"d\'\n\r\te' },
    });
    expect(parseTwiml(xml)).toEqual({
      connect: { url: 'wss://edge.example.com/twilio/media', parameters: { sessionId: 'ph_CA0123', token: 'a&b<c>"d\'\n\r\te' } },
    });
  });

  it("reads <Connect action> (Twilio's next request when the stream ends)", () => {
    const xml = connectStream({ streamUrl: 'wss://e.test/twilio/media', parameters: { token: 't' }, action: '/twilio/voice' });
    expect(parseTwiml(xml, 'https://e.test/twilio/voice?x=1')).toEqual({
      connect: { url: 'wss://e.test/twilio/media', parameters: { token: 't' }, action: { url: 'https://e.test/twilio/voice', method: 'POST' } },
    });
  });

  it('reads the hold TwiML as a redirect after the pause', () => {
    const xml = holdAndRedirect({ message: 'Please hold & wait.', redirectUrl: 'http://127.0.0.1:8787/twilio/voice' });
    expect(parseTwiml(xml)).toEqual({
      redirect: { url: 'http://127.0.0.1:8787/twilio/voice', method: 'POST', pauseS: 1, say: 'Please hold & wait.' },
    });
  });

  it('reads the goodbye TwiML as a hang-up with what was said', () => {
    expect(parseTwiml(goodbye('Sorry, nobody is available <now>. Goodbye.'))).toEqual({ hangup: { say: 'Sorry, nobody is available <now>. Goodbye.' } });
  });

  it('resolves a relative redirect against the document URL, and ends the call when the verbs run out', () => {
    expect(parseTwiml('<Response><Redirect>/twilio/voice?x=1</Redirect></Response>', 'https://e.example/twilio/voice')).toEqual({
      redirect: { url: 'https://e.example/twilio/voice?x=1', method: 'POST', pauseS: 0, say: '' },
    });
    expect(parseTwiml('<?xml version="1.0"?><Response><Say>bye</Say></Response>')).toEqual({ hangup: { say: 'bye' } });
  });

  it('rejects what is not TwiML, and verbs it does not implement', () => {
    expect(() => parseTwiml('{"error":{"code":"forbidden"}}')).toThrow(/not XML/);
    expect(() => parseTwiml('<html><body>hi</body></html>')).toThrow(/no <Response> root/);
    expect(() => parseTwiml('<Response><Gather/></Response>')).toThrow(/unsupported TwiML verb <Gather>/);
  });
});

describe('transportUrl', () => {
  it('sends requests for public URLs to the base URL, ws and http alike', () => {
    expect(transportUrl('https://edge.example/twilio/voice', 'https://edge.example/', 'http://127.0.0.1:9')).toBe('http://127.0.0.1:9/twilio/voice');
    expect(transportUrl('wss://edge.example/twilio/media', 'https://edge.example', 'http://127.0.0.1:9')).toBe('ws://127.0.0.1:9/twilio/media');
    expect(transportUrl('wss://edge.example.evil/x', 'https://edge.example', 'http://127.0.0.1:9')).toBe('wss://edge.example.evil/x');
  });
});

describe('PlaybackBuffer', () => {
  it('plays 20 ms per tick in order, then silence', () => {
    const b = new PlaybackBuffer();
    const audio = Int16Array.from({ length: 400 }, (_, i) => i + 1); // 50 ms
    b.appendPcm(audio);
    expect(b.bufferedMs).toBe(50);
    const t1 = b.tick();
    const t2 = b.tick();
    const t3 = b.tick();
    const t4 = b.tick();
    expect([t1.playedSamples, t2.playedSamples, t3.playedSamples, t4.playedSamples]).toEqual([160, 160, 80, 0]);
    expect(Array.from(concat(t1.pcm, t2.pcm, t3.pcm).subarray(0, 400))).toEqual(Array.from(audio));
    expect(t3.pcm.subarray(80).every((v) => v === 0)).toBe(true);
    expect(t4.pcm).toEqual(new Int16Array(TICK_SAMPLES));
    expect(b.bufferedSamples).toBe(0);
  });

  it('decodes mu-law appends', () => {
    const b = new PlaybackBuffer();
    const pcm = tone(20, 8000);
    b.appendMulaw(mulaw.encode(pcm));
    const played = b.tick().pcm;
    expect(Array.from(played)).toEqual(Array.from(mulaw.decode(mulaw.encode(pcm))));
  });

  it('echoes marks in order when playback reaches them, and at once on an empty buffer', () => {
    const b = new PlaybackBuffer();
    expect(b.mark('early')).toBe(true); // nothing buffered: reached now
    b.appendPcm(new Int16Array(160).fill(1));
    expect(b.mark('a')).toBe(false);
    b.appendPcm(new Int16Array(240).fill(2));
    expect(b.mark('b')).toBe(false);
    expect(b.mark('c')).toBe(false);
    expect(b.pendingMarks).toEqual(['a', 'b', 'c']);
    expect(b.tick().marks).toEqual(['a']); // 'a' sat right behind the first 160 samples
    expect(b.tick().marks).toEqual([]); // 160 of the 240 played
    expect(b.tick().marks).toEqual(['b', 'c']);
    expect(b.mark('d')).toBe(true);
  });

  it('clear drops buffered audio and returns every outstanding mark', () => {
    const b = new PlaybackBuffer();
    b.appendPcm(new Int16Array(160).fill(5));
    b.mark('m1');
    b.appendPcm(new Int16Array(800).fill(5));
    b.mark('m2');
    b.appendPcm(new Int16Array(800).fill(5));
    b.mark('m3');
    expect(b.tick().marks).toEqual(['m1']);
    expect(b.clear()).toEqual(['m2', 'm3']);
    expect(b.bufferedSamples).toBe(0);
    const after = b.tick();
    expect(after.playedSamples).toBe(0);
    expect(after.marks).toEqual([]);
    expect(b.clear()).toEqual([]);
  });
});

describe('energySegments / pairTurns', () => {
  it('finds tone bursts at the right times, bridging short gaps', () => {
    const rate = 16000;
    // 300 ms silence, 500 ms tone, 100 ms gap (bridged), 200 ms tone, 1000 ms silence, 400 ms tone, 250 ms silence
    const x = concat(tone(300, rate, 0), tone(500, rate), tone(100, rate, 0), tone(200, rate), tone(1000, rate, 0), tone(400, rate), tone(250, rate, 0));
    const segs = energySegments(x, rate);
    expect(segs).toHaveLength(2);
    expect(segs[0]!.startMs).toBeCloseTo(300, -1);
    expect(segs[0]!.endMs).toBeCloseTo(1100, -1);
    expect(segs[1]!.startMs).toBeCloseTo(2100, -1);
    expect(segs[1]!.endMs).toBeCloseTo(2500, -1);
    for (const [seg, end] of [[segs[0]!, 1100], [segs[1]!, 2500]] as const) expect(Math.abs(seg.endMs - end)).toBeLessThan(1); // sample-accurate
    expect(energySegments(tone(1000, rate, 50), rate)).toEqual([]); // below -45 dBFS
    expect(energySegments(concat(tone(1000, rate, 0), tone(30, rate)), rate)).toEqual([]); // a 30 ms click
  });

  it('pairs each speech end with the first reply that starts after it', () => {
    const speech = [{ startMs: 0, endMs: 1000 }, { startMs: 3000, endMs: 4000 }, { startMs: 6000, endMs: 6500 }];
    const heard = [{ startMs: 500, endMs: 1200 }, { startMs: 1400, endMs: 2000 }, { startMs: 4250, endMs: 5000 }, { startMs: 7000, endMs: 7100 }];
    expect(pairTurns(speech, heard)).toEqual([
      { speechEndMs: 1000, firstReplyMs: 1400, latencyMs: 400 },
      { speechEndMs: 4000, firstReplyMs: 4250, latencyMs: 250 },
      { speechEndMs: 6500, firstReplyMs: 7000, latencyMs: 500 },
    ]);
    expect(pairTurns([{ startMs: 0, endMs: 100 }, { startMs: 200, endMs: 300 }], [{ startMs: 250, endMs: 260 }])[0]!.firstReplyMs).toBeNull();
  });
});

// --- a whole call ------------------------------------------------------------------------------

const AUTH = 'test-auth-token';
const PUBLIC = 'https://edge.example.test'; // what the fake edge signs against; reached at 127.0.0.1
const ECHO_DELAY_MS = 250;
const CLEAR_AFTER_MS = 120;

type Inbound = Record<string, unknown> & { event: string; sequenceNumber?: string };

/** The edge's counterpart, enough for one call: webhooks, signed upgrade, reply-on-pause echo. */
interface FakeEdge {
  url: string;
  webhooks: Array<{ path: string; params: Record<string, string>; signatureOk: boolean }>;
  upgrade: { signatureOk: boolean } | null;
  inbound: Inbound[];
  /** Stream time (ms since `start` arrived) of each mark echo the server got. */
  markEchoAt: Map<string, number>;
  clearSentAt: number | null;
  closed: Promise<void>;
  server: Server;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

async function startFakeEdge(opts: { holdFirst?: boolean; hangup?: boolean } = {}): Promise<FakeEdge> {
  const streamUrl = streamUrlFromBase(PUBLIC);
  const wss = new WebSocketServer({ noServer: true });
  let closedResolve = () => {};
  const edge: FakeEdge = {
    url: '',
    webhooks: [],
    upgrade: null,
    inbound: [],
    markEchoAt: new Map(),
    clearSentAt: null,
    closed: new Promise<void>((r) => (closedResolve = r)),
    server: createServer(async (req, res) => {
      const body = await readBody(req);
      const params = Object.fromEntries(new URLSearchParams(body));
      const path = req.url ?? '';
      // Signed over the public URL + path and the form params, checked by the twilio package.
      const signatureOk = twilio.validateRequest(AUTH, String(req.headers['x-twilio-signature'] ?? ''), `${PUBLIC}${path}`, params);
      edge.webhooks.push({ path, params, signatureOk });
      if (!signatureOk) return res.writeHead(403, { 'Content-Type': 'text/plain' }).end('Forbidden: invalid Twilio signature');
      if (path === '/twilio/status') return res.writeHead(204).end();
      const voiceCount = edge.webhooks.filter((w) => w.path === '/twilio/voice').length;
      const xml = opts.hangup
        ? goodbye('Nobody is available. Goodbye.')
        : opts.holdFirst && voiceCount === 1
          ? holdAndRedirect({ message: 'Please hold.', redirectUrl: `${PUBLIC}/twilio/voice` })
          : connectStream({ streamUrl, parameters: { sessionId: 'ph_test', token: 'tok.en' } });
      res.writeHead(200, { 'Content-Type': 'text/xml' }).end(xml);
    }),
  };
  edge.server.on('upgrade', (req, socket, head) => {
    const signatureOk = twilio.validateRequest(AUTH, String(req.headers['x-twilio-signature'] ?? ''), streamUrl, {});
    edge.upgrade = { signatureOk };
    if (!signatureOk || req.url !== '/twilio/media') {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => playEcho(ws, edge, closedResolve));
  });
  await new Promise<void>((r) => edge.server.listen(0, '127.0.0.1', r));
  edge.url = `http://127.0.0.1:${(edge.server.address() as AddressInfo).port}`;
  return edge;
}

/**
 * A reply-on-pause echo: collects the caller's audible chunks; when a silent chunk follows them,
 * waits ECHO_DELAY_MS and sends the whole burst back at once, a mark after each chunk. The second
 * burst is cut CLEAR_AFTER_MS after it is sent, with `clear`.
 */
function playEcho(ws: WebSocket, edge: FakeEdge, onClosed: () => void): void {
  let streamSid = '';
  let startAt = 0;
  let burst: string[] = [];
  let bursts = 0;
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString()) as Inbound;
    edge.inbound.push(msg);
    if (msg.event === 'start') {
      streamSid = String(msg.streamSid);
      startAt = performance.now();
    } else if (msg.event === 'mark') {
      edge.markEchoAt.set((msg.mark as { name: string }).name, performance.now() - startAt);
    } else if (msg.event === 'media') {
      const media = msg.media as { payload: string; chunk: string };
      const pcm = mulaw.decode(new Uint8Array(Buffer.from(media.payload, 'base64')));
      const audible = pcm.some((v) => Math.abs(v) > 1000);
      if (audible) burst.push(media.payload);
      else if (burst.length > 0) {
        const payloads = burst;
        const n = ++bursts;
        burst = [];
        setTimeout(() => {
          payloads.forEach((payload, i) => {
            ws.send(JSON.stringify({ event: 'media', streamSid, media: { payload } }));
            ws.send(JSON.stringify({ event: 'mark', streamSid, mark: { name: `b${n}-${i + 1}` } }));
          });
          if (n === 2) {
            setTimeout(() => {
              edge.clearSentAt = performance.now() - startAt;
              ws.send(JSON.stringify({ event: 'clear', streamSid }));
            }, CLEAR_AFTER_MS);
          }
        }, ECHO_DELAY_MS);
      }
    }
  });
  ws.on('close', () => onClosed());
}

let edges: FakeEdge[] = [];
afterEach(async () => {
  for (const e of edges) {
    e.server.closeAllConnections();
    await new Promise((r) => e.server.close(r));
  }
  edges = [];
});

describe('simulateCall', () => {
  it('holds, connects, streams in real time, hears the echo, echoes marks, obeys clear, hangs up', async () => {
    const edge = await startFakeEdge({ holdFirst: true });
    edges.push(edge);
    const rate = 16000; // resampled to 8 kHz by the simulator
    // burst A 0-400 ms, silence, burst B 1400-1800 ms, silence to 2000 ms
    const audio = concat(tone(400, rate), tone(1000, rate, 0), tone(400, rate, 8000, 660), tone(200, rate, 0));
    const logs: string[] = [];
    const r = await simulateCall({
      baseUrl: edge.url,
      publicBaseUrl: PUBLIC,
      authToken: AUTH,
      audio: { samples: audio, sampleRate: rate },
      leadSilenceMs: 100,
      tailMs: 700,
      dtmf: [{ atMs: 300, digit: '7' }],
      onLog: (l) => logs.push(l),
    });
    await edge.closed;

    // Webhooks: held once (1 s pause), then connected; every request signed over the public URL.
    expect(r.holds).toBe(1);
    expect(r.webhookMs).toHaveLength(2);
    expect(edge.webhooks.map((w) => [w.path, w.params.CallStatus, w.signatureOk])).toEqual([
      ['/twilio/voice', 'ringing', true],
      ['/twilio/voice', 'in-progress', true],
      ['/twilio/status', 'completed', true],
    ]);
    expect(edge.webhooks[0]!.params).toMatchObject({ CallSid: r.callSid, Direction: 'inbound', From: '+15550100001', To: '+15550100002', ApiVersion: '2010-04-01' });
    expect(edge.upgrade).toEqual({ signatureOk: true });
    expect(r.connected).toBe(true);
    expect(r.sessionId).toBe('ph_test');
    expect(r.statusCallback.status).toBe(204);

    // Twilio's message sequence: connected, start (custom parameters), media..., stop; one shared
    // sequence counter as decimal strings; chunk and timestamp strings too.
    const inbound = edge.inbound;
    expect(inbound[0]).toEqual({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    expect(inbound[1]).toMatchObject({
      event: 'start', sequenceNumber: '1', streamSid: r.streamSid,
      start: { callSid: r.callSid, streamSid: r.streamSid, tracks: ['inbound'], customParameters: { sessionId: 'ph_test', token: 'tok.en' }, mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } },
    });
    expect(inbound.slice(1).map((m) => m.sequenceNumber)).toEqual(inbound.slice(1).map((_, i) => String(i + 1)));
    const media = inbound.filter((m) => m.event === 'media').map((m) => m.media as { chunk: string; timestamp: string; payload: string; track: string });
    expect(media).toHaveLength(r.sentFrames);
    expect(media.map((m) => m.chunk)).toEqual(media.map((_, i) => String(i + 1)));
    expect(media.map((m) => m.timestamp)).toEqual(media.map((_, i) => String(i * 20)));
    expect(media.every((m) => m.track === 'inbound' && Buffer.from(m.payload, 'base64').length === 160)).toBe(true);
    expect(inbound.find((m) => m.event === 'dtmf')).toMatchObject({ dtmf: { track: 'inbound_track', digit: '7' } });
    expect(inbound[inbound.length - 1]).toMatchObject({ event: 'stop', streamSid: r.streamSid, stop: { callSid: r.callSid } });
    expect(r.closedBy).toBe('caller');
    expect(r.closeCode).toBe(1000);

    // Real time: 100 + 2000 + 700 ms = 140 frames, sent on time.
    expect(r.sentFrames).toBe(140);
    expect(r.sendLatenessMs.p50).toBeLessThan(5);

    // Heard: burst A's echo in full (400 ms), burst B's cut by the clear (~120 ms).
    const heardSegs = energySegments(r.heard, 8000, { minSilenceMs: 100 });
    expect(heardSegs).toHaveLength(2);
    const [echoA, echoB] = heardSegs as [(typeof heardSegs)[0], (typeof heardSegs)[0]];
    expect(echoA.endMs - echoA.startMs).toBeGreaterThan(360);
    expect(echoA.endMs - echoA.startMs).toBeLessThan(440);
    expect(echoA.startMs).toBeGreaterThan(500 + ECHO_DELAY_MS - 20); // A ends at 500 ms of stream time
    expect(echoA.startMs).toBeLessThan(500 + ECHO_DELAY_MS + 150);
    expect(echoB.endMs - echoB.startMs).toBeGreaterThan(CLEAR_AFTER_MS - 60);
    expect(echoB.endMs - echoB.startMs).toBeLessThan(CLEAR_AFTER_MS + 60);
    expect(rms(r.heard.subarray(Math.round(echoA.startMs * 8) + 80, Math.round(echoA.endMs * 8) - 80))).toBeGreaterThan(4000);

    // Turns: caller stopped at ~500 and ~1900 ms; replies heard after about the echo delay.
    expect(r.turns).toHaveLength(2);
    expect(r.turns[0]!.speechEndMs).toBeCloseTo(500, -1);
    expect(r.turns[1]!.speechEndMs).toBeCloseTo(1900, -1);
    for (const t of r.turns) {
      expect(t.latencyMs).toBeGreaterThan(ECHO_DELAY_MS - 20);
      expect(t.latencyMs).toBeLessThan(ECHO_DELAY_MS + 150);
    }

    // Marks: one per 20 ms chunk (20 per burst), all echoed. Burst A's as played (spread over
    // ~400 ms), burst B's mostly at the clear, at once.
    expect(r.marksReceived).toBe(40);
    expect(r.marksEchoed).toBe(40);
    expect(edge.markEchoAt.size).toBe(40);
    const markTimes = (b: number) => Array.from({ length: 20 }, (_, i) => edge.markEchoAt.get(`b${b}-${i + 1}`)!);
    const a = markTimes(1);
    expect(a.every((t, i) => i === 0 || t >= a[i - 1]!)).toBe(true);
    expect(a[19]! - a[0]!).toBeGreaterThan(340);
    const echoedOrder = inbound.filter((m) => m.event === 'mark').map((m) => (m.mark as { name: string }).name);
    expect(echoedOrder).toEqual([...Array.from({ length: 20 }, (_, i) => `b1-${i + 1}`), ...Array.from({ length: 20 }, (_, i) => `b2-${i + 1}`)]);
    expect(r.clears).toHaveLength(1);
    const b = markTimes(2);
    const atClear = b.filter((t) => t >= edge.clearSentAt!); // echoed in answer to the clear
    expect(atClear.length).toBeGreaterThanOrEqual(12); // ~14 of 20 were still buffered
    expect(Math.max(...atClear) - edge.clearSentAt!).toBeLessThan(30); // at once, not as played
    expect(Math.max(...atClear) - Math.min(...atClear)).toBeLessThan(10);
    expect(r.received.filter((f) => f.event === 'clear')).toHaveLength(1);
    expect(r.protocolErrors).toEqual([]);
    expect(logs.some((l) => l.includes('clear at'))).toBe(true);
  }, 15_000);

  it('ends without a stream when the edge says goodbye, and still sends the status callback', async () => {
    const edge = await startFakeEdge({ hangup: true });
    edges.push(edge);
    const r = await simulateCall({ baseUrl: edge.url, publicBaseUrl: PUBLIC, authToken: AUTH, audio: { samples: tone(100, 8000), sampleRate: 8000 } });
    expect(r).toMatchObject({ connected: false, goodbye: 'Nobody is available. Goodbye.', holds: 0, sentFrames: 0 });
    expect(edge.webhooks.map((w) => [w.path, w.signatureOk])).toEqual([['/twilio/voice', true], ['/twilio/status', true]]);
    expect(edge.upgrade).toBeNull();
  });

  it('says so when the edge refuses the signature', async () => {
    const edge = await startFakeEdge();
    edges.push(edge);
    await expect(
      simulateCall({ baseUrl: edge.url, publicBaseUrl: PUBLIC, authToken: 'wrong-token', audio: { samples: tone(100, 8000), sampleRate: 8000 } }),
    ).rejects.toThrow(/answered 403: the edge refused the X-Twilio-Signature/);
    // Signed for the wrong public URL: same refusal.
    await expect(
      simulateCall({ baseUrl: edge.url, authToken: AUTH, audio: { samples: tone(100, 8000), sampleRate: 8000 } }),
    ).rejects.toThrow(/403/);
  });

  it('says so when the answer is not TwiML', async () => {
    const server = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      await expect(simulateCall({ baseUrl: url, authToken: AUTH, audio: { samples: tone(100, 8000), sampleRate: 8000 } })).rejects.toThrow(
        /answered 200 \(application\/json\) that is not usable TwiML: not XML.*body: \{"ok":true\}/,
      );
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('simulateCall follows <Connect action> when the stream closes without stop', () => {
  /** An edge whose first stream it drops (no stop) after `dropAfterMs`; `withAction` puts the voice URL in <Connect action>. */
  async function droppingEdge(o: { withAction: boolean; dropAfterMs: number }) {
    const streamUrl = streamUrlFromBase(PUBLIC);
    const wss = new WebSocketServer({ noServer: true });
    const webhooks: string[] = [];
    const streams: Inbound[][] = [];
    const server = createServer(async (req, res) => {
      const params = Object.fromEntries(new URLSearchParams(await readBody(req)));
      const path = req.url ?? '';
      if (!twilio.validateRequest(AUTH, String(req.headers['x-twilio-signature'] ?? ''), `${PUBLIC}${path}`, params)) return res.writeHead(403).end();
      webhooks.push(`${path} ${params['CallStatus']}`);
      if (path === '/twilio/status') return res.writeHead(204).end();
      const n = webhooks.filter((w) => w.startsWith('/twilio/voice')).length;
      const xml = connectStream({ streamUrl, parameters: { sessionId: 'ph_test', token: `tok${n}` }, ...(o.withAction ? { action: `${PUBLIC}/twilio/voice` } : {}) });
      res.writeHead(200, { 'Content-Type': 'text/xml' }).end(xml);
    });
    server.on('upgrade', (req, socket, head) => {
      if (!twilio.validateRequest(AUTH, String(req.headers['x-twilio-signature'] ?? ''), streamUrl, {})) return socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      wss.handleUpgrade(req, socket, head, (ws) => {
        const got: Inbound[] = [];
        streams.push(got);
        const first = streams.length === 1;
        ws.on('message', (d) => {
          const msg = JSON.parse(d.toString()) as Inbound;
          got.push(msg);
          if (msg.event === 'start' && first) setTimeout(() => ws.terminate(), o.dropAfterMs);
        });
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    edges.push({ server } as FakeEdge);
    return { url, webhooks, streams };
  }

  it('requests the action URL, opens a new stream (new streamSid, same call, timestamps from 0) and carries on', async () => {
    const edge = await droppingEdge({ withAction: true, dropAfterMs: 400 });
    const r = await simulateCall({ baseUrl: edge.url, publicBaseUrl: PUBLIC, authToken: AUTH, audio: { samples: tone(1500, 8000), sampleRate: 8000 }, tailMs: 200 });
    expect(r.closedBy).toBe('caller');
    expect(r.streams).toBe(2);
    expect(edge.webhooks).toEqual(['/twilio/voice ringing', '/twilio/voice in-progress', '/twilio/status completed']);
    expect(r.reconnects).toHaveLength(1);
    const [gap] = r.reconnects;
    expect(gap!.lostAtMs).toBeGreaterThan(350);
    expect(gap!.resumedAtMs).toBeGreaterThan(gap!.lostAtMs);
    expect(gap!.resumedAtMs - gap!.lostAtMs).toBeLessThan(500);
    const [one, two] = edge.streams;
    const start = (s: Inbound[]) => s.find((m) => m.event === 'start') as unknown as { streamSid: string; start: { callSid: string; customParameters: Record<string, string> } };
    expect(start(two!).streamSid).not.toBe(start(one!).streamSid);
    expect(start(two!).start.callSid).toBe(start(one!).start.callSid);
    expect(start(two!).start.customParameters['token']).toBe('tok2');
    const firstMedia = two!.find((m) => m.event === 'media') as unknown as { sequenceNumber: string; media: { timestamp: string } };
    expect(Number(firstMedia.media.timestamp)).toBeLessThan(60);
    expect(firstMedia.sequenceNumber).toBe('2'); // numbering restarts with the stream: start is 1
    expect(two!.at(-1)!.event).toBe('stop');
    expect(one!.some((m) => m.event === 'stop')).toBe(false);
  });

  it('ends the call as Twilio would when the <Connect> has no action', async () => {
    const edge = await droppingEdge({ withAction: false, dropAfterMs: 300 });
    const r = await simulateCall({ baseUrl: edge.url, publicBaseUrl: PUBLIC, authToken: AUTH, audio: { samples: tone(1500, 8000), sampleRate: 8000 }, tailMs: 200 });
    expect(r).toMatchObject({ closedBy: 'server', streams: 1, reconnects: [] });
    expect(edge.webhooks).toEqual(['/twilio/voice ringing', '/twilio/status completed']);
  });
});
