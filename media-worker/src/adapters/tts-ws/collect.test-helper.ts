/** Reads a TTS reply's audio to the end (the TTS adapters' tests): its samples, their bytes, and every word timing. */
import type { TtsChunk, TtsStream, WordTiming } from '../types.ts';

export async function collect(stream: TtsStream, eachChunk?: (c: TtsChunk) => Promise<void>): Promise<{ samples: Int16Array; bytes: Buffer; words: WordTiming[] }> {
  const parts: Int16Array[] = [];
  const words: WordTiming[] = [];
  for await (const chunk of stream.audio) {
    parts.push(chunk.samples);
    words.push(...(chunk.words ?? []));
    await eachChunk?.(chunk);
  }
  const samples = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) samples.set(p, (at += p.length) - p.length);
  return { samples, words, bytes: Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength) };
}
