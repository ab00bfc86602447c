/**
 * `replyOnPause(fn, options)`: the turn-taking handler, like FastRTC's ReplyOnPause. The pipeline
 * (pipeline/turn-runner.ts) runs streaming VAD on the caller's audio and calls `fn` with the
 * user's turn once they pause; `fn` yields reply audio and events.
 *
 * This only validates options and fills defaults; the defaults encode the public contract (the
 * demo echo replies after 600 ms of silence).
 */
import type { Handler, ReplyOnPauseOptions, TurnFn } from './types.ts';
import {
  MAX_SAMPLE_RATE,
  MIN_SAMPLE_RATE,
  checkBoolean,
  checkFunction,
  checkKnownKeys,
  checkNumber,
} from './validate.ts';

export const REPLY_ON_PAUSE_DEFAULTS = Object.freeze({
  silenceMs: 600,
  minSpeechMs: 250,
  speechThreshold: 0.5,
  maxSpeechMs: 30_000,
  canInterrupt: true,
  inputSampleRate: 16_000,
});

const KNOWN = [...Object.keys(REPLY_ON_PAUSE_DEFAULTS), 'greeting', 'onEvent'] as const;

export type ReplyOnPauseHandler = Extract<Handler, { kind: 'reply-on-pause' }>;

export function replyOnPause(fn: TurnFn, options: ReplyOnPauseOptions = {}): ReplyOnPauseHandler {
  const where = 'replyOnPause';
  checkFunction<TurnFn>(where, 'the reply function', fn);
  if (typeof options !== 'object' || options === null) throw new TypeError(`${where}: options must be an object`);
  checkKnownKeys(where, options, KNOWN);
  const o = { ...REPLY_ON_PAUSE_DEFAULTS, ...stripUndefined(options) };
  // VAD windows are 32 ms: a silence shorter than a few windows would end turns mid-word.
  const silenceMs = checkNumber(where, 'silenceMs', o.silenceMs, { min: 100, max: 10_000 });
  const minSpeechMs = checkNumber(where, 'minSpeechMs', o.minSpeechMs, { min: 0, max: 10_000 });
  const speechThreshold = checkNumber(where, 'speechThreshold', o.speechThreshold, { min: 0.01, max: 0.99 });
  const maxSpeechMs = checkNumber(where, 'maxSpeechMs', o.maxSpeechMs, { min: 1000, max: 600_000 });
  if (maxSpeechMs <= minSpeechMs) {
    throw new RangeError(`${where}: maxSpeechMs (${maxSpeechMs}) must be greater than minSpeechMs (${minSpeechMs})`);
  }
  const canInterrupt = checkBoolean(where, 'canInterrupt', o.canInterrupt);
  const inputSampleRate = checkNumber(where, 'inputSampleRate', o.inputSampleRate, {
    min: MIN_SAMPLE_RATE,
    max: MAX_SAMPLE_RATE,
    integer: true,
  });
  const greeting =
    options.greeting === undefined ? undefined : checkFunction<NonNullable<ReplyOnPauseOptions['greeting']>>(where, 'option "greeting"', options.greeting);
  const onEvent =
    options.onEvent === undefined ? undefined : checkFunction<NonNullable<ReplyOnPauseOptions['onEvent']>>(where, 'option "onEvent"', options.onEvent);
  return Object.freeze({
    kind: 'reply-on-pause',
    fn,
    options: Object.freeze({ silenceMs, minSpeechMs, speechThreshold, maxSpeechMs, canInterrupt, inputSampleRate, greeting, onEvent }),
  });
}

/** `{silenceMs: undefined}` means "the default", as in most JS APIs. */
function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
