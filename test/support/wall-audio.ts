import type { AudioFrame } from '../../media-worker/src/audio/frame.ts';
import type { CallResult } from '../../scripts/phone/call-types.ts';
import { bestCorrelation, envelope } from './correlate.ts';
import { audibleFrames, rmsBetween } from './phone-audio.ts';
import type { RtcTestClient } from './rtc-client.ts';

/**
 * Audio on one wall clock (performance.now(), ms), so that what one party said and what another
 * heard can be compared across simulators and WebRTC clients whose own timelines start at
 * different moments: a track is mono PCM whose sample 0 sits at wall time `t0`.
 */
export interface Track {
  samples: Int16Array;
  rate: number;
  t0: number;
}

/** What a simulated caller heard (its stream time 0 is `startedAt`). */
export function heardBySim(r: CallResult): Track {
  return { samples: r.heard, rate: r.heardSampleRate, t0: r.startedAt };
}

/** What a simulated caller said: `audio` at `rate`, sent from stream time `leadMs` on. */
export function saidBySim(r: CallResult, audio: Int16Array, rate: number, leadMs = 0): Track {
  return { samples: audio, rate, t0: r.startedAt + leadMs };
}

/**
 * What a WebRTC client heard, each decoded 20 ms packet placed at its arrival time (the packet's
 * last sample arriving at `at`): gaps where nothing came stay silent.
 */
export function heardByWeb(web: RtcTestClient, from = 0): Track {
  const got = web.received.filter((r) => r.at >= from);
  if (got.length === 0) return { samples: new Int16Array(0), rate: 48000, t0: from };
  const rate = 48000;
  const t0 = got[0]!.at - (got[0]!.frame.samples.length / rate) * 1000;
  const last = got.at(-1)!;
  const out = new Int16Array(Math.ceil(((last.at - t0) * rate) / 1000) + rate / 50);
  for (const r of got) {
    const at = Math.round(((r.at - t0) * rate) / 1000) - r.frame.samples.length;
    if (at >= 0) out.set(r.frame.samples.subarray(0, Math.max(0, out.length - at)), at);
  }
  return { samples: out, rate, t0 };
}

/** The part of a track between two wall times, as a frame (clipped to the track). */
export function slice(t: Track, from: number, to: number): AudioFrame {
  const a = Math.max(0, Math.round(((from - t.t0) * t.rate) / 1000));
  const b = Math.min(t.samples.length, Math.max(a, Math.round(((to - t.t0) * t.rate) / 1000)));
  return { samples: t.samples.slice(a, b), sampleRate: t.rate, channels: 1 };
}

/** RMS (of full scale) of a track between two wall times. */
export function rmsAt(t: Track, from: number, to: number): number {
  return rmsBetween(t.samples, t.rate, from - t.t0, to - t.t0);
}

/**
 * How well `listener` heard what `speaker` said between wall times `from` and `to`: the best
 * envelope correlation of the speaker's signal there with what the listener heard from `from`
 * to `to + maxLagMs`, and the lag (ms) it was found at: the mouth-to-ear delay.
 */
export function heard(listener: Track, speaker: Track, from: number, to: number, maxLagMs = 1000): { r: number; lagMs: number } {
  const probe = envelope(slice(speaker, from, to));
  const got = envelope(slice(listener, from, to + maxLagMs));
  const best = bestCorrelation(got, probe);
  return { r: best.r, lagMs: best.lag * 10 };
}

/** The longest silence (ms) in a track between two wall times (20 ms frames at most `threshold` RMS). */
export function longestSilence(t: Track, from: number, to: number, threshold = 0.02): number {
  const frames = audibleFrames(t.samples, t.rate, threshold);
  let run = 0;
  let longest = 0;
  for (let i = Math.max(0, Math.floor((from - t.t0) / 20)); i < Math.min(frames.length, Math.floor((to - t.t0) / 20)); i++) {
    run = frames[i] ? 0 : run + 1;
    longest = Math.max(longest, run);
  }
  return longest * 20;
}

/** The first wall time after `from` at which a track turns audible (a 20 ms frame above `threshold`), or NaN. */
export function firstAudible(t: Track, from: number, threshold = 0.02): number {
  const frames = audibleFrames(t.samples, t.rate, threshold);
  for (let i = Math.max(0, Math.ceil((from - t.t0) / 20)); i < frames.length; i++) if (frames[i]) return t.t0 + i * 20;
  return Number.NaN;
}

/**
 * A tone whose loudness changes every `stepMs` to a pseudo-random level in [0.08, 0.4] of full
 * scale (never silent): a signal with a distinctive envelope per `seed`, so that correlation tells
 * who is heard, and any silence in what is heard of it is a gap.
 */
export function modulatedTone(ms: number, hz: number, rate: number, seed: number, stepMs = 100): Int16Array {
  const n = Math.round((rate * ms) / 1000);
  const out = new Int16Array(n);
  let s = seed >>> 0 || 1;
  let amp = 0.2;
  const step = Math.round((rate * stepMs) / 1000);
  for (let i = 0; i < n; i++) {
    if (i % step === 0) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      amp = 0.08 + ((s >>> 0) % 1000) * 0.00032;
    }
    out[i] = Math.round(amp * 32767 * Math.sin((2 * Math.PI * hz * i) / rate));
  }
  return out;
}
