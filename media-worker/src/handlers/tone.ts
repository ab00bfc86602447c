/**
 * Demo handler `HANDLER=tone`: shows handler events and output resampling. For each turn it
 * sends a `turn.info` event (how long the caller spoke and how loud), then plays a short beep
 * whose pitch rises with the turn's length, generated at 24 kHz: a rate no transport uses, so the
 * reply always goes through the output resampler.
 */
import { audioFrame, durationMs, type AudioFrame } from '../audio/frame.ts';
import { rms } from '../audio/pcm.ts';
import { replyOnPause } from './reply-on-pause.ts';

export const TONE_SAMPLE_RATE = 24_000;
export const TONE_MS = 400;
const CHUNK_MS = 100;
const FADE_MS = 10;

/** 220 Hz for an instant turn, one octave more per 5 s of speech, capped at 880 Hz. */
export function toneHz(turnMs: number): number {
  return Math.min(880, 220 * 2 ** (turnMs / 5000));
}

/** A sine tone with short fades (no clicks), cut in 100 ms frames. */
export function toneFrames(hz: number, ms = TONE_MS, rate = TONE_SAMPLE_RATE, amplitude = 0.3): AudioFrame[] {
  const total = Math.round((ms * rate) / 1000);
  const fade = Math.round((FADE_MS * rate) / 1000);
  const chunk = Math.round((CHUNK_MS * rate) / 1000);
  const frames: AudioFrame[] = [];
  for (let start = 0; start < total; start += chunk) {
    const n = Math.min(chunk, total - start);
    const samples = new Int16Array(n);
    for (let i = 0; i < n; i++) {
      const t = start + i;
      const env = Math.min(1, t / fade, (total - 1 - t) / fade);
      samples[i] = Math.round(32767 * amplitude * env * Math.sin((2 * Math.PI * hz * t) / rate));
    }
    frames.push(audioFrame(samples, rate, 1));
  }
  return frames;
}

export default replyOnPause(async function* tone(turn, ctx) {
  const speechMs = Math.round(durationMs(turn));
  const hz = toneHz(speechMs);
  yield { type: 'turn.info', speechMs, rms: Math.round(rms(turn)), toneHz: Math.round(hz) };
  for (const frame of toneFrames(hz)) {
    if (ctx.signal.aborted) return;
    yield frame;
  }
});
