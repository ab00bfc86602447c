/**
 * The runs of `npm run bench:ab` (ab.ts): the base revision checked out in a temporary git
 * worktree with its own install, the head (the working tree as it is, uncommitted changes
 * included, or another revision), and the same benchmark run on each in alternating order, each
 * run's result file read back. The stack of each variant is its own tree's, started and stopped
 * by its own `npm run bench`, so only one variant's processes are ever on the machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flattenNumbers, roundOrder } from './ab-compare.ts';

export interface AbRunOptions {
  /** The repository's root (the head's tree when `head` is null). */
  root: string;
  base: string;
  /** A revision for the head, or null: the working tree at `root`. */
  head: string | null;
  rounds: number;
  /** Passed to every run (never --out: each run's file is set here). */
  benchArgs: readonly string[];
  /** Keep the worktrees and result files (their paths are printed). */
  keep: boolean;
  /** Run in a tree before its first bench run (default: the project's install). */
  install?: readonly string[];
  /** The benchmark (default: `npm run bench`'s script); `--out FILE` is appended. */
  bench?: readonly string[];
  log?: (line: string) => void;
}

export interface AbRuns {
  base: Map<string, number>[];
  head: Map<string, number>[];
}

/** A SIGINT or SIGTERM stopped the runs; the worktrees were removed all the same. */
export class AbInterrupted extends Error {
  readonly signal: NodeJS.Signals;
  constructor(signal: NodeJS.Signals) {
    super(`stopped by ${signal}`);
    this.signal = signal;
  }
}

/** The run in progress, and the signal that stopped the runs, if one did. */
interface Runner {
  child: ChildProcess | null;
  signal: NodeJS.Signals | null;
}

const INSTALL = ['bash', 'scripts/run.sh', 'true'];
const BENCH = ['bash', 'scripts/bench.sh'];

/**
 * Runs `argv` in `cwd` with its output to `logFile`; rejects naming the log on a non-zero exit.
 * The run gets a process group of its own, so a signal reaches the whole stack it starts.
 */
function run(argv: readonly string[], cwd: string, logFile: string, runner?: Runner): Promise<void> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = argv;
    if (!cmd) return reject(new Error('empty command'));
    if (runner?.signal) return reject(new AbInterrupted(runner.signal));
    // The output goes to a file, written by the child itself: nothing is buffered here.
    const fd = `exec >${JSON.stringify(logFile)} 2>&1; exec "$@"`;
    const child = spawn('bash', ['-c', fd, 'ab', cmd, ...args], { cwd, stdio: 'ignore', detached: true });
    if (runner) runner.child = child;
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (runner) runner.child = null;
      if (runner?.signal) reject(new AbInterrupted(runner.signal));
      else if (code === 0) resolve();
      else reject(new Error(`${argv.join(' ')} in ${cwd} ended with ${signal ?? `exit ${code}`}; its output: ${logFile}`));
    });
  });
}

function git(root: string, args: readonly string[], logFile: string, runner?: Runner): Promise<void> {
  return run(['git', '-C', root, ...args], root, logFile, runner);
}

/**
 * Every run of both variants; the worktrees are removed afterwards unless `keep` (the logs too,
 * unless a run failed). SIGINT or SIGTERM stops the run in progress (its whole process group),
 * removes the worktrees and rejects with AbInterrupted.
 */
export async function runAb(o: AbRunOptions): Promise<AbRuns> {
  const log = o.log ?? ((line: string) => console.log(line));
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-ab-'));
  const trees: string[] = [];
  const runner: Runner = { child: null, signal: null };
  const onSignal = (signal: NodeJS.Signals) => {
    runner.signal = signal;
    const pid = runner.child?.pid;
    if (pid !== undefined) {
      try {
        process.kill(-pid, signal);
      } catch {
        // the group is gone already
      }
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const checkout = async (name: string, rev: string): Promise<string> => {
    const tree = join(dir, name);
    log(`${name}: ${rev} in ${tree}: checking out and installing`);
    await git(o.root, ['worktree', 'add', '--detach', tree, rev], join(dir, `${name}-checkout.log`), runner);
    trees.push(tree);
    await run(o.install ?? INSTALL, tree, join(dir, `${name}-install.log`), runner);
    return tree;
  };
  let ok = false;
  try {
    const where = {
      base: await checkout('base', o.base),
      head: o.head === null ? o.root : await checkout('head', o.head),
    };
    const runs: AbRuns = { base: [], head: [] };
    for (let round = 0; round < o.rounds; round++) {
      for (const side of roundOrder(round)) {
        const out = join(dir, `${side}-${round + 1}.json`);
        log(`round ${round + 1}/${o.rounds}: ${side}`);
        await run([...(o.bench ?? BENCH), ...o.benchArgs, '--out', out], where[side], join(dir, `${side}-${round + 1}.log`), runner);
        runs[side].push(flattenNumbers(JSON.parse(readFileSync(out, 'utf8'))));
      }
    }
    ok = true;
    return runs;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (o.keep) log(`kept: ${dir}`);
    else {
      for (const tree of trees) await git(o.root, ['worktree', 'remove', '--force', tree], '/dev/null').catch(() => {});
      await git(o.root, ['worktree', 'prune'], '/dev/null').catch(() => {});
      // A failed run's logs stay for the error message that names them; a stopped one's go.
      if (ok || runner.signal) rmSync(dir, { recursive: true, force: true });
    }
  }
}
