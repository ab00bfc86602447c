/**
 * Text preparation for say(): limits, normalisation to what Flite reads well (it reads bytes and
 * knows English text in ASCII), and the split into sentence-sized pieces that are synthesized one
 * after another, so the first sentence plays while the rest is still being made.
 */

/**
 * Most characters one say() call takes. 2000 characters is about 330 words, some two minutes of
 * speech: far more than one conversational reply, and a hard bound on what one call can cost
 * (~2 s of synthesis CPU with the clustergen voices, ~4 MB of 16 kHz PCM). Longer text is a
 * mistake or an abuse; a handler that really means it can call say() once per paragraph.
 */
export const MAX_SAY_CHARS = 2000;

/**
 * Longest piece synthesized in one go. Flite's cost grows faster than linearly with utterance
 * length (a 3000-character run-on took 45 ms of CPU per second of audio against ~11 for a
 * sentence), and the first piece's synthesis time is the wait for the first audio; sentences
 * longer than this are cut at a clause boundary (, ; : or a dash) or else between words.
 */
export const MAX_PIECE_CHARS = 240;

const REPLACEMENTS: ReadonlyArray<readonly [RegExp, string]> = [
  [/[\u2018\u2019\u201a\u201b\u2032]/g, "'"],
  [/[\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb]/g, '"'],
  [/[\u2013\u2014\u2015\u2212]/g, ' - '],
  [/\u2026/g, '...'],
  [/&/g, ' and '],
];

/**
 * NFKD with accents dropped ("naïve" -> "naive"), typographic quotes, dashes and ellipses made
 * ASCII, control characters, emoji and other non-ASCII symbols turned into spaces, runs of spaces
 * collapsed. Newlines are kept (they end sentences).
 */
export function normalizeForFlite(text: string): string {
  let t = text.normalize('NFKD').replace(/\p{M}/gu, '');
  for (const [re, to] of REPLACEMENTS) t = t.replace(re, to);
  return t
    .replace(/\r\n?/g, '\n')
    .replace(/[^\n\x20-\x7e]/g, ' ')
    .replace(/[ \t]+/g, ' ')
    .replace(/ *\n[ \n]*/g, '\n')
    .trim();
}

/** Words whose trailing period does not end a sentence (besides initials and dotted ones). */
const ABBREVIATIONS = new Set(['mr', 'mrs', 'ms', 'dr', 'prof', 'st', 'sr', 'jr', 'vs', 'etc', 'no', 'approx', 'dept', 'mt', 'inc', 'ltd', 'co']);

/** Splits normalised text into sentences (keeping their punctuation), then cuts long ones. */
export function splitForSpeech(text: string): string[] {
  const pieces: string[] = [];
  for (const line of text.split('\n')) {
    // A sentence ends at . ! or ? (plus closing quotes or brackets) followed by a space.
    const re = /[.!?]+["')\]]*(?= )/g;
    let from = 0;
    for (let m = re.exec(line); m; m = re.exec(line)) {
      const end = m.index + m[0].length;
      if (m[0].startsWith('.') && m[0].length === 1 && !endsSentence(line.slice(from, m.index))) continue;
      pieces.push(line.slice(from, end).trim());
      from = end;
    }
    pieces.push(line.slice(from).trim());
  }
  return pieces.filter((p) => /[\p{L}\p{N}]/u.test(p)).flatMap((p) => cut(p, MAX_PIECE_CHARS));
}

/**
 * False when the word before the period is an abbreviation ("Dr."), an initial ("J.") or dotted
 * ("p.m.", "e.g.", "U.S."): not splitting costs a longer piece, a wrong split a pause mid-phrase.
 */
function endsSentence(before: string): boolean {
  const word = /(\S+)$/.exec(before)?.[1] ?? '';
  if (/^[A-Za-z]$/.test(word) || /[A-Za-z]\.[A-Za-z]/.test(word)) return false;
  return !ABBREVIATIONS.has(word.toLowerCase());
}

/** Cuts a piece longer than `max`: at the last clause mark before it, else the last space. */
function cut(piece: string, max: number): string[] {
  const out: string[] = [];
  let rest = piece;
  while (rest.length > max) {
    const head = rest.slice(0, max + 1);
    const clause = Math.max(head.lastIndexOf(', '), head.lastIndexOf('; '), head.lastIndexOf(': '), head.lastIndexOf(' - '));
    const space = head.lastIndexOf(' ');
    const at = clause > max / 3 ? clause + 1 : space > 0 ? space : max;
    out.push(rest.slice(0, at).trim());
    rest = rest.slice(at).trim();
  }
  if (rest) out.push(rest);
  return out;
}
