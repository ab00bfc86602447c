/**
 * The command (cli.ts runs it): scaffolds a handler project in ./my-agent and prints
 * what to do next. Exits 1 with one line saying what is wrong (bad name, non-empty directory,
 * missing tarballs), 2 on a usage error.
 */
import { readFile } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { parseArgs, USAGE, UsageError } from './args.ts';
import { localTarballs } from './local-tarballs.ts';
import { packageNameProblem } from './package-name.ts';
import { scaffold } from './scaffold.ts';

export async function main(argv: readonly string[], env: Record<string, string | undefined>): Promise<number> {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(argv, env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`create-switchboard: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (args === 'help') {
    console.log(USAGE);
    return 0;
  }
  const target = resolve(args.directory);
  const name = args.name ?? basename(target);
  const problem = packageNameProblem(name);
  if (problem) {
    console.error(`create-switchboard: "${name}" cannot be an npm package name: ${problem}. Pick another directory name, or pass --name <package-name>.`);
    return 1;
  }
  const { version } = JSON.parse(await readFile(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as { version: string };
  try {
    const local = args.from ? await localTarballs(args.from, version) : undefined;
    const files = await scaffold({ directory: target, name, version, ...(local ? { local } : {}) });
    const cd = relative(process.cwd(), target) || '.';
    console.log(`Created ${name} in ${target} (${files.length} files${local ? `, @switchboard packages from ${resolve(args.from!)}` : ''}).

Next steps:
  cd ${cd}
  npm install
  npm test                    # your handler through the worker's real pipeline

Then edit src/handler.ts; README.md says how to run it against a local Switchboard stack, build its
image and deploy it.`);
    return 0;
  } catch (err) {
    console.error(`create-switchboard: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
