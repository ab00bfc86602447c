import { afterEach, describe, expect, it } from 'vitest';
import { FakeStreamServer, type FakeServerOptions } from './fake-stream-server.ts';
import { ProtocolError, StreamClient, StreamRefusedError, type ProtocolErrorCode } from './stream-client.ts';

// Server mistakes: each must be refused and reported (`error` listeners, `errors`), never thrown,
// and the session must go on where the spec allows it.
const FORMAT = { encoding: 'pcm16', sampleRate: 16000 } as const;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let server: FakeStreamServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(options: FakeServerOptions = {}) {
  server = await FakeStreamServer.start(options);
  return server;
}

describe('malformed server messages', () => {
  it('are reported with a code, dropped, and the session goes on', async () => {
    const s = await start();
    const client = await StreamClient.connect(s.url, { format: FORMAT });
    const conn = s.connections.at(-1)!;
    const reported: ProtocolErrorCode[] = [];
    client.on('error', (e) => reported.push(e.code));

    conn.sendBinary(new Uint8Array(640)); // audio before `started`
    conn.started(FORMAT, { encoding: 'pcm16', sampleRate: 8000 }); // not the output asked for
    conn.sendText('not json');
    conn.sendText('[1,2]');
    conn.sendText('{"type":7}');
    conn.sendJson({ type: 'mark' });
    conn.sendJson({ type: 'session', id: 's_again' });
    conn.started();
    conn.sendBinary(new Uint8Array(641)); // half a sample
    conn.sendBinary(new Uint8Array(100)); // 50 samples: not a 20 ms frame, still played
    conn.sendText(JSON.stringify({ type: 'big', pad: 'x'.repeat(17_000) }));
    conn.sendBinary(new Uint8Array(20_000));
    conn.sendJson({ type: 'still.alive' });
    await waitUntil(() => client.events.length === 1);

    expect(reported).toEqual([
      'audio-before-started', 'format-mismatch', 'not-json', 'bad-message', 'bad-message', 'bad-mark',
      'unexpected-session', 'duplicate-started', 'bad-audio', 'frame-duration', 'too-large', 'too-large',
    ]);
    expect(client.errors.every((e) => e instanceof ProtocolError)).toBe(true);
    expect(client.errors[2]!.excerpt).toBe('not json');
    expect(client.stats.protocolErrors).toBe(12);
    expect(client.events[0]!.event).toEqual({ type: 'still.alive' });
    expect(client.isOpen).toBe(true);
    await sleep(40);
    expect(client.heardMs).toBeCloseTo((50 / 16000) * 1000, 5); // only the 50-sample frame played
    client.close();
  });

  it('do not crash a client without an error listener', async () => {
    const s = await start();
    const client = await StreamClient.connect(s.url, { format: FORMAT });
    s.connections.at(-1)!.sendText('{');
    await waitUntil(() => client.errors.length === 1);
    expect(client.errors[0]!.code).toBe('not-json');
    client.close();
  });

  it('reports reply audio buffered far ahead of playback, once per excursion', async () => {
    const s = await start();
    const client = await StreamClient.connect(s.url, { format: FORMAT });
    const conn = s.connections.at(-1)!;
    conn.started();
    await client.started;
    for (let i = 0; i < 25; i++) conn.sendBinary(new Uint8Array(640)); // 500 ms at once
    await waitUntil(() => client.stats.audioBytesReceived === 25 * 640);
    expect(client.errors.map((e) => e.code)).toEqual(['ahead-of-playback']);
    client.close();
  });
});

describe('handshake failures', () => {
  it('a first message other than `session` fails connect and closes as a protocol error', async () => {
    const s = await start({ sendSession: false });
    const connP = s.nextConnection();
    const connecting = StreamClient.connect(s.url, { format: FORMAT });
    const conn = await connP;
    conn.started();
    const err = await connecting.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).code).toBe('bad-session');
    expect((await conn.closed).code).toBe(1002);
    expect(conn.received).toEqual([]); // no `start` without a session
  });

  it('a binary first message fails connect', async () => {
    const s = await start({ sendSession: false });
    const connP = s.nextConnection();
    const connecting = StreamClient.connect(s.url, { format: FORMAT });
    (await connP).sendBinary(new Uint8Array(640));
    await expect(connecting).rejects.toMatchObject({ code: 'bad-session' });
  });

  it('a `session` without an s_ id fails connect', async () => {
    const s = await start({ sendSession: false });
    const connP = s.nextConnection();
    const connecting = StreamClient.connect(s.url, { format: FORMAT });
    (await connP).sendJson({ type: 'session', id: 42 });
    await expect(connecting).rejects.toMatchObject({ code: 'bad-session' });
  });

  it('an HTTP refusal of the upgrade rejects with its status, JSON body and Retry-After', async () => {
    const body = JSON.stringify({ error: 'too_many_sessions' });
    const s = await start({ refuse: { status: 429, body, headers: { 'Retry-After': '5' } } });
    const err = await StreamClient.connect(s.url, { format: FORMAT, token: 't' }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(StreamRefusedError);
    expect(err).toMatchObject({ status: 429, body: { error: 'too_many_sessions' }, retryAfterS: 5 });
  });

  it('a 401 has no Retry-After', async () => {
    const s = await start({ refuse: { status: 401, body: '{"error":"unauthorized"}' } });
    await expect(StreamClient.connect(s.url, { format: FORMAT })).rejects.toMatchObject({ status: 401, retryAfterS: undefined });
  });

  it('connection refused, bad options and an aborted signal reject', async () => {
    const s = await start();
    const url = s.url;
    await s.close();
    server = undefined;
    await expect(StreamClient.connect(url, { format: FORMAT })).rejects.toThrow(/ECONNREFUSED/);
    // @ts-expect-error an unsupported rate, as untyped callers could pass
    await expect(StreamClient.connect(url, { format: { encoding: 'pcm16', sampleRate: 44100 } })).rejects.toThrow(TypeError);
    await expect(StreamClient.connect(url, { format: FORMAT, signal: AbortSignal.abort() })).rejects.toThrow(/abort/i);
  });

  it('aborting during connect rejects with the reason', async () => {
    const s = await start({ sendSession: false });
    const ac = new AbortController();
    const connecting = StreamClient.connect(s.url, { format: FORMAT, signal: ac.signal });
    await s.nextConnection();
    ac.abort(new Error('gave up'));
    await expect(connecting).rejects.toThrow('gave up');
  });
});

async function waitUntil(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error('timed out');
    await sleep(2);
  }
}
