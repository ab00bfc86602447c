/**
 * `say(text, options)`: offline text to speech with Flite, streamed as 20 ms AudioFrames.
 *
 *   yield* say('Hello! How can I help?', { sampleRate: 16000, signal: ctx.signal });
 *
 * - Flite runs in a worker thread (flite-pool.ts): the main thread, which paces every call's
 *   audio, only slices, resamples and reframes the result, 100 ms at a time, and gives the event
 *   loop a turn every 2 ms of that work however fast the consumer pulls.
 * - The text is split into sentences (say-text.ts), synthesized one after another: the first
 *   sentence's audio is yielded while the next is being made (one sentence of look-ahead, so a
 *   long text holds at most one queue slot and cannot starve other calls' first sentences).
 * - Audio comes out at `sampleRate` (default 16000), resampled explicitly from the voice's
 *   native rate (8 or 16 kHz, see flite-voices.ts) with a StreamResampler that runs across the
 *   sentence boundaries; the last frame is padded with silence to 20 ms.
 * - Aborting `signal` ends the stream at once (the pending `next()` resolves as done, nothing is
 *   yielded after) and drops the queued work of this call. So does stopping iteration early.
 * - Wrong arguments throw at the call (TypeError/RangeError); a full synthesis queue or a Flite
 *   failure rejects the iteration (FliteBusyError / Error).
 */
import { audioFrame, type AudioFrame } from '../audio/frame.ts';
import { Reframer } from '../audio/reframer.ts';
import { StreamResampler } from '../audio/resampler.ts';
import { sharedFlitePool, type FliteAudio, type FlitePool } from './flite-pool.ts';
import { DEFAULT_FLITE_VOICE, checkFliteVoice, type FliteVoice } from './flite-voices.ts';
import { MAX_SAY_CHARS, normalizeForFlite, splitForSpeech } from './say-text.ts';

export { FliteBusyError } from './flite-pool.ts';
export { FLITE_VOICES, FLITE_VOICE_NAMES, type FliteVoice } from './flite-voices.ts';
export { MAX_SAY_CHARS } from './say-text.ts';

export interface SayOptions {
  /** Default 'slt'. */
  voice?: FliteVoice;
  /** Rate of the frames, Hz. Default 16000. */
  sampleRate?: number;
  /** Abort: stops the stream at once and drops queued synthesis. */
  signal?: AbortSignal;
  /** The synthesis pool; default the process's shared one. */
  pool?: FlitePool;
}

export const SAY_DEFAULT_SAMPLE_RATE = 16_000;
export const SAY_FRAME_MS = 20;
/** Native samples resampled and reframed per step, so no single pull does much work. */
const SLICE_MS = 100;
/**
 * A consumer that pulls as fast as it can (the reply runner does, up to 5 s ahead of playback)
 * would otherwise run whole sentences of resampling and reframing in one chain of microtasks,
 * since the next sentence is usually synthesized already: measured 70 ms without a macrotask.
 * After this much time without one, the stream waits one setImmediate before the next slice.
 */
const BURST_MS = 2;

export function say(text: string, options: SayOptions = {}): AsyncIterable<AudioFrame> {
  if (typeof text !== 'string') throw new TypeError(`say: text must be a string, not ${text === null ? 'null' : typeof text}`);
  if (text.length > MAX_SAY_CHARS) {
    throw new RangeError(`say: text is ${text.length} characters, more than the ${MAX_SAY_CHARS} one call takes: split it into several say() calls`);
  }
  const voice = checkFliteVoice(options.voice ?? DEFAULT_FLITE_VOICE);
  const rate = options.sampleRate ?? SAY_DEFAULT_SAMPLE_RATE;
  if (!Number.isInteger(rate) || rate < 8000 || rate > 192_000 || rate % (1000 / SAY_FRAME_MS) !== 0) {
    throw new RangeError(`say: sampleRate must be a whole number of Hz from 8000 to 192000 that is a multiple of 50 (20 ms frames), not ${rate}`);
  }
  const normalized = normalizeForFlite(text);
  if (normalized === '') throw new RangeError('say: text is empty');
  return speak(splitForSpeech(normalized), voice, rate, options.signal, options.pool ?? sharedFlitePool());
}

async function* speak(pieces: string[], voice: FliteVoice, rate: number, outer: AbortSignal | undefined, pool: FlitePool): AsyncGenerator<AudioFrame> {
  // Our own controller: aborted by the caller's signal, and by us when iteration stops early
  // (return() from a `break`), so the look-ahead request always leaves the queue.
  const stop = new AbortController();
  const onOuterAbort = () => stop.abort(outer!.reason);
  if (outer?.aborted) return;
  outer?.addEventListener('abort', onOuterAbort, { once: true });
  const signal = stop.signal;
  const request = (i: number): Promise<FliteAudio> => {
    const p = pool.synthesize(voice, pieces[i]!, signal);
    p.catch(() => {}); // awaited later (or dropped after an abort): never an unhandled rejection
    return p;
  };
  const reframer = new Reframer(rate, 1, SAY_FRAME_MS);
  let resampler: StreamResampler | undefined;
  let lastBreak = performance.now();
  try {
    let pending = pieces.length > 0 ? request(0) : undefined;
    for (let i = 0; pending; i++) {
      const audio = await untilAborted(pending, signal);
      if (!audio) return;
      pending = i + 1 < pieces.length ? request(i + 1) : undefined;
      resampler ??= await StreamResampler.create(audio.sampleRate, rate);
      if (signal.aborted) return;
      const slice = Math.round((audio.sampleRate * SLICE_MS) / 1000);
      for (let at = 0; at < audio.samples.length; at += slice) {
        if (performance.now() - lastBreak > BURST_MS) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          lastBreak = performance.now();
          if (signal.aborted) return;
        }
        const piece = audioFrame(audio.samples.subarray(at, at + slice), audio.sampleRate);
        for (const frame of reframer.push(resampler.process(piece))) {
          if (signal.aborted) return;
          yield frame;
        }
      }
    }
    for (const frame of resampler ? reframer.push(resampler.flush()) : []) {
      if (signal.aborted) return;
      yield frame;
    }
    const last = reframer.flush(true);
    if (last && !signal.aborted) yield last;
  } finally {
    outer?.removeEventListener('abort', onOuterAbort);
    stop.abort();
    resampler?.destroy();
  }
}

/** The promise's value, or undefined as soon as `signal` aborts (its rejection then ignored). */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise<T | undefined>((resolve, reject) => {
    const onAbort = () => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(signal.aborted ? undefined : v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) resolve(undefined);
        else reject(err);
      },
    );
  });
}
