/**
 * Test signals for phone calls and what to measure in what the caller heard (8 kHz PCM from the
 * caller simulator, stream time 0 at index 0).
 */

/** A sine tone: `ms` long at `hz`, amplitude `amp` (of full scale), mono at `rate`. */
export function tone(ms: number, hz: number, rate: number, amp = 0.3): Int16Array {
  const n = Math.round((rate * ms) / 1000);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(amp * 32767 * Math.sin((2 * Math.PI * hz * i) / rate));
  return out;
}

export function silenceOf(ms: number, rate: number): Int16Array {
  return new Int16Array(Math.round((rate * ms) / 1000));
}

export function concat(...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** RMS (of full scale) of `samples` between two times in ms. */
export function rmsBetween(samples: Int16Array, rate: number, fromMs: number, toMs: number): number {
  const a = Math.max(0, Math.floor((rate * fromMs) / 1000));
  const b = Math.min(samples.length, Math.floor((rate * toMs) / 1000));
  if (b <= a) return 0;
  let sum = 0;
  for (let i = a; i < b; i++) sum += (samples[i]! / 32768) ** 2;
  return Math.sqrt(sum / (b - a));
}

/** Which 20 ms frames are audible (RMS above `threshold` of full scale). */
export function audibleFrames(samples: Int16Array, rate: number, threshold = 0.02): boolean[] {
  const step = Math.round(rate / 50);
  const out: boolean[] = [];
  for (let i = 0; i + step <= samples.length; i += step) out.push(rmsBetween(samples, rate, (i * 1000) / rate, ((i + step) * 1000) / rate) > threshold);
  return out;
}

/** Start times (ms) of audible runs after at least `minGapMs` of silence. */
export function onsets(samples: Int16Array, rate: number, minGapMs = 100, threshold = 0.02): number[] {
  const frames = audibleFrames(samples, rate, threshold);
  const out: number[] = [];
  let silent = Infinity;
  frames.forEach((on, i) => {
    if (on && silent * 20 >= minGapMs) out.push(i * 20);
    silent = on ? 0 : silent + 1;
  });
  return out;
}

/** The longest run of silent 20 ms frames between two times, in ms. */
export function longestSilenceMs(samples: Int16Array, rate: number, fromMs: number, toMs: number, threshold = 0.02): number {
  const frames = audibleFrames(samples, rate, threshold);
  let run = 0;
  let longest = 0;
  for (let i = Math.floor(fromMs / 20); i < Math.min(frames.length, Math.floor(toMs / 20)); i++) {
    run = frames[i] ? 0 : run + 1;
    longest = Math.max(longest, run);
  }
  return longest * 20;
}

/** Tone bursts at the given onsets (ms), each `burstMs` long: a caller signal whose echo delay can be read at every burst. */
export function bursts(onsetsMs: readonly number[], burstMs: number, totalMs: number, rate: number, hz = 440): Int16Array {
  const out = silenceOf(totalMs, rate);
  const b = tone(burstMs, hz, rate);
  for (const at of onsetsMs) out.set(b.subarray(0, Math.max(0, out.length - Math.round((rate * at) / 1000))), Math.round((rate * at) / 1000));
  return out;
}
