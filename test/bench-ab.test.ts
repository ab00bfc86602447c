import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { compareRuns, flattenNumbers, median, roundOrder } from '../bench/ab-compare.ts';
import { AbUsageError, parseAbArgs } from '../bench/ab.ts';
import { runAb } from '../bench/ab-run.ts';

describe('bench:ab arithmetic', () => {
  it('flattens a result file to its finite numbers by path', () => {
    const m = flattenNumbers({ setup: { whip: { p50: 150, n: 200 }, failures: ['x'] }, media: [{ cpuPct: 17.3 }, { cpuPct: null }], note: 'x', inf: Infinity });
    expect([...m]).toEqual([
      ['setup.whip.p50', 150],
      ['setup.whip.n', 200],
      ['media[0].cpuPct', 17.3],
    ]);
  });

  it('takes medians per side and their ratio, for the figures the metric names', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    const base = [new Map([['edge.cpu', 8], ['n', 1]]), new Map([['edge.cpu', 7]]), new Map([['edge.cpu', 9]])];
    const head = [new Map([['edge.cpu', 10], ['n', 1]]), new Map([['edge.cpu', 11]]), new Map([['edge.cpu', 9.5]])];
    const rows = compareRuns(base, head, /cpu/);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ metric: 'edge.cpu', baseMedian: 8, headMedian: 10, ratio: 1.25, base: [8, 7, 9], head: [10, 11, 9.5] });
  });

  it('leaves out a figure one side never had, and gives no ratio over a zero base', () => {
    const rows = compareRuns([new Map([['a.cpu', 0], ['b.cpu', 1]])], [new Map([['a.cpu', 2]])], /cpu/);
    expect(rows.map((r) => r.metric)).toEqual(['a.cpu']);
    expect(rows[0]!.ratio).toBeNaN();
  });

  it('alternates which side runs first', () => {
    expect([0, 1, 2, 3].map(roundOrder)).toEqual([['base', 'head'], ['head', 'base'], ['base', 'head'], ['head', 'base']]);
  });
});

describe('bench:ab command line', () => {
  it('splits its own flags from the benchmark arguments', () => {
    const o = parseAbArgs(['--base', 'HEAD~2', '--rounds', '5', '--metric', 'setup\\.concurrent', '--', '--only', 'setup']);
    expect(o).toMatchObject({ base: 'HEAD~2', head: null, rounds: 5, keep: false, benchArgs: ['--only', 'setup'] });
    expect(o.metric.test('setup.concurrent.whip.p50')).toBe(true);
    expect(o.metric.test('setup.sequential.whip.p50')).toBe(false);
    expect(parseAbArgs(['--base', 'x']).metric.test('media[0].CPUPCT')).toBe(true);
  });

  it.each([
    [[], /--base REV is required/],
    [['--base', 'x', '--rounds', '0'], /--rounds takes 1\.\.20, not 0/],
    [['--base', 'x', '--metric', '('], /--metric is not a regular expression/],
    [['--base', 'x', '--', '--only', 'setup', '--out', 'f.json'], /--out is set for each run/],
    [['--base', 'x', '--bogus'], /Unknown option '--bogus'/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseAbArgs(argv)).toThrow(AbUsageError);
    expect(() => parseAbArgs(argv)).toThrow(message);
  });
});

/** Whether a process is alive and not a zombie (Linux /proc). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('bench:ab runs', () => {
  let repo = '';
  afterEach(() => rmSync(repo, { recursive: true, force: true }));

  /** A git repository whose "benchmark" writes the figure in its tree's value.txt, and appends its tree to a shared log. */
  function makeRepo(): { repo: string; order: string } {
    repo = mkdtempSync(join(tmpdir(), 'sb-ab-test-'));
    const order = join(repo, '..', `${repo.split('/').pop()}-order.log`);
    const g = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { stdio: 'pipe' });
    g('init', '-q');
    g('config', 'user.email', 't@example.com');
    g('config', 'user.name', 't');
    writeFileSync(join(repo, 'bench.sh'), `#!/bin/bash\n# args: ... --out FILE\nout="\${@: -1}"\necho "$(basename "$PWD") $*" >> ${JSON.stringify(order)}\nprintf '{"x":{"cpu":%s,"label":"v"}}' "$(cat value.txt)" > "$out"\n`);
    writeFileSync(join(repo, 'value.txt'), '10');
    g('add', '.');
    g('commit', '-qm', 'base');
    writeFileSync(join(repo, 'value.txt'), '12');
    return { repo, order };
  }

  it('runs the base in a worktree and the working tree as head, alternating, and removes the worktree', async () => {
    const { order } = makeRepo();
    const lines: string[] = [];
    const runs = await runAb({ root: repo, base: 'HEAD', head: null, rounds: 2, benchArgs: ['--only', 'setup'], keep: false, install: ['true'], bench: ['bash', 'bench.sh'], log: (l) => lines.push(l) });
    const rows = compareRuns(runs.base, runs.head, /cpu/);
    expect(rows).toEqual([{ metric: 'x.cpu', base: [10, 10], head: [12, 12], baseMedian: 10, headMedian: 12, ratio: 1.2 }]);
    // base, head, then head, base; each run got the benchmark's arguments and its own --out.
    const ran = readFileSync(order, 'utf8').trim().split('\n');
    rmSync(order);
    expect(ran.map((l) => l.split(' ')[0])).toEqual(['base', repo.split('/').pop(), repo.split('/').pop(), 'base']);
    for (const l of ran) expect(l).toMatch(/ --only setup --out \S+\.json$/);
    const trees = execFileSync('git', ['-C', repo, 'worktree', 'list'], { encoding: 'utf8' }).trim().split('\n');
    expect(trees).toHaveLength(1);
    expect(lines.some((l) => l.startsWith('base: HEAD in ') && l.endsWith('checking out and installing'))).toBe(true);
  });

  it('names the failed run and its log, and still removes the worktree', async () => {
    makeRepo();
    const failed = runAb({ root: repo, base: 'HEAD', head: null, rounds: 1, benchArgs: [], keep: false, install: ['true'], bench: ['bash', '-c', 'echo broke; exit 3', 'x'], log: () => {} });
    const err = await failed.then(() => null, (e: Error) => e);
    expect(err?.message).toMatch(/ended with exit 3; its output: \S+base-1\.log$/);
    const logFile = err!.message.split('its output: ')[1]!;
    expect(readFileSync(logFile, 'utf8')).toBe('broke\n');
    rmSync(join(logFile, '..'), { recursive: true, force: true });
    const trees = execFileSync('git', ['-C', repo, 'worktree', 'list'], { encoding: 'utf8' }).trim().split('\n');
    expect(trees).toHaveLength(1);
  });

  it('stops on SIGTERM: the run in progress (its whole process group) ends and the worktree is removed', async () => {
    makeRepo();
    const marker = join(repo, '..', `${repo.split('/').pop()}-pid`);
    const script = join(repo, '..', `${repo.split('/').pop()}-runner.mjs`);
    // The stand-in benchmark starts a grandchild (sleep) that only a signal to the group reaches.
    writeFileSync(
      script,
      `import { runAb, AbInterrupted } from ${JSON.stringify(pathToFileURL(join(import.meta.dirname, '../bench/ab-run.ts')).href)};
      try {
        await runAb({ root: ${JSON.stringify(repo)}, base: 'HEAD', head: null, rounds: 1, benchArgs: [], keep: false, install: ['true'],
          bench: ['bash', '-c', 'sleep 60 & echo $! > ${marker}; wait', 'x'], log: () => {} });
        process.exit(0);
      } catch (err) { process.exit(err instanceof AbInterrupted && err.signal === 'SIGTERM' ? 43 : 1); }`,
    );
    const child = spawn(process.execPath, [script], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 20_000;
      while (!existsSync(marker) || readFileSync(marker, 'utf8').trim() === '') {
        if (Date.now() > deadline) throw new Error('the stand-in benchmark never started');
        await new Promise((r) => setTimeout(r, 50));
      }
      const sleeper = Number(readFileSync(marker, 'utf8').trim());
      child.kill('SIGTERM');
      expect(await exited).toBe(43);
      // The group's signal ended the grandchild too (a zombie nobody reaps here counts as ended).
      const until = Date.now() + 5000;
      while (running(sleeper) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      expect(running(sleeper)).toBe(false);
      const trees = execFileSync('git', ['-C', repo, 'worktree', 'list'], { encoding: 'utf8' }).trim().split('\n');
      expect(trees).toHaveLength(1);
    } finally {
      child.kill('SIGKILL');
      rmSync(marker, { force: true });
      rmSync(script, { force: true });
    }
  });
});
