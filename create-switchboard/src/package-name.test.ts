import { describe, expect, it } from 'vitest';
import { packageNameProblem } from './package-name.ts';

describe('packageNameProblem', () => {
  it.each(['my-agent', 'agent2', 'a.b_c~d', '@acme/voice-bot'])('accepts %s', (name) => {
    expect(packageNameProblem(name)).toBeUndefined();
  });

  it.each([
    ['', /empty/],
    ['My-Agent', /capital/],
    ['my agent', /lowercase letters/],
    ['.hidden', /starts with/],
    ['_private', /starts with/],
    ['@acme', /scope/],
    ['@acme/a/b', /scope/],
    ['node_modules', /reserved/],
    ['a'.repeat(215), /longer than 214/],
    ['café', /lowercase letters/],
  ])('refuses %j', (name, why) => {
    expect(packageNameProblem(name)).toMatch(why);
  });
});
