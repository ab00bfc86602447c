/**
 * The one audio type of the pipeline: interleaved signed 16-bit PCM with its own sample rate and
 * channel count. Nothing assumes a rate; converting is explicit (see resampler.ts).
 */
export interface AudioFrame {
  readonly samples: Int16Array;
  readonly sampleRate: number;
  readonly channels: number;
}

export function audioFrame(samples: Int16Array, sampleRate: number, channels = 1): AudioFrame {
  if (!Number.isInteger(sampleRate) || sampleRate <= 0) throw new RangeError(`bad sample rate ${sampleRate}`);
  if (!Number.isInteger(channels) || channels <= 0) throw new RangeError(`bad channel count ${channels}`);
  if (samples.length % channels !== 0) throw new RangeError('sample count is not a multiple of the channel count');
  return { samples, sampleRate, channels };
}

/** Duration in ms. */
export function durationMs(f: AudioFrame): number {
  return (f.samples.length / f.channels / f.sampleRate) * 1000;
}

/** Samples per channel. */
export function sampleCount(f: AudioFrame): number {
  return f.samples.length / f.channels;
}

export function isAudioFrame(x: unknown): x is AudioFrame {
  return (
    typeof x === 'object' &&
    x !== null &&
    (x as AudioFrame).samples instanceof Int16Array &&
    typeof (x as AudioFrame).sampleRate === 'number' &&
    typeof (x as AudioFrame).channels === 'number'
  );
}
