import { readFileSync } from 'node:fs';
import { readWav } from '../media-worker/src/audio/pcm.ts';

/**
 * The two-phrase caller fixture of the turn benchmarks: phrase 1 at 500-2933 ms, phrase 2 at
 * 4133-5269 ms of a 6.27 s, 16 kHz recording. Its handler (test/fixtures/handlers/phone-tone.ts)
 * answers each turn with 3 s of tone, so phrase 2 barges in on the first reply.
 */
export const speech = readWav(readFileSync(new URL('../test/fixtures/audio/hello-pause-question.wav', import.meta.url)));

/** Onset of phrase 2 in the recording (ms): the barge-in's start. */
export const PHRASE_2_ONSET_MS = 4133;

/** The silence the worker's turn detector waits for before it ends a turn (ms). */
export const SILENCE_MS = 600;
