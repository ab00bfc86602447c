/** Stream (raw duplex) handlers over the in-memory transport: input conversion, output forwarding, drops, end. */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { audioFrame, durationMs, type AudioFrame } from '../audio/frame.ts';
import { readWav } from '../audio/pcm.ts';
import { initResampler } from '../audio/resampler.ts';
import { stream } from '../handlers/stream.ts';
import type { Handler } from '../handlers/types.ts';
import { MemoryTransport } from './memory-transport.test-helper.ts';
import type { PipelineLogger } from './session-context.ts';
import { runPipeline, type Pipeline } from './session-pipeline.ts';

const log: PipelineLogger = { warn: () => {}, error: () => {} };
let s48: AudioFrame;
beforeAll(async () => {
  await initResampler();
  s48 = readWav(readFileSync(new URL('../../../test/fixtures/audio/speech-48k.wav', import.meta.url)));
});

const running: Pipeline[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) {
    p.stop('test over');
    await p.done;
  }
});

function start(handler: Handler) {
  const t = new MemoryTransport();
  const p = runPipeline({ handler, transport: t, session: { id: 's', kind: 'webrtc' }, log });
  running.push(p);
  return { t, p };
}

describe('stream handler pipeline', { timeout: 15_000 }, () => {
  it('gets mono frames at its rate and frame length; its audio and events reach the transport', async () => {
    const got: AudioFrame[] = [];
    const h = stream(
      async function* (input, ctx) {
        ctx.send({ type: 'ready' });
        for await (const f of input) {
          got.push(f);
          yield f; // echo at 24 kHz
          if (got.length === 50) yield { type: 'heard', frames: got.length };
        }
      },
      { inputSampleRate: 24_000, inputFrameMs: 20 },
    );
    const { t } = start(h);
    await t.feed(s48, { speed: 8, frameMs: 10 });
    await t.waitForEvent('heard');
    expect(got.every((f) => f.sampleRate === 24_000 && f.channels === 1 && f.samples.length === 480)).toBe(true);
    // ~2933 ms of 48 kHz input arrives as ~146 frames of 20 ms (the resampler holds back a few samples).
    await t.waitFor(() => got.length >= 145, '145 frames', 5000);
    await sleep(50); // and no more than that
    expect(got.length).toBeGreaterThanOrEqual(145);
    expect(got.length).toBeLessThanOrEqual(147);
    expect(t.types()).toEqual(['ready', 'heard']); // no turn events for stream handlers
    expect(t.played.length).toBe(got.length);
    expect(t.played.every((p) => p.frame.sampleRate === 24_000)).toBe(true);
    // The content survives 48k -> 24k: same loudness envelope (speech at 250-2683 ms).
    const loud = (f: AudioFrame) => Math.max(...Array.from(f.samples, Math.abs));
    expect(loud(got[5]!)).toBeLessThan(200);
    expect(Math.max(...got.slice(20, 120).map(loud))).toBeGreaterThan(3000);
  });

  it('a stream reply adds no abort listener per frame (one per reply), and stop() still ends it', async () => {
    let added = 0;
    let frames = 0;
    const h = stream(
      async function* (input, ctx) {
        const add = ctx.signal.addEventListener.bind(ctx.signal);
        ctx.signal.addEventListener = ((...args: Parameters<typeof add>) => {
          added++;
          add(...args);
        }) as typeof add;
        for await (const f of input) {
          frames++;
          yield f;
          if (frames === 100) yield { type: 'counted' };
        }
      },
      { inputSampleRate: 48_000, inputFrameMs: 20 },
    );
    const { t, p } = start(h);
    await t.feed(s48, { speed: 8, frameMs: 20 });
    await t.waitForEvent('counted');
    expect(added).toBeLessThanOrEqual(1);
    p.stop('test over');
    await p.done;
  });

  it('drops the oldest input when the handler falls behind, and counts it', async () => {
    const got: AudioFrame[] = [];
    const h = stream(async function* (input) {
      for await (const f of input) {
        got.push(f);
        await sleep(50); // slower than real time (20 ms frames)
      }
    });
    const { t, p } = start(h);
    await t.feed(audioFrame(new Int16Array(16_000 * 4).fill(3), 16_000), { speed: Infinity });
    await sleep(100);
    expect(p.stats.droppedInputFrames).toBeGreaterThan(100);
    expect(got.length + p.stats.droppedInputFrames).toBeLessThanOrEqual(200);
    // The queue holds at most 1 s (50 frames) of input.
    expect(200 - got.length - p.stats.droppedInputFrames).toBeLessThanOrEqual(50);
  });

  it('ends the pipeline when the handler returns, after its audio played out', async () => {
    const h = stream(async function* () {
      yield audioFrame(new Int16Array(2400), 24_000); // 100 ms
    });
    const { t, p } = start(h);
    const t0 = performance.now();
    await p.done;
    expect(p.reason).toBe('handler-ended');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(95);
    expect(t.playedMs()).toBe(100);
    expect(t.listenerCount()).toBe(0);
  });

  it('a failing stream handler sends an error and ends the pipeline', async () => {
    const h = stream(async function* (input) {
      for await (const _f of input) throw new Error('upstream model closed');
    });
    const { t, p } = start(h);
    await t.feed(audioFrame(new Int16Array(320), 16_000));
    await p.done;
    expect(p.reason).toBe('handler-failed');
    expect(t.eventsOf('error')).toEqual([{ type: 'error', message: 'handler failed: upstream model closed' }]);
  });

  it('stop() ends the input iteration and aborts ctx.signal; done resolves', async () => {
    let signal: AbortSignal | undefined;
    let inputEnded = false;
    const h = stream(async function* (input, ctx) {
      signal = ctx.signal;
      for await (const _f of input) {
        // consume
      }
      inputEnded = true;
    });
    const { t, p } = start(h);
    await t.feed(audioFrame(new Int16Array(3200), 16_000));
    p.stop('hangup');
    await p.done;
    expect(signal?.aborted).toBe(true);
    expect(p.reason).toBe('hangup');
    expect(t.listenerCount()).toBe(0);
    await sleep(0);
    expect(inputEnded).toBe(true);
  });

  it('ctx.clearPlayback lets a stream handler drop its queued audio', async () => {
    let played = -1;
    const h = stream(async function* (input, ctx) {
      yield audioFrame(new Int16Array(16_000 * 5), 16_000);
      for await (const _f of input) {
        played = ctx.clearPlayback();
        break;
      }
    });
    const { t } = start(h);
    await sleep(50);
    await t.feed(audioFrame(new Int16Array(320), 16_000));
    await t.waitFor(() => t.clears.length === 1, 'a clear', 2000);
    expect(t.clears).toHaveLength(1);
    expect(played).toBeGreaterThan(30);
    expect(played).toBeLessThan(500);
    expect(durationMs(t.played[0]!.frame)).toBe(5000);
  });
});
