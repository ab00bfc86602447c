/**
 * Test bed for the playout engine: fake timers and a FrameClock on fake time, so every tick,
 * send and timestamp is exact; a sink that records what it is given.
 */
import { afterEach, beforeAll, beforeEach, vi } from 'vitest';
import { audioFrame, type AudioFrame } from '../frame.ts';
import { FrameClock } from '../frame-clock.ts';
import { initResampler } from '../resampler.ts';
import { PlayoutEngine } from './engine.ts';
import type { PlayoutEngineOptions, PlayoutSink, SendMeta } from './types.ts';

export interface Sent extends SendMeta {
  frame: AudioFrame;
  at: number;
}

/** `ms` of mono (or `channels`) audio at `rate` whose every sample holds `tag`. */
export function tagged(ms: number, tag: number, rate = 48000, channels = 1): AudioFrame {
  return audioFrame(new Int16Array(((ms * rate) / 1000) * channels).fill(tag), rate, channels);
}

export const engines: PlayoutEngine[] = [];

export function setup(sink: Partial<PlayoutSink> = {}, opts: Partial<PlayoutEngineOptions> = {}) {
  const sent: Sent[] = [];
  const clears: number[] = [];
  const clock = opts.clock ?? new FrameClock({ frameMs: 20, now: () => Date.now(), originMs: 0 });
  const engine = new PlayoutEngine({
    sink: {
      sampleRate: 48000,
      leadMs: 0,
      acknowledges: false,
      send: (frame, meta) => sent.push({ frame, ...meta, at: Date.now() }),
      clear: () => clears.push(Date.now()),
      ...sink,
    },
    clock,
    initialRtpTimestamp: 0,
    ...opts,
  });
  engines.push(engine);
  return { engine, sent, clears, clock };
}

export const advance = (ms: number) => vi.advanceTimersByTimeAsync(ms);
/** Lets microtasks (a talkspurt started at once) run without moving time. */
export const settle = () => vi.advanceTimersByTimeAsync(0);

/** Installs the fake timers and the cleanup around each test of the calling file. */
export function useFakePlayoutTime(): void {
  beforeAll(async () => {
    await initResampler();
  });

  beforeEach(() => {
    vi.useFakeTimers({ now: 0, toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'Date'] });
  });

  afterEach(() => {
    for (const e of engines.splice(0)) e.destroy();
    vi.useRealTimers();
  });
}
