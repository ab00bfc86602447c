import { describe, expect, it } from 'vitest';
import { parseBenchOptions, SECTIONS, UsageError } from '../bench/options.ts';

describe('bench command line', () => {
  it('runs every section of the full preset by default, one worker process per core', () => {
    const o = parseBenchOptions([], 2);
    expect([...o.only]).toEqual([...SECTIONS]);
    expect(o.P.mediaSizes).toEqual([10, 20, 40, 60, 80]);
    expect(o.machineWorkers).toBe(2);
    expect(o.withBaseline).toBe(true);
    expect(o.edge).toBe('bundle');
    expect(o.minute.providers).toEqual(['twilio', 'telnyx', 'plivo']);
  });

  it('overrides the preset from flags without changing the preset for the next parse', () => {
    const o = parseBenchOptions(['--quick', '--only', 'media, setup', '--sizes', '20,60', '--window-s', '1.5', '--workers', '3', '--no-baseline'], 2);
    expect([...o.only]).toEqual(['media', 'setup']);
    expect(o.P.mediaSizes).toEqual([20, 60]);
    expect(o.P.windowMs).toBe(1500);
    expect(o.machineWorkers).toBe(3);
    expect(o.withBaseline).toBe(false);
    expect(parseBenchOptions(['--quick'], 2).P.mediaSizes).toEqual([10]);
  });

  it.each([
    [['--bogus'], /Unknown option '--bogus'/],
    [['--only', 'media,video'], /--only: unknown section "video"/],
    [['--sizes', '10,0'], /--sizes: positive integers/],
    [['--rounds', '1.5'], /--rounds: a positive integer, not "1.5"/],
    [['--warmup-s=-1'], /--warmup-s: a positive number of seconds/],
    [['--minute-providers', 'twilio,vonage'], /--minute-providers: twilio, telnyx, plivo, not "vonage"/],
    [['--minute-s', '10'], /--minute-s: at least 20/],
    [['--edge', 'remote'], /--edge: bundle or wrangler-dev/],
  ])('refuses %j with a usage error naming the flag', (argv, message) => {
    expect(() => parseBenchOptions(argv, 2)).toThrow(UsageError);
    expect(() => parseBenchOptions(argv, 2)).toThrow(message);
  });
});
