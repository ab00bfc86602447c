/**
 * The assistant's phrase table: what a caller can ask (intents), the phrases that ask it (spoken or
 * typed; the grammar in grammar.ts is built from them), and the phone key for each. README.md in
 * this folder documents the same table for users: keep them in step.
 */

export type Intent = 'time' | 'date' | 'joke' | 'who' | 'help' | 'repeat' | 'goodbye';

export interface IntentEntry {
  readonly intent: Intent;
  /** Lowercase words of the pocketsphinx en-us dictionary; the first is the one the help names. */
  readonly phrases: readonly string[];
  /** Phone keypad key (`{type: 'dtmf', digit}`). */
  readonly key: string;
}

export const INTENTS: readonly IntentEntry[] = [
  { intent: 'time', phrases: ['what time is it', "what's the time", 'tell me the time'], key: '1' },
  { intent: 'joke', phrases: ['tell me a joke', 'another joke', 'tell me another joke'], key: '2' },
  { intent: 'date', phrases: ["what's the date", 'what day is it', "what's today's date"], key: '3' },
  { intent: 'who', phrases: ['who are you', 'what are you'], key: '4' },
  { intent: 'help', phrases: ['help', 'what can i say', 'what can you do'], key: '0' },
  { intent: 'repeat', phrases: ['repeat that', 'say that again', 'come again'], key: '#' },
  { intent: 'goodbye', phrases: ['goodbye', 'bye bye', "that's all"], key: '9' },
];

/** Words allowed before a request ("hey, what time is it"). */
export const OPENERS: readonly string[] = ['hey', 'hi', 'hello', 'okay'];
/** Words allowed after a request ("... please", "... thank you"). */
export const CLOSERS: readonly string[] = ['please', 'thanks', 'thank you'];

/** Phrases longest first, so "tell me another joke" is matched whole, not as a shorter phrase. */
const BY_LENGTH = INTENTS.flatMap((e) => e.phrases.map((phrase) => ({ phrase, intent: e.intent }))).sort(
  (a, b) => b.phrase.length - a.phrase.length,
);

/** Lowercase, apostrophes kept (what's), other punctuation and extra spaces dropped. */
export function normalizeText(text: string): string {
  return text
    .toLowerCase()
    .replace(/[’‘]/g, "'")
    .replace(/[^a-z0-9' ]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * The intent of a recognized or typed text: the first phrase (longest first) it contains as whole
 * words, e.g. "hey, what time is it please?" → time. Undefined when none does.
 */
export function intentOfText(text: string): Intent | undefined {
  const padded = ` ${normalizeText(text)} `;
  return BY_LENGTH.find((p) => padded.includes(` ${p.phrase} `))?.intent;
}

export function intentOfKey(digit: unknown): Intent | undefined {
  return typeof digit === 'string' ? INTENTS.find((e) => e.key === digit)?.intent : undefined;
}

/** "what time is it, tell me a joke, ... or goodbye": the first phrase of each intent. */
export function phraseList(): string {
  const first = INTENTS.map((e) => e.phrases[0]!);
  return `${first.slice(0, -1).join(', ')}, or ${first.at(-1)!}`;
}

/** "press 1 for the time, 2 for a joke, ...". */
export function keyList(): string {
  const what: Record<Intent, string> = {
    time: 'the time',
    joke: 'a joke',
    date: 'the date',
    who: 'who I am',
    help: 'help',
    repeat: 'repeat',
    goodbye: 'goodbye',
  };
  // Flite reads "#" as "hash" or not at all: say the key's name.
  const keyName = (k: string) => (k === '#' ? 'pound' : k === '*' ? 'star' : k);
  return INTENTS.map((e) => `${keyName(e.key)} for ${what[e.intent]}`).join(', ');
}
