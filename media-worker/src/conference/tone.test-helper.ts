/** Synthetic audio for the conference tests: tones, frames of them, and a tone's measured amplitude. */
import { audioFrame, type AudioFrame } from '../audio/frame.ts';

/** `n` samples of a sine at `hz`, starting at sample `from` of the tone (so consecutive frames join up). */
export function sine(hz: number, rate: number, n: number, amp: number, from = 0): Int16Array {
  const a = new Int16Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.round(amp * Math.sin((2 * Math.PI * hz * (from + i)) / rate));
  return a;
}

/** Frame `k` (0-based) of a continuous tone cut into `frameMs` frames. */
export function toneFrame(hz: number, rate: number, frameMs: number, k: number, amp: number): AudioFrame {
  const n = (rate * frameMs) / 1000;
  return audioFrame(sine(hz, rate, n, amp, k * n), rate, 1);
}

/** Amplitude of the `hz` component of `s` (a single-bin DFT): a sine of amplitude A gives ~A. */
export function toneAmplitude(s: Int16Array, hz: number, rate: number): number {
  let re = 0;
  let im = 0;
  for (let i = 0; i < s.length; i++) {
    const ph = (2 * Math.PI * hz * i) / rate;
    re += s[i]! * Math.cos(ph);
    im += s[i]! * Math.sin(ph);
  }
  return (2 * Math.hypot(re, im)) / s.length;
}

/** A deterministic pseudo-random source in [0, 1) (tests must replay exactly). */
export function seeded(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}
