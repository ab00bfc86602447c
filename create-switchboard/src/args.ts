/** The command line: `create-switchboard <directory> [--name <package-name>] [--from <dir-of-tarballs>]`. */
export interface CliArgs {
  directory: string;
  name: string | undefined;
  from: string | undefined;
}

export const USAGE = `Usage: npm create switchboard@latest <directory> [-- --name <package-name>] [--from <dir-of-tarballs>]

  <directory>   where the project goes (created; refused if it exists and is not empty)
  --name        the package name (default: the directory's name)
  --from        a directory of @switchboard package tarballs (npm pack) to depend on instead of
                the registry; also SWITCHBOARD_PACKAGES_FROM`;

export class UsageError extends Error {
  override name = 'UsageError';
}

export function parseArgs(argv: readonly string[], env: Record<string, string | undefined> = {}): CliArgs | 'help' {
  const positional: string[] = [];
  let name: string | undefined;
  let from: string | undefined = env['SWITCHBOARD_PACKAGES_FROM'] || undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help') return 'help';
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (flag === '--name' || flag === '--from') {
      const value = inline ?? argv[++i];
      if (value === undefined || value === '') throw new UsageError(`${flag} needs a value`);
      if (flag === '--name') name = value;
      else from = value;
    } else if (arg.startsWith('-')) {
      throw new UsageError(`unknown option ${arg}`);
    } else {
      positional.push(arg);
    }
  }
  if (positional.length === 0) throw new UsageError('say where the project goes, e.g. `npm create switchboard@latest my-agent`');
  if (positional.length > 1) throw new UsageError(`one directory, not ${positional.length} (${positional.join(', ')})`);
  return { directory: positional[0]!, name, from };
}
