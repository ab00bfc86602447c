/**
 * Writes a new handler project: the template directory (a replyOnPause handler, its test on the
 * worker's real pipeline, a Dockerfile layering it on the worker image, a README), with the
 * project's name filled in, and its package.json.
 */
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';

const TEMPLATE = join(import.meta.dirname, '..', 'template');
/** npm drops or renames dotfiles in published packages, so the template keeps them under these names. */
const RENAMES: Record<string, string> = { _gitignore: '.gitignore', _dockerignore: '.dockerignore' };
/** The project's test and type-check tools (the versions the Switchboard workspace runs). */
export const TOOL_VERSIONS = { '@types/node': '24.19.2', typescript: '5.9.3', vitest: '5.1.1' } as const;

export interface ScaffoldOptions {
  /** The project directory (created; it may exist if empty). */
  directory: string;
  /** Its package name (already validated). */
  name: string;
  /** The @switchboard/media-worker version to depend on: this create-switchboard's own. */
  version: string;
  /** Package name -> `file:` spec of a local tarball (--from), in place of the registry. */
  local?: Record<string, string>;
}

export class TargetNotEmptyError extends Error {
  override name = 'TargetNotEmptyError';
}

/** Returns the files written, relative to the project directory. */
export async function scaffold(o: ScaffoldOptions): Promise<string[]> {
  const target = resolve(o.directory);
  const info = await stat(target).catch(() => undefined);
  if (info && !info.isDirectory()) throw new TargetNotEmptyError(`${target} exists and is not a directory`);
  if (info && (await readdir(target)).length > 0) {
    throw new TargetNotEmptyError(`${target} exists and is not empty: choose a new directory (nothing was written)`);
  }
  const written: string[] = [];
  const write = async (rel: string, text: string): Promise<void> => {
    await mkdir(dirname(join(target, rel)), { recursive: true });
    await writeFile(join(target, rel), text);
    written.push(rel);
  };

  for (const entry of await readdir(TEMPLATE, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const from = join(entry.parentPath, entry.name);
    const rel = join(relative(TEMPLATE, entry.parentPath), RENAMES[entry.name] ?? entry.name);
    const text = (await readFile(from, 'utf8')).replaceAll('{{name}}', o.name).replaceAll('{{version}}', o.version);
    await write(rel, text);
  }
  await write('package.json', `${JSON.stringify(projectManifest(o), null, 2)}\n`);
  return written.sort();
}

function projectManifest(o: ScaffoldOptions): Record<string, unknown> {
  const local = o.local ?? {};
  const worker = '@switchboard/media-worker';
  // The worker is a devDependency: tests and types use it here, and in the image the worker
  // image's own copy runs the handler (the Dockerfile installs only the handler's dependencies).
  const devDependencies = { [worker]: local[worker] ?? o.version, ...TOOL_VERSIONS };
  const overrides = Object.fromEntries(Object.entries(local).filter(([name]) => name !== worker));
  return {
    name: o.name,
    version: '0.1.0',
    private: true,
    type: 'module',
    scripts: { test: 'vitest run', typecheck: 'tsc' },
    dependencies: {},
    devDependencies,
    ...(Object.keys(overrides).length > 0 ? { overrides } : {}),
  };
}
