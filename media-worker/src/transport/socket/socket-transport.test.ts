/**
 * SocketTransport against a stand-in for the edge's media endpoint (a real `ws` server that plays
 * the relayed peer): a Twilio stream's start, audio, marks as playback truth, clear, a lost and
 * replaced stream, the no-media watchdog; a stream client's `started`, ping and abuse limits.
 */
import { decodeRelayBatch } from '@switchboard/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { audioFrame, type AudioFrame } from '../../audio/frame.ts';
import { initResampler } from '../../audio/resampler.ts';
import { serializerFor } from './serializers/index.ts';
import { SocketTransport } from './socket-transport.ts';

const SESSION = `c_CA${'1'.repeat(32)}`;
const twilioStart = (streamSid: string, callSid = 'CA1') =>
  JSON.stringify({
    event: 'start', sequenceNumber: '1', streamSid,
    start: { accountSid: 'AC1', streamSid, callSid, tracks: ['inbound'], customParameters: {}, mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } },
  });
const twilioMedia = (streamSid: string) =>
  JSON.stringify({ event: 'media', sequenceNumber: '2', streamSid, media: { track: 'inbound', chunk: '1', timestamp: '0', payload: Buffer.alloc(160, 0xff).toString('base64') } });

interface Edge {
  url: string;
  /** Messages from the worker, one entry per frame (text lines and relay batches split as the edge splits them). */
  got: Array<string | Buffer>;
  peer(): WebSocket;
  close(): Promise<void>;
}

const servers: Edge[] = [];
const transports: SocketTransport[] = [];
afterEach(async () => {
  for (const t of transports.splice(0)) await t.close('test over');
  for (const s of servers.splice(0)) await s.close();
});

/**
 * The edge's media endpoint: checks the worker's credentials, sends `first` (the stored start),
 * records what comes. `phone`: binary messages are relay batches, as the edge reads them for a
 * provider's stream.
 */
async function fakeEdge(first?: string, phone = true): Promise<Edge> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  let socket: WebSocket | undefined;
  const edge: Edge = {
    url: `http://127.0.0.1:${(wss.address() as { port: number }).port}`,
    got: [],
    peer: () => socket!,
    close: () => new Promise((r) => wss.close(() => r())),
  };
  wss.on('connection', (ws, req) => {
    expect(req.url).toBe(`/internal/sessions/${SESSION}/media`);
    expect(req.headers.authorization).toBe('Bearer resume-token');
    expect(req.headers['x-worker-id']).toBe('w-1');
    socket = ws;
    ws.on('message', (d: Buffer, isBinary) => {
      if (isBinary && phone) edge.got.push(...decodeRelayBatch(d));
      else if (isBinary) edge.got.push(d);
      else for (const line of d.toString().split('\n')) edge.got.push(line);
    });
    if (first) ws.send(first);
  });
  servers.push(edge);
  return edge;
}

async function transport(edge: Edge, kind: 'phone' | 'stream', provider: string, noMediaMs?: number, now?: () => number) {
  await initResampler();
  const logs: string[] = [];
  const t = new SocketTransport({
    kind,
    serializer: serializerFor(provider),
    socket: { edgeUrl: edge.url, sessionId: SESSION, token: 'resume-token', workerId: 'w-1' },
    log: (m) => logs.push(m),
    ...(noMediaMs !== undefined ? { noMediaMs } : {}),
    ...(now ? { now } : {}),
  });
  transports.push(t);
  await t.open();
  return { t, logs };
}

const tone = (ms: number, rate = 8000): AudioFrame => {
  const n = (rate * ms) / 1000;
  const s = new Int16Array(n);
  for (let i = 0; i < n; i++) s[i] = Math.round(8000 * Math.sin(i / 3));
  return audioFrame(s, rate, 1);
};
const parsed = (e: Edge) => e.got.filter((m): m is string => typeof m === 'string').map((m) => JSON.parse(m) as { event?: string; type?: string; mark?: { name: string } });

describe('SocketTransport (Twilio)', () => {
  it('holds reply audio until start, then sends media with a mark per frame; the segment is heard when the marks come back', async () => {
    const edge = await fakeEdge();
    const { t } = await transport(edge, 'phone', 'twilio');
    t.output.push(tone(100));
    const done = t.output.finish();
    await new Promise((r) => setTimeout(r, 100));
    expect(edge.got).toEqual([]); // no stream to address yet
    edge.peer().send(twilioStart('MZ1'));
    await expect.poll(() => parsed(edge).filter((m) => m.event === 'mark').length, { timeout: 2000 }).toBe(5);
    const msgs = parsed(edge);
    expect(msgs.filter((m) => m.event === 'media')).toHaveLength(5);
    // Twilio echoes each mark once the audio before it has played: the segment resolves heard, in full.
    for (const m of msgs.filter((x) => x.event === 'mark')) edge.peer().send(JSON.stringify({ event: 'mark', sequenceNumber: '3', streamSid: 'MZ1', mark: m.mark }));
    expect(await done).toEqual({ playedMs: 100, interrupted: false });
  });

  it('clear drops queued audio, sends Twilio clear, and reports only what the marks confirmed', async () => {
    const edge = await fakeEdge(twilioStart('MZ2'));
    const { t } = await transport(edge, 'phone', 'twilio');
    await expect.poll(() => t.start?.streamId).toBe('MZ2');
    t.output.push(tone(2000));
    await expect.poll(() => parsed(edge).filter((m) => m.event === 'mark').length, { timeout: 2000 }).toBeGreaterThan(4);
    const first = parsed(edge).find((m) => m.event === 'mark')!;
    edge.peer().send(JSON.stringify({ event: 'mark', sequenceNumber: '3', streamSid: 'MZ2', mark: first.mark }));
    await new Promise((r) => setTimeout(r, 50));
    const result = t.output.clear();
    expect(result).toEqual({ playedMs: 20, interrupted: true });
    await expect.poll(() => parsed(edge).some((m) => m.event === 'clear')).toBe(true);
    // Echoes of marks cleared away are flushes, not playback.
    for (const m of parsed(edge).filter((x) => x.event === 'mark')) edge.peer().send(JSON.stringify({ event: 'mark', sequenceNumber: '4', streamSid: 'MZ2', mark: m.mark }));
    const sent = edge.got.length;
    await new Promise((r) => setTimeout(r, 150));
    expect(edge.got.length).toBe(sent); // nothing after the clear
  });

  it('decodes caller audio and DTMF; a start replay is ignored; stop ends the call as phone_hangup', async () => {
    const edge = await fakeEdge(twilioStart('MZ3'));
    const { t } = await transport(edge, 'phone', 'twilio');
    const frames: AudioFrame[] = [];
    const events: unknown[] = [];
    t.onAudio((f) => frames.push(f));
    t.onEvent((e) => events.push(e));
    const closed = new Promise<string>((r) => t.onClose(r));
    edge.peer().send(twilioMedia('MZ3'));
    edge.peer().send(twilioStart('MZ3'));
    edge.peer().send(JSON.stringify({ event: 'dtmf', sequenceNumber: '5', streamSid: 'MZ3', dtmf: { track: 'inbound_track', digit: '7' } }));
    await expect.poll(() => events.length).toBe(1);
    expect(frames).toHaveLength(1);
    expect(frames[0]).toMatchObject({ sampleRate: 8000, channels: 1 });
    expect(t.streams).toBe(1);
    expect(events).toEqual([{ type: 'dtmf', digit: '7' }]);
    edge.peer().send(JSON.stringify({ event: 'stop', sequenceNumber: '6', streamSid: 'MZ3', stop: { accountSid: 'AC1', callSid: 'CA1' } }));
    expect(await closed).toBe('phone_hangup');
  });

  it('a lost stream pauses sending; the next start for the same call resumes on the new stream', async () => {
    const edge = await fakeEdge(twilioStart('MZ4'));
    const { t } = await transport(edge, 'phone', 'twilio');
    await expect.poll(() => t.start?.streamId).toBe('MZ4');
    t.streamLost();
    t.output.push(tone(200));
    await new Promise((r) => setTimeout(r, 100));
    expect(parsed(edge).filter((m) => m.event === 'media')).toHaveLength(0);
    edge.peer().send(twilioStart('MZ9', 'CA-other')); // another call's start: ignored
    edge.peer().send(twilioStart('MZ5'));
    await expect.poll(() => parsed(edge).filter((m) => m.event === 'media').length, { timeout: 2000 }).toBe(10);
    expect(t.streams).toBe(2);
    expect(new Set(parsed(edge).map((m) => (m as { streamSid?: string }).streamSid))).toEqual(new Set(['MZ5']));
  });

  it("news of the old stream's loss that comes after the new stream's start does not pause the call", async () => {
    const edge = await fakeEdge(twilioStart('MZ10'));
    const { t } = await transport(edge, 'phone', 'twilio');
    await expect.poll(() => t.start?.streamId).toBe('MZ10');
    edge.peer().send(twilioStart('MZ11'));
    await expect.poll(() => t.start?.streamId).toBe('MZ11');
    t.streamLost('MZ10'); // the edge's media.lost, late
    t.output.push(tone(100));
    await expect.poll(() => parsed(edge).filter((m) => m.event === 'media').length, { timeout: 2000 }).toBe(5);
    t.streamLost('MZ11'); // the current stream's loss does pause it
    t.output.push(tone(100));
    await new Promise((r) => setTimeout(r, 150));
    expect(parsed(edge).filter((m) => m.event === 'media')).toHaveLength(5);
  });

  it('a refused start (not mu-law) ends the call with a clear reason', async () => {
    const bad = JSON.parse(twilioStart('MZ6')) as { start: { mediaFormat: object } };
    bad.start.mediaFormat = { encoding: 'audio/x-l16', sampleRate: 16000, channels: 1 };
    const edge = await fakeEdge(JSON.stringify(bad));
    const { t } = await transport(edge, 'phone', 'twilio');
    const reason = await new Promise<string>((r) => t.onClose(r));
    expect(reason).toMatch(/^error: .*audio\/x-l16/);
  });

  it('closes as no_media when a started stream brings no frames', async () => {
    const edge = await fakeEdge(twilioStart('MZ7'));
    const { t } = await transport(edge, 'phone', 'twilio', 300);
    const t0 = performance.now();
    expect(await new Promise<string>((r) => t.onClose(r))).toBe('no_media');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(250);
  });
});

describe('SocketTransport (stream client)', () => {
  const start = JSON.stringify({ type: 'start', format: { encoding: 'pcm16', sampleRate: 16000 } });

  it('says started, answers ping, hands other events and PCM16 audio to the pipeline, and sends reply audio as binary frames with marks', async () => {
    const edge = await fakeEdge(start, false);
    const { t } = await transport(edge, 'stream', 'stream');
    const events: unknown[] = [];
    const frames: AudioFrame[] = [];
    t.onEvent((e) => events.push(e));
    t.onAudio((f) => frames.push(f));
    await expect.poll(() => parsed(edge).some((m) => m.type === 'started')).toBe(true);
    expect(parsed(edge).find((m) => m.type === 'started')).toEqual({ type: 'started', format: { encoding: 'pcm16', sampleRate: 16000 }, output: { encoding: 'pcm16', sampleRate: 16000 } });
    edge.peer().send(JSON.stringify({ type: 'ping', t: 5 }));
    edge.peer().send(JSON.stringify({ type: 'note', text: 'hi' }));
    edge.peer().send(Buffer.from(new Int16Array([1, -2, 3, -4]).buffer));
    await expect.poll(() => events.length).toBe(1);
    expect(events).toEqual([{ type: 'note', text: 'hi' }]);
    expect(parsed(edge).find((m) => m.type === 'pong')).toEqual({ type: 'pong', t: 5 });
    await expect.poll(() => frames.length).toBe(1);
    expect(Array.from(frames[0]!.samples)).toEqual([1, -2, 3, -4]);
    t.output.push(tone(40, 16000));
    await expect.poll(() => edge.got.filter((m) => typeof m !== 'string').length, { timeout: 2000 }).toBe(2);
    expect((edge.got.find((m) => typeof m !== 'string') as Buffer).byteLength).toBe(640); // 20 ms of 16 kHz PCM16
    expect(parsed(edge).filter((m) => m.type === 'mark')).toHaveLength(2);
  });

  it('holds events sent before the client\'s start (a greeting\'s transcript) and sends them, in order, after started', async () => {
    const edge = await fakeEdge(undefined, false);
    const { t } = await transport(edge, 'stream', 'stream');
    t.sendEvent({ type: 'transcript', role: 'assistant', text: 'Hello!' });
    t.sendEvent({ type: 'note', n: 2 });
    await expect.poll(() => edge.got.length > 0 || servers.length > 0).toBe(true);
    expect(parsed(edge)).toEqual([]);
    edge.peer().send(start);
    await expect.poll(() => parsed(edge).filter((m) => m.type !== 'started').length).toBe(2);
    expect(parsed(edge).map((m) => m.type)).toEqual(['started', 'transcript', 'note']);
  });

  it("a client echoing every mark (50/s) besides its events is within the limits: marks are not events", async () => {
    const edge = await fakeEdge(start, false);
    // Each check of a limit moves this clock 10 ms: a mark echo (one check) every 10 ms, a ping (two) every 20 ms.
    let t = 0;
    const { t: transportUnderTest } = await transport(edge, 'stream', 'stream', undefined, () => (t += 10));
    await expect.poll(() => parsed(edge).some((m) => m.type === 'started')).toBe(true);
    let closed = '';
    transportUnderTest.onClose((r) => (closed = r));
    for (let i = 0; i < 2000; i++) {
      edge.peer().send(JSON.stringify({ type: 'mark', name: `sb-echo-${i}` }));
      if (i % 25 === 0) edge.peer().send(JSON.stringify({ type: 'ping', t: i }));
    }
    await expect.poll(() => parsed(edge).filter((m) => m.type === 'pong').length, { timeout: 5000 }).toBe(80);
    expect(parsed(edge).filter((m) => m.type === 'error')).toEqual([]);
    expect(closed).toBe('');
  });

  it('a client flooding messages is told once and cut off as abuse', async () => {
    const edge = await fakeEdge(start, false);
    const { t } = await transport(edge, 'stream', 'stream');
    await expect.poll(() => parsed(edge).some((m) => m.type === 'started')).toBe(true);
    const closed = new Promise<string>((r) => t.onClose(r));
    for (let i = 0; i < 400; i++) edge.peer().send(JSON.stringify({ type: 'spam', i }));
    expect(await closed).toBe('abuse');
    await expect.poll(() => parsed(edge).filter((m) => m.type === 'error')).toEqual([expect.objectContaining({ type: 'error', code: 'abuse' })]);
  });
});

describe('SocketTransport (stream client, Opus)', () => {
  it('decodes Opus packets from the client and encodes reply audio as one Opus packet per 20 ms frame', async () => {
    const { OpusDecoderStream, OpusEncoderStream } = await import('../../audio/opus.ts');
    const edge = await fakeEdge(JSON.stringify({ type: 'start', format: { encoding: 'opus', sampleRate: 48000 } }), false);
    const { t } = await transport(edge, 'stream', 'stream');
    const frames: AudioFrame[] = [];
    t.onAudio((f) => frames.push(f));
    await expect.poll(() => parsed(edge).some((m) => m.type === 'started')).toBe(true);
    const enc = new OpusEncoderStream({ sampleRate: 48000, channels: 1 });
    edge.peer().send(Buffer.from(enc.encode(tone(20, 48000))));
    await expect.poll(() => frames.length).toBe(1);
    expect(frames[0]).toMatchObject({ sampleRate: 48000, channels: 1 });
    expect(frames[0]!.samples.length).toBe(960);
    t.output.push(tone(40, 48000));
    await expect.poll(() => edge.got.filter((m) => typeof m !== 'string').length, { timeout: 2000 }).toBe(2);
    const dec = new OpusDecoderStream(1, 48000);
    for (const packet of edge.got.filter((m): m is Buffer => typeof m !== 'string')) expect(dec.decode(packet).samples.length).toBe(960);
  });
});
