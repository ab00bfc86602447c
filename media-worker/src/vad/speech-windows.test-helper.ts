import { readFileSync } from 'node:fs';
import { int16ToFloat32, readWav } from '../audio/pcm.ts';
import { SILERO_WINDOW_SAMPLES } from './silero-model.ts';

/**
 * hello-pause-question.wav (16 kHz mono: phrase 1 at 500-2933 ms, phrase 2 at 4133-5269 ms) cut
 * into Silero's 512-sample windows, as floats in [-1, 1].
 */
export function speechWindows(): Float32Array[] {
  const f = readWav(readFileSync(new URL('../../../test/fixtures/audio/hello-pause-question.wav', import.meta.url)));
  if (f.sampleRate !== 16_000 || f.channels !== 1) throw new Error(`fixture is ${f.sampleRate} Hz x ${f.channels}, not 16 kHz mono`);
  const windows: Float32Array[] = [];
  for (let start = 0; start + SILERO_WINDOW_SAMPLES <= f.samples.length; start += SILERO_WINDOW_SAMPLES) {
    windows.push(int16ToFloat32(f.samples.subarray(start, start + SILERO_WINDOW_SAMPLES)));
  }
  return windows;
}
