import { speech } from './speech-fixture.ts';

/**
 * A caller's side of a conversation of about `durationMs`, for the phone-minute bench: the fixture's
 * two phrases taken in turn (phrase 1: 2.4 s, phrase 2: 1.1 s of speech), each followed by the
 * silence in which the handler answers (test/fixtures/handlers/phone-tone.ts: 3 s of tone after the
 * 600 ms end-of-turn wait) and a pause before the caller speaks again, so no turn barges in. Over
 * a minute the caller speaks ~25% of the time, the handler ~45%, both are silent the rest.
 */
const RATE = speech.sampleRate;
const ms = (t: number) => Math.round((t * RATE) / 1000);
/** The phrases as cut from the recording (phrase 1 at 500-2933 ms, phrase 2 at 4133-5269 ms), with a little silence around each. */
const TURNS = [speech.samples.subarray(ms(300), ms(3200)), speech.samples.subarray(ms(3900), ms(5500))];
/** End of the caller's turn -> the caller speaks again: 600 ms end-of-turn wait, ~0.3 s to the reply, 3 s of reply, 0.8 s pause. */
export const ANSWER_GAP_MS = 4700;

export interface Conversation {
  samples: Int16Array;
  sampleRate: number;
  /** Caller turns in it (each answered by one reply). */
  turns: number;
}

export function conversation(durationMs: number): Conversation {
  const total = ms(durationMs);
  const out = new Int16Array(total);
  let at = 0;
  let turns = 0;
  for (let i = 0; ; i++) {
    const phrase = TURNS[i % TURNS.length]!;
    if (at + phrase.length + ms(ANSWER_GAP_MS) > total) break;
    out.set(phrase, at);
    at += phrase.length + ms(ANSWER_GAP_MS);
    turns++;
  }
  return { samples: out, sampleRate: RATE, turns };
}
