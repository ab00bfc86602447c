import { afterEach, describe, expect, it, vi } from 'vitest';
import { skipOutsideCi } from './support/skip-outside-ci.ts';

describe('skipOutsideCi', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('runs a file that has what it needs, under CI or not', () => {
    vi.stubEnv('CI', 'true');
    expect(skipOutsideCi('lab', null)).toBe(false);
    vi.stubEnv('CI', '');
    expect(skipOutsideCi('lab', null)).toBe(false);
  });

  it('skips a file that cannot run on a developer machine, and fails it under CI', () => {
    vi.stubEnv('CI', '');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(skipOutsideCi('lab', 'needs root')).toBe(true);
    expect(warn).toHaveBeenCalledWith('[lab] skipped: needs root');
    warn.mockRestore();
    vi.stubEnv('CI', 'true');
    expect(() => skipOutsideCi('lab', 'needs root')).toThrow('[lab] cannot run on this CI machine: needs root');
  });
});
