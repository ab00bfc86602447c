/**
 * The assistant's speech recognizer: one pocketsphinx process per worker, shared by its sessions
 * (decodes take ~20-40 ms each, in series; see voice/pocketsphinx.ts), created at the first
 * greeting or turn so the ~150 ms model load happens while the greeting plays.
 *
 * Whether a recognition is accepted: a grammar forces any speech onto its closest phrase, so
 * out-of-grammar speech is rejected by its mean acoustic score per speech frame. Measured on Flite
 * speech (23 in-grammar and 12 out-of-grammar phrases × 5 voices, with 300 ms of silence around,
 * as the pipeline's turns have): 16 kHz voices score -8.7 to -38 in grammar, out-of-grammar
 * speech -34 to -71 (or no match at all); the 8 kHz voice `kal` (phone bandwidth, upsampled)
 * -16 to -44 in grammar and -37.6 to -70 out of it. So -36 for WebRTC sessions (2 of 92 in-grammar
 * utterances rejected, 3 of 48 out-of-grammar ones accepted) and -44 for phone calls (23 of 23
 * accepted, 9 of 10 rejected). Flite is not a human caller: real speech may need other values.
 */
import type { SessionKind } from '@switchboard/protocol';
import { createRecognizer, type Recognition, type Recognizer } from '../../voice/pocketsphinx.ts';
import { buildGrammar } from './grammar.ts';

export const ASSISTANT_MIN_SCORE_PER_FRAME = { wideband: -36, phone: -44 } as const;

/** A failed recognizer (not installed, restarted too often) is re-created at most this often. */
const RETRY_MS = 30_000;

let shared: Promise<Recognizer> | undefined;
let failedAt = -Infinity;

/** The worker's recognizer, created on first use; rejects while a failure is recent. */
export function assistantRecognizer(): Promise<Recognizer> {
  if (!shared && performance.now() - failedAt < RETRY_MS) {
    return Promise.reject(new Error(`speech recognizer failed less than ${RETRY_MS / 1000} s ago`));
  }
  shared ??= createRecognizer({ grammar: buildGrammar() });
  const mine = shared;
  mine.catch(() => {
    if (shared === mine) forget();
  });
  return mine;
}

/** Drops the shared recognizer after it failed for good (the next use re-creates it, rate-limited). */
export function forget(): void {
  const old = shared;
  shared = undefined;
  failedAt = performance.now();
  void old?.then((r) => r.close()).catch(() => {});
}

/** Closes the shared recognizer (tests, shutdown). */
export async function closeAssistantRecognizer(): Promise<void> {
  const old = shared;
  shared = undefined;
  failedAt = -Infinity;
  await old?.then((r) => r.close()).catch(() => {});
}

export function accepted(r: Recognition, kind: SessionKind): boolean {
  const min = kind === 'phone' ? ASSISTANT_MIN_SCORE_PER_FRAME.phone : ASSISTANT_MIN_SCORE_PER_FRAME.wideband;
  return r.words.length > 0 && r.scorePerFrame >= min;
}
