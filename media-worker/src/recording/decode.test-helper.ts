/** Decodes an Ogg Opus recording back to PCM the way RFC 7845 players do (pre-skip, end trim). */
import { audioFrame, type AudioFrame } from '../audio/frame.ts';
import { OpusDecoderStream } from '../audio/opus.ts';
import { readOggOpus, type OggOpusFile } from './ogg-reader.test-helper.ts';

/** Playable PCM at `rate`: decoded packets minus pre-skip, cut at the final granule. */
export function decodeOggOpus(bytes: Uint8Array, rate: number): { pcm: AudioFrame; file: OggOpusFile } {
  const file = readOggOpus(bytes);
  const dec = new OpusDecoderStream(1, rate);
  const parts = file.audio.map((p) => dec.decode(p.data).samples);
  const all = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  const scale = rate / 48000;
  const start = Math.round(file.head.preSkip * scale);
  const end = Math.round(file.finalGranule * scale);
  if (end > all.length) throw new Error(`final granule ${file.finalGranule} beyond the decoded audio`);
  return { pcm: audioFrame(all.slice(start, end), rate), file };
}

/** Normalised cross-correlation of a[i] with b[i + lag] over i in [from, to). */
export function correlation(a: Int16Array, b: Int16Array, lag: number, from: number, to: number): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = from; i < to; i++) {
    const x = a[i]!;
    const y = b[i + lag] ?? 0;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return ab / Math.sqrt(aa * bb);
}

/** Best lag in [-maxLag, maxLag] and its correlation. */
export function bestLag(a: Int16Array, b: Int16Array, maxLag: number, from: number, to: number): { lag: number; r: number } {
  let best = { lag: 0, r: -Infinity };
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    const r = correlation(a, b, lag, from, to);
    if (r > best.r) best = { lag, r };
  }
  return best;
}
