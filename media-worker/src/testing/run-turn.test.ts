import { describe, expect, it } from 'vitest';
import { audioFrame, durationMs, type AudioFrame } from '../audio/frame.ts';
import { rms, silence } from '../audio/pcm.ts';
import echo from '../handlers/echo.ts';
import { replyOnPause } from '../handlers/reply-on-pause.ts';
import { stream } from '../handlers/stream.ts';
import { runTurn, speech } from './index.ts';

describe('speech()', () => {
  it('is silence then Flite speech at the asked rate', async () => {
    const s = await speech('Hello there, how are you today?', { sampleRate: 24_000, leadMs: 300 });
    expect(s.sampleRate).toBe(24_000);
    expect(durationMs(s)).toBeGreaterThan(1000);
    expect(rms(audioFrame(s.samples.subarray(0, 24 * 300), 24_000))).toBe(0);
    expect(rms(s)).toBeGreaterThan(500);
  });
});

describe('runTurn()', { timeout: 30_000 }, () => {
  it('answers a spoken turn through the real VAD: echo plays the turn back, events in order', async () => {
    const input = await speech('Hello there, how are you today?');
    const { audio, frames, events } = await runTurn(echo, input);
    expect(frames).toHaveLength(1);
    // The turn is the speech (input less its lead silence), give or take the VAD's pre-roll and tail.
    expect(Math.abs(durationMs(audio) - (durationMs(input) - 300))).toBeLessThan(600);
    expect(events.map((e) => e.type)).toEqual(['vad.start', 'vad.end', 'reply.start', 'reply.end', 'metrics']);
  });

  it('returns the handler events and state, and joins frames of several rates', async () => {
    const h = replyOnPause(async function* (turn, ctx) {
      ctx.state['turns'] = Number(ctx.state['turns'] ?? 0) + 1;
      yield { type: 'transcript', role: 'assistant', text: `heard ${Math.round(durationMs(turn))} ms` };
      yield silence(8000, 1, 100);
      yield silence(16_000, 1, 100);
    });
    const r = await runTurn(h, await speech('Good morning'), { state: { turns: 2 } });
    expect(r.state).toEqual({ turns: 3 });
    expect(r.events.filter((e) => e.type === 'transcript')).toHaveLength(1);
    expect(r.audio.sampleRate).toBe(8000);
    expect(durationMs(r.audio)).toBeCloseTo(200, 0);
  });

  it('reports a handler failure as the error event the client would get', async () => {
    const h = replyOnPause(async function* () {
      yield { type: 'note' };
      throw new Error('model unreachable');
    });
    const r = await runTurn(h, await speech('Are you there?'));
    expect(r.events.find((e) => e.type === 'error')).toMatchObject({ message: 'handler failed: model unreachable' });
    expect(r.audio.samples).toHaveLength(0);
    expect(r.logs.join('\n')).toContain('model unreachable');
  });

  it('rejects with a clear error when the input holds no speech', async () => {
    const quiet: AudioFrame = silence(16_000, 1, 1000);
    await expect(runTurn(echo, quiet, { timeoutMs: 1500 })).rejects.toThrow(/no turn was detected/);
  });

  it('refuses stream handlers and non-audio input', async () => {
    const s = stream(async function* () {});
    await expect(runTurn(s, silence(16_000, 1, 100))).rejects.toThrow(/replyOnPause/);
    await expect(runTurn(echo, new Int16Array(10) as unknown as AudioFrame)).rejects.toThrow(/AudioFrame/);
  });
});
