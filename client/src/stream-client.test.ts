import { afterEach, describe, expect, it } from 'vitest';
import { FakeStreamServer, type FakeConnection } from './fake-stream-server.ts';
import { StreamClient, type ClearInfo, type MarkRecord, type StreamClientOptions } from './stream-client.ts';

// Against a local stand-in for the edge (fake-stream-server.ts). Reply audio is PCM16 at 16 kHz:
// a 20 ms frame is 320 samples; frame i is filled with the value i so heard audio can be traced.
const FORMAT = { encoding: 'pcm16', sampleRate: 16000 } as const;
const FRAME = 320;
const frame = (value: number) => new Int16Array(FRAME).fill(value);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let server: FakeStreamServer | undefined;
const clients: StreamClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.close();
  server = undefined;
});

async function open(options: Partial<StreamClientOptions> = {}): Promise<{ client: StreamClient; conn: FakeConnection }> {
  server ??= await FakeStreamServer.start();
  const client = await StreamClient.connect(server.url, { format: FORMAT, ...options });
  clients.push(client);
  return { client, conn: server.connections.at(-1)! };
}

/** Connects and completes the handshake up to `started`. */
async function openStarted(options: Partial<StreamClientOptions> = {}) {
  const opened = await open(options);
  await opened.conn.waitForJson('start');
  opened.conn.started();
  await opened.client.started;
  return opened;
}

describe('StreamClient handshake and caller audio', () => {
  it('resolves after `session`, sends `start` first, with the bearer token', async () => {
    const { client, conn } = await open({ token: 'tok_1', output: { encoding: 'pcm16', sampleRate: 24000 } });
    expect(client.sessionId).toBe(`s_${'0123456789abcdef'.repeat(2)}`);
    await conn.waitForJson('start');
    expect(conn.headers.authorization).toBe('Bearer tok_1');
    expect(conn.received[0]!.json).toEqual({ type: 'start', format: FORMAT, output: { encoding: 'pcm16', sampleRate: 24000 } });
    expect(client.startedInfo).toBeUndefined();
  });

  it('drops and counts audio sent before `started`, then sends PCM16 LE frames within 16 KiB', async () => {
    const { client, conn } = await open();
    await conn.waitForJson('start');
    expect(client.sendAudio(frame(7))).toBe(false);
    expect(client.stats.samplesDroppedBeforeStarted).toBe(FRAME);

    const started: unknown[] = [];
    client.on('started', (info) => started.push(info));
    conn.started();
    const info = await client.started;
    expect(info).toMatchObject({ format: FORMAT, output: FORMAT });
    expect(started).toEqual([info]);

    expect(client.sendAudio(new Int16Array([1, -2, 0x1234]))).toBe(true);
    const big = new Int16Array(10_000).map((_, i) => i);
    client.sendAudio(big);
    await conn.waitFor(() => conn.binaries.length === 3);
    const [first, a, b] = conn.binaries;
    expect(Array.from(first!)).toEqual([0x01, 0x00, 0xfe, 0xff, 0x34, 0x12]);
    expect([a!.length, b!.length]).toEqual([16384, 20_000 - 16384]);
    expect(a!.readInt16LE(2 * 1234)).toBe(1234);
    expect(client.stats.audioBytesSent).toBe(6 + 20_000);
    // Nothing of the dropped frame reached the server: the first binary frame is the 3-sample one.
    expect(conn.received.filter((r) => r.binary).length).toBe(3);
  });
});

describe('StreamClient playback', () => {
  it('echoes a mark only once the audio before it has played, and plays that audio in order', async () => {
    const { client, conn } = await openStarted();
    for (let i = 1; i <= 5; i++) conn.sendAudio(frame(i)); // 100 ms, sent at once
    conn.sendJson({ type: 'mark', name: 'm1' });
    const sentAt = performance.now();
    const echo = await conn.waitForJson('mark');
    const delay = echo.atMs - sentAt;
    expect(echo.json).toEqual({ type: 'mark', name: 'm1' });
    // 100 ms of audio, started on the next 20 ms tick; echoed at most one tick after it ended.
    expect(delay).toBeGreaterThanOrEqual(99);
    expect(delay).toBeLessThan(100 + 20 + 40);
    expect(Array.from(client.heardLog.audio())).toEqual([1, 2, 3, 4, 5].flatMap((v) => Array.from(frame(v))));
    expect(client.heardMs).toBe(100);
    const starts = client.heard.map((s) => s.atMs);
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeCloseTo(20, 5); // drift-free slots
    expect(client.marks[0]).toMatchObject({ name: 'm1', echoed: true, cleared: false });
    expect(client.stats).toMatchObject({ marksReceived: 1, marksEchoed: 1, audioBytesReceived: 5 * FRAME * 2 });
  });

  it('echoes a mark at once when nothing is left to play', async () => {
    const { conn } = await openStarted();
    await sleep(30);
    conn.sendJson({ type: 'mark', name: 'idle' });
    const sentAt = performance.now();
    const echo = await conn.waitForJson('mark');
    expect(echo.atMs - sentAt).toBeLessThan(15);
  });

  it('clear drops unplayed audio at once and the marks before it go unechoed', async () => {
    const { client, conn } = await openStarted();
    const clears: ClearInfo[] = [];
    client.on('clear', (c) => clears.push(c));
    for (let i = 1; i <= 10; i++) conn.sendAudio(frame(i)); // 200 ms
    conn.sendJson({ type: 'mark', name: 'before-clear' });
    await sleep(60);
    conn.sendJson({ type: 'clear' });
    await waitUntil(() => clears.length === 1);
    const heardAtClear = client.heardMs;
    expect(heardAtClear).toBeGreaterThan(20);
    expect(heardAtClear).toBeLessThan(130);
    expect(clears[0]!.droppedMarks).toEqual(['before-clear']);
    expect(clears[0]!.droppedMs + heardAtClear).toBeCloseTo(200, 5); // nothing lost or played twice

    // Nothing more of the cleared audio plays; a new reply plays and its mark is echoed.
    await sleep(100);
    expect(client.heardMs).toBe(heardAtClear);
    conn.sendAudio(frame(50));
    conn.sendAudio(frame(51));
    conn.sendJson({ type: 'mark', name: 'after-clear' });
    await conn.waitForJson('mark');
    await sleep(50);
    expect(conn.json.filter((j) => j.type === 'mark')).toEqual([{ type: 'mark', name: 'after-clear' }]);
    expect(client.heardMs).toBe(heardAtClear + 40);
    const heard = Array.from(client.heardLog.audio());
    expect(heard.slice(-2 * FRAME)).toEqual([...frame(50), ...frame(51)]);
    expect(new Set(heard.slice(0, -2 * FRAME)).has(10)).toBe(false); // the end of the first reply never played
    expect(client.marks.map((m) => [m.name, m.echoed, m.cleared])).toEqual([
      ['before-clear', false, true],
      ['after-clear', true, false],
    ]);
    expect(client.stats).toMatchObject({ clears: 1, marksEchoed: 1 });
  });

  it('with echoMarks false, reaches marks without echoing them', async () => {
    const { client, conn } = await openStarted({ echoMarks: false });
    const reached: MarkRecord[] = [];
    client.on('mark', (m) => reached.push(m));
    conn.sendAudio(frame(1));
    conn.sendJson({ type: 'mark', name: 'quiet' });
    await waitUntil(() => reached.length === 1);
    await sleep(30);
    expect(reached[0]).toMatchObject({ name: 'quiet', echoed: false });
    expect(reached[0]!.playedAtMs! - reached[0]!.receivedAtMs).toBeGreaterThanOrEqual(19);
    expect(conn.json.some((j) => j.type === 'mark')).toBe(false);
  });

  it("with playback 'none', counts audio heard on arrival and echoes marks at once", async () => {
    const { client, conn } = await openStarted({ playback: 'none' });
    for (let i = 1; i <= 10; i++) conn.sendAudio(frame(i));
    conn.sendJson({ type: 'mark', name: 'now' });
    const sentAt = performance.now();
    const echo = await conn.waitForJson('mark');
    expect(echo.atMs - sentAt).toBeLessThan(50);
    expect(client.heardMs).toBe(200);
  });
});

describe('StreamClient events and close', () => {
  it('delivers server events with arrival times and sends client events', async () => {
    const { client, conn } = await openStarted();
    const got: string[] = [];
    client.on('event', (e) => got.push(e.type));
    conn.sendJson({ type: 'vad.start' });
    conn.sendJson({ type: 'transcript', text: 'hi' });
    conn.sendJson({ type: 'error', code: 'abuse' });
    await waitUntil(() => got.length === 3);
    expect(got).toEqual(['vad.start', 'transcript', 'error']);
    expect(client.events.map((e) => e.event)).toEqual([{ type: 'vad.start' }, { type: 'transcript', text: 'hi' }, { type: 'error', code: 'abuse' }]);
    expect(client.events[0]!.atMs).toBeGreaterThan(0);
    expect(client.errors).toEqual([]); // a server `error` event is an event, not a refused message

    expect(client.sendEvent({ type: 'dtmf', digit: '5' })).toBe(true);
    expect((await conn.waitForJson('dtmf')).json).toEqual({ type: 'dtmf', digit: '5' });
    expect(() => client.sendEvent({ type: 'start' })).toThrow(TypeError);
    expect(() => client.sendEvent({ type: 'big', pad: 'x'.repeat(17_000) })).toThrow(RangeError);
  });

  it('surfaces the server close code and reason', async () => {
    const { client, conn } = await openStarted();
    const seen: unknown[] = [];
    client.on('close', (c) => seen.push(c));
    conn.ws.close(1000, 'handler finished');
    expect(await client.closed).toEqual({ code: 1000, reason: 'handler finished' });
    expect(seen).toEqual([{ code: 1000, reason: 'handler finished' }]);
    expect(client.sendAudio(frame(1))).toBe(false);
    expect(client.stats.samplesDroppedClosed).toBe(FRAME);
    expect(client.sendEvent({ type: 'late' })).toBe(false);
  });

  it('rejects `started` when the session ends before it, and close() sends its code', async () => {
    const { client, conn } = await open();
    client.close(4001, 'bye');
    await expect(client.started).rejects.toThrow(/closed/);
    expect(await conn.closed).toEqual({ code: 4001, reason: 'bye' });
    expect((await client.closed).code).toBe(4001);
  });

  it('closes the session when the signal aborts', async () => {
    const ac = new AbortController();
    const { client, conn } = await open({ signal: ac.signal });
    ac.abort();
    expect(await conn.closed).toEqual({ code: 1000, reason: 'aborted' });
    await client.closed;
  });
});

async function waitUntil(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error('timed out');
    await sleep(2);
  }
}
