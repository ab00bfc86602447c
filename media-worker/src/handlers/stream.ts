/**
 * `stream(fn, options)`: the raw duplex handler (speech-to-speech models): `fn` gets the caller's
 * audio as an async iterable of frames at `inputSampleRate`, `inputFrameMs` long, and yields
 * audio (any rate) and events. No VAD, no turns: the pipeline only converts and forwards
 * (pipeline/stream-runner.ts).
 */
import type { Handler, StreamFn, StreamOptions } from './types.ts';
import { MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, checkFunction, checkKnownKeys, checkNumber } from './validate.ts';

export const STREAM_DEFAULTS = Object.freeze({ inputSampleRate: 16_000, inputFrameMs: 20 });

export type StreamHandler = Extract<Handler, { kind: 'stream' }>;

export function stream(fn: StreamFn, options: StreamOptions = {}): StreamHandler {
  const where = 'stream';
  checkFunction<StreamFn>(where, 'the stream function', fn);
  if (typeof options !== 'object' || options === null) throw new TypeError(`${where}: options must be an object`);
  checkKnownKeys(where, options, [...Object.keys(STREAM_DEFAULTS), 'onEvent']);
  const inputSampleRate = checkNumber(where, 'inputSampleRate', options.inputSampleRate ?? STREAM_DEFAULTS.inputSampleRate, {
    min: MIN_SAMPLE_RATE,
    max: MAX_SAMPLE_RATE,
    integer: true,
  });
  const inputFrameMs = checkNumber(where, 'inputFrameMs', options.inputFrameMs ?? STREAM_DEFAULTS.inputFrameMs, {
    min: 10,
    max: 1000,
  });
  // Frames must hold a whole number of samples, or their length would drift.
  if (!Number.isInteger((inputSampleRate * inputFrameMs) / 1000)) {
    throw new RangeError(`${where}: inputFrameMs ${inputFrameMs} is not a whole number of samples at ${inputSampleRate} Hz`);
  }
  const onEvent = options.onEvent === undefined ? undefined : checkFunction<NonNullable<StreamOptions['onEvent']>>(where, 'option "onEvent"', options.onEvent);
  return Object.freeze({ kind: 'stream', fn, options: Object.freeze({ inputSampleRate, inputFrameMs, onEvent }) });
}
