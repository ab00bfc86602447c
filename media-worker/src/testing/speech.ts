/**
 * `speech(text)`: a caller's spoken turn for tests, synthesized offline with the worker's Flite
 * voice (the same engine as `say()`), with a little silence before it as a real call would have.
 */
import type { AudioFrame } from '../audio/frame.ts';
import { concatFrames, silence } from '../audio/pcm.ts';
import type { FliteVoice } from '../voice/flite-voices.ts';
import { say } from '../voice/say.ts';

export interface SpeechOptions {
  /** Default 16000. */
  sampleRate?: number;
  /** A Flite voice; default 'slt'. */
  voice?: FliteVoice;
  /** Silence before the words (ms). Default 300. */
  leadMs?: number;
}

export async function speech(text: string, options: SpeechOptions = {}): Promise<AudioFrame> {
  const sampleRate = options.sampleRate ?? 16_000;
  const frames: AudioFrame[] = [silence(sampleRate, 1, options.leadMs ?? 300)];
  for await (const f of say(text, { sampleRate, ...(options.voice ? { voice: options.voice } : {}) })) frames.push(f);
  return concatFrames(frames);
}
