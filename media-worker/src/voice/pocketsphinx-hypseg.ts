/**
 * Parses one line of pocketsphinx_batch's `-hypseg` output: the recognized words of one utterance
 * with their frame spans and acoustic scores.
 *
 *   u7 S 0 T -2355 A -1681 L -674  0 -178 -337 <sil>  21 -423 0 what  39 -222 0 time  ...  110
 *   uttid, then scale / total / acoustic / language-model scores, then one group per word
 *   (start frame, acoustic score, LM score, word) and the end frame of the last word.
 *
 * Frames are 10 ms (`-frate 100`, the en-us model's). Scores are pocketsphinx's scaled log
 * likelihoods: higher (closer to 0) is a better acoustic match.
 */

export interface Hypothesis {
  uttId: string;
  /** The recognized words, without fillers (`<sil>`, `[NOISE]`) and alternate-pronunciation marks. */
  words: string[];
  /** Frames (10 ms) spanned by those words. */
  speechFrames: number;
  /**
   * Mean acoustic score per frame of those words (0 when there are none). A forced match of
   * out-of-grammar speech scores lower: see ASSISTANT_MIN_SCORE_PER_FRAME in the assistant.
   */
  scorePerFrame: number;
}

const HEADER = ['S', 'T', 'A', 'L'] as const;

export function parseHypseg(line: string): Hypothesis {
  const t = line.trim().split(/\s+/);
  const uttId = t[0];
  if (!uttId || t.length < 9 || HEADER.some((key, i) => t[1 + 2 * i] !== key)) {
    throw new Error(`pocketsphinx: unexpected hypseg line ${JSON.stringify(line.slice(0, 200))}`);
  }
  const rest = t.slice(9);
  const words: string[] = [];
  let frames = 0;
  let score = 0;
  // Groups of (start frame, acoustic, LM, word); a word ends where the next group (or the final
  // end frame) starts.
  for (let i = 0; i + 4 < rest.length; i += 4) {
    const start = Number(rest[i]);
    const acoustic = Number(rest[i + 1]);
    const word = rest[i + 3]!;
    const end = Number(rest[i + 4]);
    if (![start, acoustic, end].every(Number.isFinite)) {
      throw new Error(`pocketsphinx: unexpected hypseg line ${JSON.stringify(line.slice(0, 200))}`);
    }
    if (isFiller(word)) continue;
    words.push(word.replace(/\(\d+\)$/, ''));
    frames += Math.max(0, end - start);
    score += acoustic;
  }
  return { uttId, words, speechFrames: frames, scorePerFrame: frames > 0 ? score / frames : 0 };
}

/** Silence, noise and the search's own markers: not words the caller said. */
function isFiller(word: string): boolean {
  return word === '(NULL)' || word.startsWith('<') || word.startsWith('[') || word.startsWith('++');
}
