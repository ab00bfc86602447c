/**
 * The runs of `npm run bench:ab` (ab.ts): the base revision checked out in a temporary git
 * worktree with its own install, the head (the working tree as it is, uncommitted changes
 * included, or another revision), and the same benchmark run on each in alternating order, each
 * run's result file read back. The stack of each variant is its own tree's, started and stopped
 * by its own `npm run bench`, so only one variant's processes are ever on the machine.
 */
import { spawn } from 'node:child_process';
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

const INSTALL = ['bash', 'scripts/run.sh', 'true'];
const BENCH = ['bash', 'scripts/bench.sh'];

/** Runs `argv` in `cwd` with its output to `logFile`; rejects naming the log on a non-zero exit. */
function run(argv: readonly string[], cwd: string, logFile: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = argv;
    if (!cmd) return reject(new Error('empty command'));
    // The output goes to a file, written by the child itself: nothing is buffered here.
    const fd = `exec >${JSON.stringify(logFile)} 2>&1; exec "$@"`;
    const child = spawn('bash', ['-c', fd, 'ab', cmd, ...args], { cwd, stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${argv.join(' ')} in ${cwd} ended with ${signal ?? `exit ${code}`}; its output: ${logFile}`));
    });
  });
}

function git(root: string, args: readonly string[], logFile: string): Promise<void> {
  return run(['git', '-C', root, ...args], root, logFile);
}

/** Every run of both variants; the worktrees are removed afterwards unless `keep` (the logs too, unless a run failed). */
export async function runAb(o: AbRunOptions): Promise<AbRuns> {
  const log = o.log ?? ((line: string) => console.log(line));
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-ab-'));
  const trees: string[] = [];
  const checkout = async (name: string, rev: string): Promise<string> => {
    const tree = join(dir, name);
    log(`${name}: ${rev} in ${tree}, installing`);
    await git(o.root, ['worktree', 'add', '--detach', tree, rev], join(dir, `${name}-checkout.log`));
    trees.push(tree);
    await run(o.install ?? INSTALL, tree, join(dir, `${name}-install.log`));
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
        await run([...(o.bench ?? BENCH), ...o.benchArgs, '--out', out], where[side], join(dir, `${side}-${round + 1}.log`));
        runs[side].push(flattenNumbers(JSON.parse(readFileSync(out, 'utf8'))));
      }
    }
    ok = true;
    return runs;
  } finally {
    if (o.keep) log(`kept: ${dir}`);
    else {
      for (const tree of trees) await git(o.root, ['worktree', 'remove', '--force', tree], '/dev/null').catch(() => {});
      await git(o.root, ['worktree', 'prune'], '/dev/null').catch(() => {});
      // A failed run's logs stay for the error message that names them.
      if (ok) rmSync(dir, { recursive: true, force: true });
    }
  }
}
