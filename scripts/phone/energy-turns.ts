/**
 * A plain energy detector, enough to time turns in a simulated call (not a speech VAD): the signal
 * is cut into 20 ms frames, a frame is "audible" when its RMS is above a threshold (a run's edges
 * are then moved to its first and last sample above it), and audible
 * runs separated by less than `minSilenceMs` are one segment (so a comma pause inside a phrase
 * does not end the turn). Runs shorter than `minSoundMs` are dropped (clicks).
 *
 * Used twice per call: on the caller's own input, to find where each utterance ends, and on what
 * the caller heard, to find when each reply became audible.
 */
export interface EnergyOptions {
  /** Frame RMS above this (dBFS, full scale = 32768) is audible. Default -45 dBFS (RMS ~184). */
  thresholdDbfs?: number;
  /** Gaps shorter than this join two audible runs into one segment. Default 500 ms. */
  minSilenceMs?: number;
  /** Segments shorter than this are ignored. Default 60 ms. */
  minSoundMs?: number;
  /** Analysis frame. Default 20 ms. */
  frameMs?: number;
}

export interface Segment {
  startMs: number;
  endMs: number;
}

export interface Turn {
  /** Where a caller speech segment ends (stream time, ms). */
  speechEndMs: number;
  /** Where the first heard segment starting at or after it begins, before the next speech segment starts. */
  firstReplyMs: number | null;
  latencyMs: number | null;
}

export const ENERGY_DEFAULTS: Required<EnergyOptions> = {
  thresholdDbfs: -45,
  minSilenceMs: 500,
  minSoundMs: 60,
  frameMs: 20,
};

/** Audible segments of mono PCM, times in ms from the first sample. */
export function energySegments(samples: Int16Array, sampleRate: number, opts: EnergyOptions = {}): Segment[] {
  const o = { ...ENERGY_DEFAULTS, ...opts };
  const frame = Math.max(1, Math.round((o.frameMs * sampleRate) / 1000));
  const threshold = 32768 * 10 ** (o.thresholdDbfs / 20);
  const ms = (i: number) => (i / sampleRate) * 1000;

  // Audible runs of frames, as [start, end) sample indices.
  const runs: Array<[number, number]> = [];
  for (let start = 0; start < samples.length; start += frame) {
    const end = Math.min(samples.length, start + frame);
    let sum = 0;
    for (let i = start; i < end; i++) sum += samples[i]! * samples[i]!;
    if (Math.sqrt(sum / (end - start)) <= threshold) continue;
    const last = runs[runs.length - 1];
    if (last && last[1] === start) last[1] = end;
    else runs.push([start, end]);
  }

  // Sharpen each run's edges from the frame grid to the first / last sample above the threshold
  // (a frame whose RMS exceeds it has at least one such sample), so ends are sample-accurate.
  for (const run of runs) {
    let s = run[0];
    while (s < run[1] - 1 && Math.abs(samples[s]!) <= threshold) s++;
    let e = run[1];
    while (e > s + 1 && Math.abs(samples[e - 1]!) <= threshold) e--;
    run[0] = s;
    run[1] = e;
  }

  // Bridge short gaps, then drop what is still too short.
  const merged: Segment[] = [];
  for (const [s, e] of runs) {
    const last = merged[merged.length - 1];
    if (last && ms(s) - last.endMs < o.minSilenceMs) last.endMs = ms(e);
    else merged.push({ startMs: ms(s), endMs: ms(e) });
  }
  return merged.filter((seg) => seg.endMs - seg.startMs >= o.minSoundMs);
}

/**
 * Pairs each caller speech segment's end with the first reply heard after it: the first heard
 * segment that starts at or after the speech end and before the caller's next segment starts
 * (audio already playing when the caller stops, such as an echo of the same words, is not a
 * reply to them). Latency is the difference; null when nothing was heard in that window.
 */
export function pairTurns(speech: readonly Segment[], heard: readonly Segment[]): Turn[] {
  return speech.map((seg, i) => {
    const next = speech[i + 1]?.startMs ?? Infinity;
    const reply = heard.find((h) => h.startMs >= seg.endMs && h.startMs < next);
    const firstReplyMs = reply?.startMs ?? null;
    return { speechEndMs: seg.endMs, firstReplyMs, latencyMs: firstReplyMs === null ? null : firstReplyMs - seg.endMs };
  });
}
