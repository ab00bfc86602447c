import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from './args.ts';

describe('parseArgs', () => {
  it('takes the directory, --name and --from (also as --x=value)', () => {
    expect(parseArgs(['my-agent'])).toEqual({ directory: 'my-agent', name: undefined, from: undefined });
    expect(parseArgs(['--name', 'bot', 'dir', '--from=/t'])).toEqual({ directory: 'dir', name: 'bot', from: '/t' });
  });

  it('reads SWITCHBOARD_PACKAGES_FROM; --from wins over it', () => {
    expect(parseArgs(['d'], { SWITCHBOARD_PACKAGES_FROM: '/env' }).valueOf()).toMatchObject({ from: '/env' });
    expect(parseArgs(['d', '--from', '/flag'], { SWITCHBOARD_PACKAGES_FROM: '/env' })).toMatchObject({ from: '/flag' });
  });

  it('answers help', () => {
    expect(parseArgs(['--help'])).toBe('help');
    expect(parseArgs(['x', '-h'])).toBe('help');
  });

  it.each([
    [[], /say where the project goes/],
    [['a', 'b'], /one directory/],
    [['a', '--frm', 'x'], /unknown option --frm/],
    [['a', '--from'], /--from needs a value/],
    [['a', '--name='], /--name needs a value/],
  ])('refuses %j', (argv, why) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
    expect(() => parseArgs(argv)).toThrow(why);
  });
});
