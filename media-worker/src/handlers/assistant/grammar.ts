/**
 * The assistant's JSGF grammar for pocketsphinx, built from the phrase table (phrases.ts): an
 * utterance is an optional opener, one request, an optional closer:
 *
 *   public <utterance> = [<opener>] <request> [<closer>];
 *
 * Speech outside it is still forced onto its closest phrase (a grammar has no "none of these"):
 * the assistant rejects such matches by their acoustic score (ASSISTANT_MIN_SCORE_PER_FRAME).
 * Fillers (um, uh) are not in it: pocketsphinx's own silence and noise models absorb them, and
 * as grammar words they were measured to creep into short phrases ("uh help" for "help").
 */
import { CLOSERS, INTENTS, OPENERS } from './phrases.ts';

/** A JSGF token is a word of the dictionary: lowercase letters and apostrophes. */
const WORD = /^[a-z']+$/;

export function buildGrammar(): string {
  const alternatives = (phrases: readonly string[]) => {
    for (const p of phrases) {
      for (const w of p.split(' ')) if (!WORD.test(w)) throw new Error(`assistant grammar: bad word ${JSON.stringify(w)} in ${JSON.stringify(p)}`);
    }
    return phrases.join(' | ');
  };
  return [
    '#JSGF V1.0;',
    'grammar assistant;',
    'public <utterance> = [<opener>] <request> [<closer>];',
    `<opener> = ${alternatives(OPENERS)};`,
    `<closer> = ${alternatives(CLOSERS)};`,
    `<request> = ${INTENTS.map((e) => `<${e.intent}>`).join(' | ')};`,
    ...INTENTS.map((e) => `<${e.intent}> = ${alternatives(e.phrases)};`),
    '',
  ].join('\n');
}
