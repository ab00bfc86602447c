import type { AudioFrame } from '../../media-worker/src/audio/frame.ts';

/** RMS per `windowMs` window: a loudness envelope, robust to codecs and resampling. */
export function envelope(f: AudioFrame, windowMs = 10): Float64Array {
  const win = Math.max(1, Math.round((f.sampleRate * windowMs) / 1000)) * f.channels;
  const out = new Float64Array(Math.floor(f.samples.length / win));
  for (let i = 0; i < out.length; i++) {
    let sum = 0;
    for (let j = i * win; j < (i + 1) * win; j++) sum += f.samples[j]! * f.samples[j]!;
    out[i] = Math.sqrt(sum / win);
  }
  return out;
}

/**
 * The best normalised cross-correlation (Pearson) of two envelopes over every lag where `probe`
 * fits inside `signal`: 1 means the same loudness contour, ~0 unrelated.
 */
export function bestCorrelation(signal: Float64Array, probe: Float64Array): { r: number; lag: number } {
  let best = { r: -1, lag: 0 };
  const n = probe.length;
  if (n < 2 || signal.length < n) return best;
  const pm = probe.reduce((a, b) => a + b, 0) / n;
  let pv = 0;
  for (const x of probe) pv += (x - pm) ** 2;
  for (let lag = 0; lag + n <= signal.length; lag++) {
    let sm = 0;
    for (let i = 0; i < n; i++) sm += signal[lag + i]!;
    sm /= n;
    let cov = 0;
    let sv = 0;
    for (let i = 0; i < n; i++) {
      const d = signal[lag + i]! - sm;
      cov += d * (probe[i]! - pm);
      sv += d * d;
    }
    const r = sv > 0 && pv > 0 ? cov / Math.sqrt(sv * pv) : 0;
    if (r > best.r) best = { r, lag };
  }
  return best;
}

/** Slices a frame by time (ms from its start). */
export function sliceMs(f: AudioFrame, fromMs: number, toMs: number): AudioFrame {
  const a = Math.max(0, Math.round((fromMs * f.sampleRate) / 1000)) * f.channels;
  const b = Math.min(f.samples.length, Math.round((toMs * f.sampleRate) / 1000) * f.channels);
  return { samples: f.samples.slice(a, b), sampleRate: f.sampleRate, channels: f.channels };
}
