/** openaiRealtime's failures: configuration, refused or silent connections, server errors, a session the server ends mid-reply (drops that are reopened: openai-realtime.reconnect.test.ts). */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { audioFrame } from '../../audio/frame.ts';
import { AdapterConfigError } from '../types.ts';
import { startCall, type Harness } from './harness.test-helper.ts';
import { openaiRealtime } from './openai-realtime.ts';

async function answering(h: Harness, response: Parameters<Harness['fake']['responses']['push']>[0]): Promise<void> {
  await h.fake.waitFor(() => h.fake.eventsOf('session.update').length === 1, 'session.update');
  await h.t.feed(audioFrame(new Int16Array(2400), 24_000));
  await h.fake.waitFor(() => h.fake.inputMs() > 0, 'input');
  h.fake.responses.push(response);
  h.fake.speechStopped();
}

describe('openaiRealtime configuration', () => {
  const saved = { key: process.env.OPENAI_API_KEY, url: process.env.OPENAI_REALTIME_URL };
  beforeEach(() => {
    delete process.env.OPENAI_API_KEY;
    delete process.env.OPENAI_REALTIME_URL;
  });
  afterEach(() => {
    for (const [k, v] of [['OPENAI_API_KEY', saved.key], ['OPENAI_REALTIME_URL', saved.url]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('a missing key fails when the handler is built, naming OPENAI_API_KEY', () => {
    expect(() => openaiRealtime()).toThrow(AdapterConfigError);
    expect(() => openaiRealtime()).toThrow(/OPENAI_API_KEY is not set/);
    process.env.OPENAI_API_KEY = 'sk-env';
    expect(openaiRealtime().kind).toBe('stream');
    expect(openaiRealtime().options.inputSampleRate).toBe(24_000);
  });

  it('rejects bad options with a clear error', () => {
    expect(() => openaiRealtime({ apiKey: 'k', turnDetection: 'vad' as never })).toThrow(/turnDetection/);
    expect(() => openaiRealtime({ apiKey: 'k', voices: 'x' } as never)).toThrow(/unknown option "voices"/);
    expect(() => openaiRealtime({ apiKey: 'k', url: 'https://api.openai.com' })).toThrow(/wss:\/\//);
    const tool = { name: 'bad name', description: '', parameters: {}, run: async () => 1 };
    expect(() => openaiRealtime({ apiKey: 'k', tools: [tool] })).toThrow(/name of 1-64/);
  });
});

describe('openaiRealtime failures', { timeout: 15_000 }, () => {
  it("an error event is passed to the client and the call goes on", async () => {
    const h = await startCall();
    await answering(h, { audioMs: 500, chunkDelayMs: 5, error: { afterChunks: 2, type: 'server_error', code: 'server_error', message: 'The server had an error.' } });
    await h.t.waitForEvent('reply.end');
    expect(h.t.eventsOf('error')).toEqual([{ type: 'error', message: 'OpenAI Realtime: The server had an error.', code: 'server_error' }]);
    expect(h.t.playedMs()).toBe(500);
    expect(h.p.reason).toBeUndefined();
  });

  it('a session the server closes mid-reply (close frame 1000) is not reopened: the handler ends with an error naming the cause', async () => {
    const h = await startCall();
    await answering(h, { audioMs: 2000, chunkDelayMs: 5 });
    await h.fake.waitFor(() => h.fake.sentOf('response.output_audio.delta').length >= 3, 'some audio');
    h.fake.closeConnections(1000, 'session over');
    await h.p.done;
    expect(h.p.reason).toBe('handler-failed');
    const [error] = h.t.eventsOf('error');
    expect(error?.message).toBe('handler failed: openai-realtime: OpenAI Realtime closed the connection mid-call (code 1000: session over)');
    expect(h.fake.headers).toHaveLength(1);
    expect(h.t.eventsOf('model.reconnecting')).toEqual([]);
  });

  it("the last error from OpenAI is named when it then closes the connection", async () => {
    const h = await startCall();
    await answering(h, { audioMs: 1000, chunkDelayMs: 5, error: { afterChunks: 1, type: 'invalid_request_error', code: 'session_expired', message: 'Your session hit the maximum duration of 60 minutes.' }, disconnectAfterChunks: 2 });
    await h.p.done;
    expect(h.t.eventsOf('error').at(-1)?.message).toMatch(/mid-call .*OpenAI's last error: Your session hit the maximum duration of 60 minutes\./);
    expect(h.fake.headers).toHaveLength(1); // session_expired is fatal: the dropped socket is not reopened
  });

  it('a refused key fails the call with the HTTP status and OpenAI\'s message', async () => {
    const h = await startCall({ apiKey: 'sk-wrong' }, { fake: { apiKey: 'sk-right' } });
    await h.p.done;
    expect(h.p.reason).toBe('handler-failed');
    expect(h.t.eventsOf('error')[0]?.message).toBe(
      'handler failed: openai-realtime: OpenAI Realtime refused the connection: HTTP 401 Incorrect API key provided. (check OPENAI_API_KEY)',
    );
  });

  it('a server that never opens the session fails the call after connectTimeoutMs', async () => {
    const t0 = performance.now();
    const h = await startCall({ connectTimeoutMs: 300 }, { fake: { hangUpgrade: true } });
    await h.p.done;
    const took = performance.now() - t0;
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(2000);
    expect(h.t.eventsOf('error')[0]?.message).toMatch(/openai-realtime: OpenAI Realtime did not open a session within 300 ms \(ws:\/\/127\.0\.0\.1:\d+\/v1\/realtime\)/);
  });
});
