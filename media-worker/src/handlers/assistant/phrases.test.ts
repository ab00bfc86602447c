import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_DIR } from '../../voice/pocketsphinx.ts';
import { buildGrammar } from './grammar.ts';
import { CLOSERS, INTENTS, OPENERS, intentOfKey, intentOfText, keyList, phraseList } from './phrases.ts';
import { JOKES, answer } from './replies.ts';

describe('assistant phrase table', () => {
  it('finds the intent of recognized or typed text, ignoring openers, closers and punctuation', () => {
    expect(intentOfText('what time is it')).toBe('time');
    expect(intentOfText('Hey, what time is it please?')).toBe('time');
    expect(intentOfText("What’s the date")).toBe('date');
    expect(intentOfText('hello tell me another joke thank you')).toBe('joke');
    expect(intentOfText('bye bye')).toBe('goodbye');
    expect(intentOfText('who are you')).toBe('who');
    expect(intentOfText('helpful')).toBeUndefined();
    expect(intentOfText('play some music')).toBeUndefined();
    for (const e of INTENTS) for (const p of e.phrases) expect(intentOfText(p)).toBe(e.intent);
  });

  it('maps keys; every intent has its own key', () => {
    expect(intentOfKey('1')).toBe('time');
    expect(intentOfKey('2')).toBe('joke');
    expect(intentOfKey('0')).toBe('help');
    expect(intentOfKey('#')).toBe('repeat');
    expect(intentOfKey('7')).toBeUndefined();
    expect(intentOfKey(2)).toBeUndefined();
    expect(new Set(INTENTS.map((e) => e.key)).size).toBe(INTENTS.length);
    expect(keyList()).toContain('pound for repeat');
    expect(phraseList()).toBe("what time is it, tell me a joke, what's the date, who are you, help, repeat that, or goodbye");
  });

  it('the grammar has every phrase, and every word is in the pocketsphinx dictionary', () => {
    const grammar = buildGrammar();
    for (const e of INTENTS) for (const p of e.phrases) expect(grammar).toContain(p);
    const dict = new Set(readFileSync(`${DEFAULT_MODEL_DIR}/cmudict-en-us.dict`, 'utf8').split('\n').map((l) => l.split(' ', 1)[0]));
    const words = [...INTENTS.flatMap((e) => e.phrases), ...OPENERS, ...CLOSERS].flatMap((p) => p.split(' '));
    expect(words.filter((w) => !dict.has(w))).toEqual([]);
  });

  it('answers: the time and date of the given clock, jokes in turn, repeat', () => {
    const state: Record<string, unknown> = {};
    const at = new Date(2025, 2, 4, 15, 7);
    expect(answer('time', state, at)).toBe("It's 3:07 PM.");
    expect(answer('date', state, at)).toBe('Today is Tuesday, March 4, 2025.');
    expect(answer('joke', state)).toBe(JOKES[0]);
    expect(answer('joke', state)).toBe(JOKES[1]);
    expect(answer('repeat', state)).toBe("I haven't said anything yet.");
    state['last'] = 'Hello.';
    expect(answer('repeat', state)).toBe('Hello.');
  });
});
