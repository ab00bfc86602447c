/**
 * The level of caller audio in short blocks (rms of int16 samples over all channels), on a time
 * base the caller keeps: the turn detector uses them to find where speech really ended
 * (turn-detector.ts, `pushEnergy`). A frame is cut into blocks of `blockMs`; the last block of a
 * frame whose length is not a multiple of it is shorter, so blocks always tile the frame exactly.
 */
import type { AudioFrame } from '../audio/frame.ts';
import type { EnergyBlock } from './turn-detector.ts';

/** Energy block length: a third of a 32 ms VAD window, and two per 20 ms packet. */
export const ENERGY_BLOCK_MS = 10;

/** `frame`'s blocks, the first starting at `startMs`. */
export function energyBlocks(frame: AudioFrame, startMs: number, blockMs = ENERGY_BLOCK_MS): EnergyBlock[] {
  const { samples, sampleRate, channels } = frame;
  if (!(blockMs > 0)) throw new RangeError(`blockMs ${blockMs} must be > 0`);
  const perBlock = Math.max(1, Math.round((sampleRate * blockMs) / 1000)) * channels;
  const blocks: EnergyBlock[] = [];
  const msPerSample = 1000 / (sampleRate * channels);
  for (let from = 0; from < samples.length; from += perBlock) {
    const to = Math.min(samples.length, from + perBlock);
    let sum = 0;
    for (let i = from; i < to; i++) {
      const s = samples[i]!;
      sum += s * s;
    }
    blocks.push({ startMs: startMs + from * msPerSample, endMs: startMs + to * msPerSample, rms: Math.sqrt(sum / (to - from)) });
  }
  return blocks;
}
