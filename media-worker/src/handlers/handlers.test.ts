import { describe, expect, it } from 'vitest';
import { noLegs } from '../conference/legs-api.ts';
import { durationMs, isAudioFrame, type AudioFrame } from '../audio/frame.ts';
import echo from './echo.ts';
import { replyOnPause, REPLY_ON_PAUSE_DEFAULTS } from './reply-on-pause.ts';
import { stream } from './stream.ts';
import tone, { TONE_SAMPLE_RATE, toneHz } from './tone.ts';
import type { HandlerContext, ReplyChunk } from './types.ts';

const noop = async function* (): AsyncGenerator<ReplyChunk> {};

describe('replyOnPause', () => {
  it('fills the documented defaults', () => {
    const h = replyOnPause(noop);
    expect(h.kind).toBe('reply-on-pause');
    expect(h.options).toEqual({ ...REPLY_ON_PAUSE_DEFAULTS, greeting: undefined });
    expect(REPLY_ON_PAUSE_DEFAULTS).toEqual({
      silenceMs: 600,
      minSpeechMs: 250,
      speechThreshold: 0.5,
      maxSpeechMs: 30_000,
      canInterrupt: true,
      inputSampleRate: 16_000,
    });
  });

  it('keeps given options and treats undefined as the default', () => {
    const greeting = async function* (): AsyncGenerator<ReplyChunk> {};
    const h = replyOnPause(noop, { silenceMs: 800, canInterrupt: false, inputSampleRate: 24_000, minSpeechMs: undefined, greeting });
    expect(h.options).toMatchObject({ silenceMs: 800, canInterrupt: false, inputSampleRate: 24_000, minSpeechMs: 250, greeting });
  });

  it.each([
    [{ silenceMs: -1 }, /"silenceMs" must be between 100 and 10000, got -1/],
    [{ silenceMs: Number.NaN }, /"silenceMs" must be a finite number/],
    [{ silenceMs: '600' }, /"silenceMs" must be a finite number, got "600"/],
    [{ speechThreshold: 1.5 }, /"speechThreshold" must be between/],
    [{ inputSampleRate: 16000.5 }, /"inputSampleRate" must be a whole number/],
    [{ inputSampleRate: 4000 }, /"inputSampleRate" must be between 8000 and 48000/],
    [{ minSpeechMs: 5000, maxSpeechMs: 4000 }, /maxSpeechMs \(4000\) must be greater than minSpeechMs \(5000\)/],
    [{ canInterrupt: 'yes' }, /"canInterrupt" must be true or false/],
    [{ silenceMS: 700 }, /unknown option "silenceMS"/],
    [{ greeting: 'hi' }, /option "greeting" must be a function/],
  ])('rejects %j', (options, message) => {
    expect(() => replyOnPause(noop, options as never)).toThrow(message);
  });

  it('rejects a missing function', () => {
    expect(() => replyOnPause(undefined as never)).toThrow(/replyOnPause: the reply function must be a function, got undefined/);
  });
});

describe('stream', () => {
  it('fills defaults and validates', () => {
    const fn = async function* (): AsyncGenerator<ReplyChunk> {};
    expect(stream(fn).options).toEqual({ inputSampleRate: 16_000, inputFrameMs: 20 });
    expect(stream(fn, { inputSampleRate: 24_000, inputFrameMs: 40 }).options).toEqual({ inputSampleRate: 24_000, inputFrameMs: 40 });
    expect(() => stream(fn, { inputFrameMs: 5 })).toThrow(/"inputFrameMs" must be between 10 and 1000/);
    expect(() => stream(fn, { inputSampleRate: 22_050, inputFrameMs: 15 })).toThrow(/not a whole number of samples at 22050 Hz/);
    expect(() => stream(fn, { frameMs: 20 } as never)).toThrow(/unknown option "frameMs"/);
  });
});

const ctx = (): HandlerContext => ({
  session: { id: 's', kind: 'webrtc' },
  signal: new AbortController().signal,
  lastInterruption: undefined,
  send: () => {},
  inputs: new Map(),
  state: {},
  clearPlayback: () => 0,
  legs: noLegs(() => ({ legId: 's', kind: 'webrtc', state: 'joined', primary: true })),
  transfer: () => Promise.resolve({ ok: false, mode: 'warm', reason: 'unsupported' }),
});

async function collect(it: AsyncIterable<ReplyChunk>): Promise<ReplyChunk[]> {
  const out: ReplyChunk[] = [];
  for await (const c of it) out.push(c);
  return out;
}

describe('demo handlers', () => {
  it('echo: default options (no greeting, 600 ms silence) and replays the turn', async () => {
    expect(echo.kind).toBe('reply-on-pause');
    if (echo.kind !== 'reply-on-pause') return;
    expect(echo.options.greeting).toBeUndefined();
    expect(echo.options.silenceMs).toBe(600);
    const turn: AudioFrame = { samples: new Int16Array(1600).fill(7), sampleRate: 16_000, channels: 1 };
    expect(await collect(echo.fn(turn, ctx()))).toEqual([turn]);
  });

  it('tone: a turn.info event, then a 24 kHz tone whose pitch rises with the turn length', async () => {
    if (tone.kind !== 'reply-on-pause') throw new Error('tone is replyOnPause');
    const turn: AudioFrame = { samples: new Int16Array(16_000).fill(1000), sampleRate: 16_000, channels: 1 };
    const out = await collect(tone.fn(turn, ctx()));
    expect(out[0]).toEqual({ type: 'turn.info', speechMs: 1000, rms: 1000, toneHz: Math.round(toneHz(1000)) });
    const frames = out.slice(1);
    expect(frames.length).toBeGreaterThan(0);
    expect(frames.every((f) => isAudioFrame(f) && f.sampleRate === TONE_SAMPLE_RATE)).toBe(true);
    expect(frames.reduce((s, f) => s + durationMs(f as AudioFrame), 0)).toBeCloseTo(400, 5);
    expect(toneHz(0)).toBe(220);
    expect(toneHz(2000)).toBeGreaterThan(toneHz(1000));
    expect(toneHz(60_000)).toBe(880);
  });
});
