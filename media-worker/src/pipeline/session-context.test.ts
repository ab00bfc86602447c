import { describe, expect, it } from 'vitest';
import { LatestInputs, MAX_INPUT_TYPES } from './session-context.ts';

describe('ctx.inputs (LatestInputs)', () => {
  it('keeps the latest event per type, at most 64 types; known types still update once full', () => {
    const inputs = new LatestInputs();
    for (let i = 0; i < 1000; i++) inputs.set(`t${i}`, { type: `t${i}`, n: i });
    expect(inputs.size).toBe(MAX_INPUT_TYPES);
    expect(inputs.has('t64')).toBe(false);
    inputs.set('t3', { type: 't3', n: 'latest' });
    expect(inputs.get('t3')).toEqual({ type: 't3', n: 'latest' });
    expect(inputs.size).toBe(MAX_INPUT_TYPES);
  });
});
