import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeElevenLabsServer, type FakeElevenLabsOptions } from '../fakes/elevenlabs-tts-server.ts';
import { collect } from '../tts-ws/collect.test-helper.ts';
import { AdapterConfigError } from '../types.ts';
import { elevenlabsTts, type ElevenLabsReply, type ElevenLabsTtsOptions } from './elevenlabs-tts.ts';

let fake: FakeElevenLabsServer | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function setup(fakeOptions: FakeElevenLabsOptions = {}, options: Partial<ElevenLabsTtsOptions> = {}) {
  fake = await FakeElevenLabsServer.start(fakeOptions);
  const tts = elevenlabsTts({ voiceId: 'voice-1', apiKey: 'test-key', url: fake.url, sampleRate: 16000, env: {}, ...options });
  return { fake, tts };
}


describe('elevenlabsTts', () => {
  it('speaks the documented handshake and messages', async () => {
    const { fake, tts } = await setup({}, { modelId: 'eleven_turbo_v2_5', voiceSettings: { stability: 0.5, similarity_boost: 0.8 } });
    const stream = tts.open(new AbortController().signal);
    stream.push('Hello there. ');
    stream.push('Second sentence.');
    stream.end();
    await collect(stream);
    const conn = fake.connections[0]!;
    expect(conn.url.pathname).toBe('/v1/text-to-speech/voice-1/stream-input');
    expect(Object.fromEntries(conn.url.searchParams)).toEqual({
      model_id: 'eleven_turbo_v2_5', output_format: 'pcm_16000', sync_alignment: 'true', auto_mode: 'true', inactivity_timeout: '180',
    });
    expect(conn.headers['xi-api-key']).toBe('test-key');
    expect(conn.received).toEqual([
      { text: ' ', voice_settings: { stability: 0.5, similarity_boost: 0.8 } },
      { text: 'Hello there. ' },
      { text: 'Second sentence. ' }, // a trailing space is added, as the reference asks
      { text: '' },
    ]);
    expect(tts.sampleRate).toBe(16000);
  });

  it('reassembles the audio byte for byte, odd byte splits included', async () => {
    for (const oddByteSplits of [false, true]) {
      const { fake, tts } = await setup({ oddByteSplits, charsPerMessage: 3 });
      const stream = tts.open(new AbortController().signal);
      stream.push('The quick brown fox. ');
      stream.push('Jumps over the lazy dog. ');
      stream.end();
      const { bytes } = await collect(stream);
      expect(fake.connections[0]!.audioMessages).toBeGreaterThan(10);
      expect(bytes.equals(Buffer.concat(fake.connections[0]!.sentAudio))).toBe(true);
      await fake.close();
    }
  });

  it('reports word timings cumulative across sentences, equal to the audio the fake laid out', async () => {
    // 16 kHz and 50 ms per character: every boundary is a whole ms, so the timings must match exactly.
    const { fake, tts } = await setup({ charsPerMessage: 5, referenceSpelling: true });
    const stream = tts.open(new AbortController().signal);
    stream.push('Hello world. ');
    stream.push('How are you today? ');
    stream.end();
    const { words, samples } = await collect(stream);
    expect(words).toEqual(fake.connections[0]!.words);
    expect(words.map((w) => w.word)).toEqual(['Hello', 'world.', 'How', 'are', 'you', 'today?']);
    expect(words[2]).toEqual({ word: 'How', startMs: 650, endMs: 800 }); // after the 13 characters of sentence one
    expect(words.at(-1)!.endMs).toBeLessThanOrEqual((samples.length / 16000) * 1000);
  });

  it('throws the provider error when the service closes with one mid-reply', async () => {
    const { tts } = await setup({ closeAfterMessages: 2, closeCode: 1008, closeReason: 'Quota exceeded' });
    const stream = tts.open(new AbortController().signal);
    stream.push('A sentence long enough for several messages. ');
    stream.end();
    const got: Int16Array[] = [];
    const error = await collect(stream, async (c) => void got.push(c.samples)).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'TtsProviderError', provider: 'elevenlabs', code: 1008 });
    expect(String(error)).toContain('Quota exceeded');
    expect(got.length).toBe(2); // what arrived before the error is still delivered
  });

  it('throws when the connection drops mid-reply', async () => {
    const { tts } = await setup({ dropAfterMessages: 1 });
    const stream = tts.open(new AbortController().signal);
    stream.push('A sentence long enough for several messages. ');
    await expect(collect(stream)).rejects.toThrow(/elevenlabs: connection closed mid-reply \(code 1006/);
  });

  it('ends audio without error and closes the socket at once on abort', async () => {
    const { fake, tts } = await setup({ chunkIntervalMs: 50 });
    const abort = new AbortController();
    const stream = tts.open(abort.signal);
    stream.push('A sentence long enough for several messages. ');
    const t0 = performance.now();
    const { samples } = await collect(stream, async () => abort.abort());
    expect(performance.now() - t0).toBeLessThan(500);
    expect(samples.length).toBe(8 * 800); // the first message only
    await expect.poll(() => fake.connections[0]!.closed).toBe(true);
  });

  it('does not connect when opened with an aborted signal', async () => {
    const { fake, tts } = await setup();
    const stream = tts.open(AbortSignal.abort());
    stream.push('Hello. ');
    stream.end();
    expect((await collect(stream)).samples.length).toBe(0);
    await new Promise((r) => setTimeout(r, 50));
    expect(fake.connections.length).toBe(0);
  });

  it('refuses to be created without a key, and names the variable', () => {
    expect(() => elevenlabsTts({ voiceId: 'v', env: {} })).toThrow(AdapterConfigError);
    expect(() => elevenlabsTts({ voiceId: 'v', env: {} })).toThrow('ELEVENLABS_API_KEY');
    expect(elevenlabsTts({ voiceId: 'v', env: { ELEVENLABS_API_KEY: 'k' } }).name).toBe('elevenlabs');
    expect(() => elevenlabsTts({ voiceId: 'v', apiKey: 'k', sampleRate: 8000 as 16000 })).toThrow('sampleRate');
    expect(() => elevenlabsTts({ voiceId: 'v', apiKey: 'k', url: 'https://x' })).toThrow('ws://');
  });

  it('reports a rejected key as an authentication failure with the service body', async () => {
    const { tts } = await setup({}, { apiKey: 'wrong' });
    const stream = tts.open(new AbortController().signal);
    stream.push('Hello. ');
    const error = await collect(stream).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 401 });
    expect(String(error)).toMatch(/authentication failed \(HTTP 401: .*invalid_api_key/);
  });

  it('times out a service that never answers the text', async () => {
    const { tts } = await setup({ silent: true }, { responseTimeoutMs: 100 });
    const stream = tts.open(new AbortController().signal);
    stream.push('Hello. ');
    await expect(collect(stream)).rejects.toThrow('no response within 100 ms');
  });

  it('times out a connection that never completes', async () => {
    const sockets: import('node:net').Socket[] = [];
    const blackhole: Server = createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', r));
    const tts = elevenlabsTts({ voiceId: 'v', apiKey: 'k', url: `ws://127.0.0.1:${(blackhole.address() as AddressInfo).port}`, connectTimeoutMs: 100 });
    const stream = tts.open(new AbortController().signal);
    stream.push('Hello. ');
    await expect(collect(stream)).rejects.toThrow('connect timed out after 100 ms');
    for (const s of sockets) s.destroy();
    blackhole.close();
  });

  it('rejects bad pushes clearly', async () => {
    const { tts } = await setup();
    const stream = tts.open(new AbortController().signal);
    expect(() => stream.push(42 as unknown as string)).toThrow(TypeError);
    stream.end();
    expect(() => stream.push('late')).toThrow('after end()');
    expect((await collect(stream)).samples.length).toBe(0);
  });

  it('holds a bounded amount of audio for a slow reader, and still delivers all of it', async () => {
    const text = 'This reply is long and arrives all at once. '.repeat(20); // 880 chars: 44 s, 704 000 samples
    const run = async (maxBufferedMs: number) => {
      const { fake, tts } = await setup({ charsPerMessage: 8 }, { maxBufferedMs });
      const stream = tts.open(new AbortController().signal) as ElevenLabsReply;
      for (const sentence of text.match(/[^.]+\. /g)!) stream.push(sentence);
      stream.end();
      const { bytes } = await collect(stream, () => new Promise((r) => setTimeout(r, 3)));
      expect(bytes.equals(Buffer.concat(fake.connections[0]!.sentAudio))).toBe(true);
      await fake.close();
      return { max: stream.stats.maxQueuedSamples, total: bytes.length / 2 };
    };
    const bounded = await run(1000); // 16 000 samples
    expect(bounded.max).toBeLessThan(16_000 + 32_000); // the mark, plus what `ws` had already read when paused (measured: 35 200)
    // The control: without the bound the same reader lets most of the reply pile up.
    const unbounded = await run(1e9);
    expect(unbounded.max).toBeGreaterThan(unbounded.total / 2);
  }, 20_000);
});
