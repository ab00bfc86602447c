import { afterEach, describe, expect, it } from 'vitest';
import { FakeCartesiaServer, type FakeCartesiaOptions } from '../fakes/cartesia-tts-server.ts';
import { collect } from '../tts-ws/collect.test-helper.ts';
import { AdapterConfigError } from '../types.ts';
import { cartesiaTts, parseWordTimestamps, type CartesiaReply, type CartesiaTtsOptions } from './cartesia-tts.ts';

let fake: FakeCartesiaServer | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function setup(fakeOptions: FakeCartesiaOptions = {}, options: Partial<CartesiaTtsOptions> = {}) {
  fake = await FakeCartesiaServer.start(fakeOptions);
  const tts = cartesiaTts({ voiceId: 'voice-1', apiKey: 'test-key', url: fake.url, sampleRate: 16000, env: {}, ...options });
  return { fake, tts };
}


const request = (contextId: unknown, transcript: string, more: boolean) => ({
  model_id: 'sonic-3', voice: { mode: 'id', id: 'voice-1' }, output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 16000 },
  add_timestamps: true, max_buffer_delay_ms: 0, language: 'en', context_id: contextId, transcript, continue: more,
});

describe('cartesiaTts', () => {
  it('speaks the documented handshake and continuation messages', async () => {
    const { fake, tts } = await setup({}, { language: 'en' });
    const stream = tts.open(new AbortController().signal);
    stream.push('Hello there. ');
    stream.push('Second sentence. ');
    stream.end();
    await collect(stream);
    const conn = fake.connections[0]!;
    expect(conn.url.pathname).toBe('/tts/websocket');
    expect(conn.url.searchParams.get('cartesia_version')).toBe('2026-03-01');
    expect(conn.headers.authorization).toBe('Bearer test-key');
    const id = conn.received[0]!.context_id;
    expect(typeof id).toBe('string');
    expect(conn.received).toEqual([request(id, 'Hello there. ', true), request(id, 'Second sentence. ', true), request(id, '', false)]);
  });

  it('reassembles the audio byte for byte, odd byte splits included', async () => {
    for (const oddByteSplits of [false, true]) {
      const { fake, tts } = await setup({ oddByteSplits, charsPerChunk: 3 });
      const stream = tts.open(new AbortController().signal);
      stream.push('The quick brown fox. ');
      stream.push('Jumps over the lazy dog. ');
      stream.end();
      const { bytes } = await collect(stream);
      expect(fake.connections[0]!.chunks).toBeGreaterThan(10);
      expect(bytes.equals(Buffer.concat(fake.connections[0]!.sentAudio))).toBe(true);
      await fake.close();
    }
  });

  it('reports word timings in ms across sentences, equal to the audio the fake laid out', async () => {
    const { fake, tts } = await setup({ charsPerChunk: 5 });
    const stream = tts.open(new AbortController().signal);
    stream.push('Hello world. ');
    stream.push('How are you today? ');
    stream.end();
    const { words, samples } = await collect(stream);
    expect(words).toEqual(fake.connections[0]!.words);
    expect(words[2]).toEqual({ word: 'How', startMs: 650, endMs: 800 });
    expect(words.at(-1)!.endMs).toBeLessThanOrEqual((samples.length / 16000) * 1000);
  });

  it('moves to a new context after the old one idled past expiry, keeping timings cumulative', async () => {
    const { fake, tts } = await setup({ contextExpiryMs: 150 }, { contextIdleMs: 100 });
    const stream = tts.open(new AbortController().signal) as CartesiaReply;
    stream.push('Hello world. ');
    const it = stream.audio[Symbol.asyncIterator]();
    const first = await it.next();
    await new Promise((r) => setTimeout(r, 300)); // the LLM pauses past the expiry
    stream.push('How are you? ');
    stream.end();
    const words = [...(first.value?.words ?? [])];
    for (let r = await it.next(); !r.done; r = await it.next()) words.push(...(r.value.words ?? []));
    expect(stream.contextCount).toBe(2);
    const conn = fake.connections[0]!;
    expect(conn.expired).toEqual([conn.received[0]!.context_id]); // the fake did expire the first context...
    expect(conn.lateInputs.map((m) => m.transcript)).toEqual(['']); // ...and no text went to it after (only its closing message)
    expect(new Set(conn.received.map((m) => m.context_id)).size).toBe(2);
    expect(words).toEqual(conn.words);
    expect(words[2]).toEqual({ word: 'How', startMs: 650, endMs: 800 });
  });

  it('throws the provider error message mid-reply, after the audio before it', async () => {
    const { tts } = await setup({ errorAfterChunks: 2 });
    const stream = tts.open(new AbortController().signal);
    stream.push('A sentence long enough for several chunks. ');
    stream.end();
    let chunks = 0;
    const error = await collect(stream, async () => void chunks++).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'TtsProviderError', provider: 'cartesia', code: 400 });
    expect(String(error)).toContain('Internal error: The synthesis failed');
    expect(chunks).toBeGreaterThanOrEqual(2);
  });

  it('throws when the connection drops mid-reply', async () => {
    const { tts } = await setup({ dropAfterChunks: 1 });
    const stream = tts.open(new AbortController().signal);
    stream.push('A sentence long enough for several chunks. ');
    await expect(collect(stream)).rejects.toThrow(/cartesia: connection closed mid-reply \(code 1006/);
  });

  it('on abort cancels the context, closes the socket and ends audio without error', async () => {
    const { fake, tts } = await setup({ chunkIntervalMs: 50 });
    const abort = new AbortController();
    const stream = tts.open(abort.signal);
    stream.push('A sentence long enough for several chunks. ');
    const t0 = performance.now();
    const { samples } = await collect(stream, async () => abort.abort());
    expect(performance.now() - t0).toBeLessThan(500);
    expect(samples.length).toBe(8 * 800);
    const conn = fake.connections[0]!;
    await expect.poll(() => conn.closed).toBe(true);
    expect(conn.received.at(-1)).toEqual({ context_id: conn.received[0]!.context_id, cancel: true });
  });

  it('refuses to be created without a key or with bad settings', () => {
    expect(() => cartesiaTts({ voiceId: 'v', env: {} })).toThrow(AdapterConfigError);
    expect(() => cartesiaTts({ voiceId: 'v', env: {} })).toThrow('CARTESIA_API_KEY');
    expect(cartesiaTts({ voiceId: 'v', env: { CARTESIA_API_KEY: 'k' } }).sampleRate).toBe(24000);
    expect(() => cartesiaTts({ voiceId: '', apiKey: 'k' })).toThrow('voiceId');
    expect(() => cartesiaTts({ voiceId: 'v', apiKey: 'k', version: 'latest' })).toThrow('YYYY-MM-DD');
    expect(() => cartesiaTts({ voiceId: 'v', apiKey: 'k', env: { CARTESIA_URL: 'not a url' } })).toThrow('CARTESIA_URL');
  });

  it('reports a rejected key as an authentication failure', async () => {
    const { tts } = await setup({}, { apiKey: 'wrong' });
    const stream = tts.open(new AbortController().signal);
    stream.push('Hello. ');
    await expect(collect(stream)).rejects.toThrow(/cartesia: authentication failed \(HTTP 401: .*Invalid API key/);
  });

  it('times out a service that goes quiet before the end of the reply', async () => {
    const { tts } = await setup({ silent: true }, { responseTimeoutMs: 100 });
    const stream = tts.open(new AbortController().signal);
    stream.push('Hello. ');
    stream.end();
    await expect(collect(stream)).rejects.toThrow('cartesia: no message for 100 ms before the end of the reply');
  });

  it('holds a bounded amount of audio for a slow reader, and still delivers all of it', async () => {
    const text = 'This reply is long and arrives all at once. '.repeat(20); // 880 chars: 44 s, 704 000 samples
    const run = async (maxBufferedMs: number) => {
      const { fake, tts } = await setup({ charsPerChunk: 8 }, { maxBufferedMs });
      const stream = tts.open(new AbortController().signal) as CartesiaReply;
      for (const sentence of text.match(/[^.]+\. /g)!) stream.push(sentence);
      stream.end();
      const { bytes } = await collect(stream, () => new Promise((r) => setTimeout(r, 3)));
      expect(bytes.equals(Buffer.concat(fake.connections[0]!.sentAudio))).toBe(true);
      await fake.close();
      return { max: stream.stats.maxQueuedSamples, total: bytes.length / 2 };
    };
    const bounded = await run(1000); // 16 000 samples
    expect(bounded.max).toBeLessThan(16_000 + 32_000);
    const unbounded = await run(1e9); // the control: the same reader without the bound
    expect(unbounded.max).toBeGreaterThan(unbounded.total / 2);
  }, 20_000);
});

describe('parseWordTimestamps', () => {
  it('converts seconds to ms on the reply timeline and rejects malformed entries', () => {
    expect(parseWordTimestamps({ words: ['a', 'b'], start: [0, 0.5], end: [0.4, 0.9] }, 1000)).toEqual([
      { word: 'a', startMs: 1000, endMs: 1400 },
      { word: 'b', startMs: 1500, endMs: 1900 },
    ]);
    expect(() => parseWordTimestamps({ words: ['a'], start: [0, 1], end: [1] }, 0)).toThrow('one length');
    expect(() => parseWordTimestamps({ words: ['a'], start: [2], end: [1] }, 0)).toThrow('entry 0');
  });
});
