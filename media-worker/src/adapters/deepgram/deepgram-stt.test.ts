/** deepgramStt against the protocol-level fake of Deepgram's live WebSocket. */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeDeepgramServer } from '../fakes/deepgram-live-server.ts';
import { AdapterConfigError, type SttEvent } from '../types.ts';
import { deepgramStt } from './deepgram-stt.ts';
import type { DeepgramSession } from './session.ts';

const servers: FakeDeepgramServer[] = [];
const sessions: DeepgramSession[] = [];
afterEach(async () => {
  for (const s of sessions.splice(0)) await s.close();
  for (const s of servers.splice(0)) await s.close();
});

async function setup(fake: Parameters<typeof FakeDeepgramServer.start>[0] = {}, opts: Parameters<typeof deepgramStt>[0] = {}) {
  const server = await FakeDeepgramServer.start(fake);
  servers.push(server);
  const stt = deepgramStt({ apiKey: 'test-key', url: server.url, ...opts });
  const session = await stt.connect(new AbortController().signal);
  sessions.push(session);
  const conn = await server.waitForConnection();
  const events: SttEvent[] = [];
  let error: Error | undefined;
  const done = (async () => {
    try {
      for await (const e of session.events) events.push(e);
    } catch (err) {
      error = err as Error;
    }
  })();
  return { server, session, conn, events, done, error: () => error };
}

/** `ms` of a loud 440 Hz tone (speech to the fake's energy detector) or silence, at 16 kHz. */
function audio(ms: number, loud: boolean): Int16Array {
  const n = (16_000 * ms) / 1000;
  return Int16Array.from({ length: n }, (_, i) => (loud ? Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 16_000)) : 0));
}

async function until(pred: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('deepgramStt', { timeout: 10_000 }, () => {
  it('a missing key is an AdapterConfigError at creation, naming DEEPGRAM_API_KEY', () => {
    expect(() => deepgramStt({}, {})).toThrow(AdapterConfigError);
    expect(() => deepgramStt({}, {})).toThrow(/DEEPGRAM_API_KEY/);
    expect(() => deepgramStt({}, { DEEPGRAM_API_KEY: 'k', DEEPGRAM_URL: 'http://x' })).toThrow(/ws:\/\/ or wss:\/\//);
  });

  it('connects with the documented query and the Token header; DEEPGRAM_URL overrides the host', async () => {
    const server = await FakeDeepgramServer.start();
    servers.push(server);
    const stt = deepgramStt({}, { DEEPGRAM_API_KEY: 'test-key', DEEPGRAM_URL: server.url });
    sessions.push(await stt.connect(new AbortController().signal));
    const conn = await server.waitForConnection();
    expect(conn.headers.authorization).toBe('Token test-key');
    expect(Object.fromEntries(conn.query)).toEqual({
      model: 'nova-3',
      encoding: 'linear16',
      sample_rate: '16000',
      channels: '1',
      interim_results: 'true',
      vad_events: 'true',
      utterance_end_ms: '1000',
      endpointing: '300',
      smart_format: 'true',
    });
  });

  it('a refused key rejects connect with the HTTP status and Deepgram\'s message', async () => {
    const server = await FakeDeepgramServer.start({ apiKey: 'right' });
    servers.push(server);
    const stt = deepgramStt({ apiKey: 'wrong', url: server.url });
    await expect(stt.connect(new AbortController().signal)).rejects.toThrow('deepgram refused the connection: HTTP 401 INVALID_AUTH: Invalid credentials.');
    expect(server.rejected).toBe(1);
  });

  it('speech in the audio gives speech-started, interims, then a final with endOfTurn (speech_final)', async () => {
    const { session, conn, events } = await setup({ transcripts: ['what is the weather in Paris'] });
    for (let i = 0; i < 40; i++) session.send(audio(20, true)); // 800 ms of "speech"
    for (let i = 0; i < 20; i++) session.send(audio(20, false)); // 400 ms silence > 300 ms endpointing
    await until(() => events.some((e) => e.type === 'final'), 'a final');
    expect(events[0]?.type).toBe('speech-started');
    const interims = events.filter((e) => e.type === 'interim');
    expect(interims.length).toBeGreaterThanOrEqual(3);
    expect(interims.every((e) => 'what is the weather in Paris'.startsWith(e.type === 'interim' ? e.text : '?'))).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'final', text: 'what is the weather in Paris', endOfTurn: true });
    expect(conn.audioBytes).toBe(60 * 640);
  });

  it('a final without speech_final is not the end of turn; UtteranceEnd then ends it (once)', async () => {
    const { conn, events } = await setup();
    conn.result('first part', true, false);
    conn.utteranceEnd();
    conn.utteranceEnd(); // nothing open any more: no second end of turn
    conn.result('second', true, true);
    conn.utteranceEnd(); // after speech_final: adds nothing
    await until(() => events.length >= 3, '3 events');
    await new Promise((r) => setTimeout(r, 30));
    expect(events.map((e) => (e.type === 'final' ? [e.text, e.endOfTurn] : e.type))).toEqual([
      ['first part', false],
      ['', true],
      ['second', true],
    ]);
  });

  it('sends KeepAlive when no audio goes out, which keeps an idle-timeout server open', async () => {
    const { conn, session, error } = await setup({ idleTimeoutMs: 400 }, { keepAliveMs: 150 });
    await new Promise((r) => setTimeout(r, 900));
    expect(conn.closed).toBeUndefined();
    expect(conn.keepAlives).toBeGreaterThanOrEqual(3);
    expect(session.stats.keepAlivesSent).toBe(conn.keepAlives);
    expect(error()).toBeUndefined();
  });

  it('without KeepAlive the server closes 1011 NET-0001 and events throw it', async () => {
    const { done, error } = await setup({ idleTimeoutMs: 200 }, { keepAliveMs: 9000 });
    await done;
    expect(error()?.message).toBe('deepgram closed the live connection unexpectedly (close code 1011 NET-0001: no audio received within the timeout window)');
  });

  it('a server close mid-stream fails events with a clear error, after the events already received', async () => {
    const { conn, events, done, error } = await setup();
    conn.result('hello', false, false);
    conn.close(1008, 'DATA-0000: The payload cannot be decoded as audio.');
    await done;
    expect(events).toMatchObject([{ type: 'interim', text: 'hello' }]);
    expect(error()?.message).toMatch(/close code 1008 DATA-0000: The payload cannot be decoded as audio\./);
  });

  it('a dropped TCP connection (no close frame) fails events too', async () => {
    const { conn, done, error } = await setup();
    conn.drop();
    await done;
    expect(error()?.message).toMatch(/deepgram closed the live connection unexpectedly \(close code 1006/);
  });

  it('bad JSON and unknown messages from the server are ignored and counted', async () => {
    const { conn, session, events } = await setup();
    conn.sendRaw('{not json');
    conn.send({ type: 'Surprise' });
    conn.send({ type: 'Results', is_final: true }); // no channel.alternatives
    conn.result('still works', true, true);
    await until(() => events.length === 1, 'the final');
    expect(events[0]).toMatchObject({ type: 'final', text: 'still works' });
    expect(session.stats.badMessages).toBe(3);
  });

  it('close() sends CloseStream, gets the flushed final, and ends events without error', async () => {
    const { session, conn, events, done, error } = await setup({ transcripts: ['cut short'] });
    for (let i = 0; i < 10; i++) session.send(audio(20, true));
    await session.close();
    await done;
    expect(conn.clientMessages.at(-1)).toEqual({ type: 'CloseStream' });
    expect(events.at(-1)).toMatchObject({ type: 'final', text: 'cut short', endOfTurn: true });
    expect(error()).toBeUndefined();
    await until(() => conn.closed !== undefined, 'the server side closed');
    expect(conn.closed?.code).toBe(1000);
    session.send(audio(20, true));
    expect(session.stats.droppedAudio).toBe(1);
  });

  it('aborting the signal ends the session at once, without an error', async () => {
    const server = await FakeDeepgramServer.start();
    servers.push(server);
    const ac = new AbortController();
    const session = await deepgramStt({ apiKey: 'test-key', url: server.url }).connect(ac.signal);
    const conn = await server.waitForConnection();
    const it = session.events[Symbol.asyncIterator]();
    const next = it.next();
    ac.abort();
    await expect(next).resolves.toEqual({ value: undefined, done: true });
    await until(() => conn.closed !== undefined, 'server saw the close');
  });
});
