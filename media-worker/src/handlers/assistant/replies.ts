/**
 * What the assistant says: the greeting, the answer to each intent, and the fallbacks. Answers
 * that depend on the conversation (repeat, the next joke) read and update `ctx.state`, which is
 * JSON and checkpointed by the pipeline, so a resumed call keeps them.
 */
import type { Intent } from './phrases.ts';
import { keyList, phraseList } from './phrases.ts';

export const GREETING =
  "Hi, I'm the Switchboard assistant. Ask me the time, for a joke, or say goodbye. Or press 1 for the time, 2 for a joke.";

export const JOKES: readonly string[] = [
  "Why don't scientists trust atoms? Because they make up everything.",
  'I told my computer I needed a break. It said: no problem, I will go to sleep.',
  'Why did the scarecrow win an award? He was outstanding in his field.',
  'What do you call a fake noodle? An impasta.',
  'Why do programmers prefer dark mode? Because light attracts bugs.',
];

/** The assistant's memory in ctx.state (all optional: a new session has none). */
export interface AssistantState {
  /** What it said last, for "repeat that". */
  last?: string;
  /** Jokes told so far (the next one is JOKES[jokes % JOKES.length]). */
  jokes?: number;
}

export function notCaught(): string {
  return `Sorry, I didn't catch that. You can say: ${phraseList()}.`;
}

export function unknownKey(): string {
  return 'That key does nothing here. Press 0 for help.';
}

export function recognizerDown(): string {
  return "Sorry, I can't understand speech right now. You can still use the keypad: press 0 for help.";
}

/** The answer to `intent`; `now` is the clock (local time of the worker, or its TZ). */
export function answer(intent: Intent, state: Record<string, unknown>, now: Date = new Date()): string {
  switch (intent) {
    case 'time':
      return `It's ${now.toLocaleTimeString('en-US', { hour: 'numeric', minute: '2-digit' })}.`;
    case 'date':
      return `Today is ${now.toLocaleDateString('en-US', { weekday: 'long', month: 'long', day: 'numeric', year: 'numeric' })}.`;
    case 'joke': {
      const n = typeof state['jokes'] === 'number' ? state['jokes'] : 0;
      state['jokes'] = n + 1;
      return JOKES[n % JOKES.length]!;
    }
    case 'who':
      return "I'm the Switchboard assistant, a demo that runs entirely on this server: pocketsphinx understands you and Flite speaks.";
    case 'help':
      return `You can say: ${phraseList()}. Or press ${keyList()}.`;
    case 'repeat':
      return typeof state['last'] === 'string' ? state['last'] : "I haven't said anything yet.";
    case 'goodbye':
      return 'Goodbye! Thanks for calling. You can hang up now.';
  }
}
