/**
 * `npm run bench:ab`: one benchmark on two versions of the project, side by side in one run. This
 * machine's speed drifts by 20-50 % between identical runs, so a figure from today against one
 * from another day says little; alternating rounds of both versions within one run do (ab-run.ts).
 */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { compareRuns, type AbRow } from './ab-compare.ts';
import { AbInterrupted, runAb } from './ab-run.ts';

export const AB_USAGE = `npm run bench:ab -- --base REV [--head REV] [--rounds N] [--metric REGEX] [--keep] -- BENCH-ARGS

Runs \`npm run bench BENCH-ARGS\` on two versions in alternating rounds (base, head; head, base; ...)
and prints each figure's median per version and head/base. The base is checked out and installed in
a temporary git worktree; the head is the working tree as it is (uncommitted changes included) unless
--head names a revision.
  --rounds N        runs of each version (default 3)
  --metric REGEX    which figures, by their path in the result file (default: cpu|p50|p99, any case)
  --keep            keep the worktrees, result files and logs
Ctrl-C (or SIGTERM) stops the run in progress with its whole stack and removes the worktrees.
Example: npm run bench:ab -- --base HEAD~3 --metric 'setup.concurrent' -- --only setup`;

export class AbUsageError extends Error {}

export interface AbOptions {
  help: boolean;
  base: string;
  head: string | null;
  rounds: number;
  metric: RegExp;
  keep: boolean;
  benchArgs: string[];
}

const MAX_ROUNDS = 20;

/** The command line: the tool's flags before `--`, the benchmark's after it. */
export function parseAbArgs(argv: readonly string[]): AbOptions {
  const split = argv.indexOf('--');
  const own = split < 0 ? argv : argv.slice(0, split);
  const benchArgs = split < 0 ? [] : argv.slice(split + 1);
  let values;
  try {
    ({ values } = parseArgs({
      args: [...own],
      options: {
        help: { type: 'boolean' },
        base: { type: 'string' },
        head: { type: 'string' },
        rounds: { type: 'string' },
        metric: { type: 'string' },
        keep: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new AbUsageError((err as Error).message);
  }
  const help = values.help ?? false;
  if (!help && !values.base) throw new AbUsageError('--base REV is required');
  const rounds = values.rounds === undefined ? 3 : Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > MAX_ROUNDS) throw new AbUsageError(`--rounds takes 1..${MAX_ROUNDS}, not ${values.rounds}`);
  let metric: RegExp;
  try {
    metric = new RegExp(values.metric ?? 'cpu|p50|p99', 'i');
  } catch {
    throw new AbUsageError(`--metric is not a regular expression: ${values.metric}`);
  }
  if (benchArgs.some((a) => a === '--out' || a.startsWith('--out='))) throw new AbUsageError('--out is set for each run by bench:ab; leave it out');
  return { help, base: values.base ?? '', head: values.head ?? null, rounds, metric, keep: values.keep ?? false, benchArgs };
}

function fmt(x: number): string {
  return Number.isFinite(x) ? String(Math.round(x * 1000) / 1000) : '-';
}

export function abTable(rows: readonly AbRow[]): Record<string, string | number>[] {
  return rows.map((r) => ({
    metric: r.metric,
    'base median': fmt(r.baseMedian),
    'head median': fmt(r.headMedian),
    'head/base': Number.isFinite(r.ratio) ? Math.round(r.ratio * 100) / 100 : '-',
    'base runs': r.base.map(fmt).join(' '),
    'head runs': r.head.map(fmt).join(' '),
  }));
}

if (import.meta.main) {
  let options: AbOptions;
  try {
    options = parseAbArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof AbUsageError)) throw err;
    console.error(`bench:ab: ${err.message}\n\n${AB_USAGE}`);
    process.exit(2);
  }
  if (options.help) {
    console.log(AB_USAGE);
    process.exit(0);
  }
  const root = fileURLToPath(new URL('..', import.meta.url));
  let runs;
  try {
    runs = await runAb({ root, base: options.base, head: options.head, rounds: options.rounds, benchArgs: options.benchArgs, keep: options.keep });
  } catch (err) {
    if (err instanceof AbInterrupted) {
      console.error(`bench:ab: ${err.message}; the worktrees are removed`);
      process.exit(err.signal === 'SIGINT' ? 130 : 143);
    }
    // A revision that does not exist, a failed install or run: one line naming its log.
    console.error(`bench:ab: ${(err as Error).message}`);
    process.exit(1);
  }
  const rows = compareRuns(runs.base, runs.head, options.metric);
  console.log(`\nbase ${options.base}, head ${options.head ?? 'the working tree'}, ${options.rounds} rounds, alternating`);
  if (rows.length === 0) console.log(`no figure's path matches ${options.metric}`);
  else console.table(abTable(rows));
}
