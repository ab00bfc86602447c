/**
 * Cuts a language model's token stream into sentences for the TTS, each pushed as soon as it is
 * complete (first audio waits for the first sentence, not the whole reply).
 *
 * A sentence ends at `.`, `!`, `?`, `…` (and runs like `?!` or `...`, plus closing quotes and
 * brackets) followed by whitespace, or at a newline. Not an end: a period after a known
 * abbreviation ("Dr.", "e.g.") or a single-letter initial ("J."); a period inside a number
 * ("3.5": no whitespace follows); an ellipsis followed by a lowercase word ("wait... what").
 * The first chunk of a reply may be cut earlier, at a clause boundary (`,;:` or a dash), once it
 * is `firstClauseMinChars` long: the caller hears something sooner. No chunk grows past
 * `maxChars` (cut at the last space): a model that never punctuates cannot make us buffer its
 * whole reply. `flush()` returns the remainder at the end of the stream. Every chunk is trimmed
 * and ends with one space (what TtsStream.push expects).
 */

const ABBREVIATIONS = new Set(
  'mr mrs ms dr prof sr jr st mt vs etc e.g i.e a.m p.m u.s u.k inc ltd co corp dept est approx fig no vol ca cf al jan feb mar apr jun jul aug sep sept oct nov dec mon tue wed thu fri sat sun'.split(' '),
);
const TERMINATORS = '.!?…';
const CLOSERS = `"')]}»”’`;

export interface SentenceSplitterOptions {
  /** The first chunk may end at a clause boundary once this long (chars). Default 40. */
  firstClauseMinChars?: number;
  /** No chunk is longer than this (chars). Default 300. */
  maxChars?: number;
}

export class SentenceSplitter {
  #buf = '';
  #emitted = 0;
  readonly #firstClauseMinChars: number;
  readonly #maxChars: number;

  constructor(options: SentenceSplitterOptions = {}) {
    this.#firstClauseMinChars = options.firstClauseMinChars ?? 40;
    this.#maxChars = options.maxChars ?? 300;
    if (!(this.#maxChars >= 20)) throw new RangeError(`SentenceSplitter: maxChars must be >= 20, got ${this.#maxChars}`);
  }

  /** More text; returns the sentences it completed. */
  push(text: string): string[] {
    this.#buf += text;
    const out: string[] = [];
    for (;;) {
      const end = this.#boundary();
      if (end === undefined) break;
      this.#emit(this.#buf.slice(0, end), out);
      this.#buf = this.#buf.slice(end);
    }
    return out;
  }

  /** The end of the stream: the rest, if any. Later text starts a new sentence (the first-chunk rule does not apply again). */
  flush(): string[] {
    const out = this.push('');
    this.#emit(this.#buf, out);
    this.#buf = '';
    return out;
  }

  #emit(text: string, out: string[]): void {
    const t = text.trim();
    if (!t) return;
    out.push(`${t} `);
    this.#emitted++;
  }

  /** Index just past the first sentence end in the buffer, or undefined if none is certain yet. */
  #boundary(): number | undefined {
    const b = this.#buf;
    for (let i = 0; i < b.length; i++) {
      const c = b[i]!;
      if (c === '\n') return i + 1;
      if (!TERMINATORS.includes(c)) continue;
      let j = i + 1;
      while (j < b.length && TERMINATORS.includes(b[j]!)) j++;
      const run = b.slice(i, j);
      while (j < b.length && CLOSERS.includes(b[j]!)) j++;
      if (j >= b.length) return this.#fallback(); // what follows decides: wait for it
      const next = i;
      i = j - 1; // a run not taken as an end is skipped whole
      if (!/\s/.test(b[j]!)) continue; // "3.5", "e.g.x", "example.com"
      if (run === '.' && this.#abbreviation(b.slice(0, next))) continue;
      if (run.startsWith('..') || run.includes('…')) {
        const k = b.slice(j).search(/\S/);
        if (k < 0) return this.#fallback(); // the next word decides
        if (/\p{Ll}/u.test(b[j + k]!)) continue; // "wait... what": one sentence
      }
      return j;
    }
    return this.#fallback();
  }

  /** No sentence end yet: the first chunk's clause cut, or the length cap. */
  #fallback(): number | undefined {
    const b = this.#buf;
    if (this.#emitted === 0 && b.length >= this.#firstClauseMinChars) {
      const m = [...b.matchAll(/[,;:—–](?=\s)/g)].at(-1);
      if (m?.index !== undefined && m.index >= 10) return m.index + 1;
    }
    if (b.length <= this.#maxChars) return undefined;
    const space = b.lastIndexOf(' ', this.#maxChars);
    return space > 0 ? space + 1 : this.#maxChars;
  }

  #abbreviation(before: string): boolean {
    const word = /(\S+)$/.exec(before)?.[1]?.replace(/^[("'“‘[]+/, '') ?? '';
    if (/^\p{L}$/u.test(word)) return true; // an initial: "J. Smith"
    return ABBREVIATIONS.has(word.toLowerCase());
  }
}
