/**
 * A slow consumer: the model sends a long reply at once, far faster than playout takes it. The
 * adapter must hold at most maxBufferedMs (plus one socket read) and leave the rest on the
 * server's side of the TCP connection, then deliver all of it, in order, as it is consumed.
 * The generator is driven directly here, to stall it at will.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { noLegs } from '../../conference/legs-api.ts';
import { afterEach, describe, expect, it } from 'vitest';
import { audioFrame, durationMs, isAudioFrame, type AudioFrame } from '../../audio/frame.ts';
import type { HandlerContext } from '../../handlers/types.ts';
import { FakeRealtimeServer } from '../fakes/openai-realtime-server.ts';
import { openaiRealtime, openaiRealtimeStats } from './openai-realtime.ts';

let fake: FakeRealtimeServer | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

describe('openaiRealtime backpressure', { timeout: 20_000 }, () => {
  it('holds a 300 s reply sent at once to maxBufferedMs, pausing the socket, and loses nothing', async () => {
    fake = await FakeRealtimeServer.start();
    const handler = openaiRealtime({ url: fake.url, apiKey: 'sk-test', maxBufferedMs: 5000 });
    const ac = new AbortController();
    const ctx: HandlerContext = {
      session: { id: 's', kind: 'webrtc' },
      signal: ac.signal,
      lastInterruption: undefined,
      send: () => {},
      state: {},
      inputs: new Map(),
      clearPlayback: () => 0,
      legs: noLegs(() => ({ legId: 's', kind: 'webrtc', state: 'joined', primary: true })),
      transfer: () => Promise.resolve({ ok: false, mode: 'warm', reason: 'unsupported' }),
    };
    async function* input(): AsyncGenerator<AudioFrame> {
      yield audioFrame(new Int16Array(480), 24_000);
      await new Promise((resolve) => ac.signal.addEventListener('abort', resolve));
    }
    const gen = handler.fn(input(), ctx)[Symbol.asyncIterator]();
    const first = gen.next(); // connects
    await fake.waitFor(() => fake!.inputMs() > 0, 'input');
    fake.responses.push({ audioMs: 300_000, chunkMs: 100 });
    fake.speechStopped();
    expect((await first).value).toMatchObject({ type: 'reply.start', turn: 1 });

    await sleep(1500); // the consumer stalls while the model sends everything it can
    const stats = openaiRealtimeStats(ctx)!;
    // At most the limit plus what the socket had read when it paused: one 64 KiB read holds ~10
    // deltas of 100 ms (6.4 KiB of base64 each), so 1 s (measured: 5400-6000 ms).
    expect(stats.peakBufferedMs).toBeGreaterThanOrEqual(5000);
    expect(stats.peakBufferedMs).toBeLessThanOrEqual(6100);
    expect(stats.pauses).toBe(1);
    // The rest waits on the server's side: its socket could not hand it to our paused reader.
    const held = fake.bufferedAmount();
    expect(held).toBeGreaterThan(5_000_000);

    let ms = 0;
    let samples = 0;
    for (;;) {
      const r = await gen.next();
      if (r.done) throw new Error('ended before reply.end');
      if (isAudioFrame(r.value)) {
        ms += durationMs(r.value);
        // In order: each frame continues the tone where the last one ended.
        const expected = Math.round(8000 * Math.sin((2 * Math.PI * 440 * samples) / 24_000));
        if (r.value.samples[0] !== expected) throw new Error(`frame at ${ms} ms out of order`);
        samples += r.value.samples.length;
      } else if (r.value.type === 'reply.end') break;
    }
    expect(ms).toBe(300_000);
    expect(openaiRealtimeStats(ctx)!.peakBufferedMs).toBeLessThanOrEqual(6100);
    ac.abort();
    await gen.return?.(undefined);
  });
});
