/**
 * `--from <dir>`: depend on @switchboard tarballs made by `npm pack` (scripts/pack in the
 * Switchboard repository) instead of the registry, e.g. to try a release before publishing it.
 * npm names the tarball of `@switchboard/x` at version v `switchboard-x-v.tgz`.
 */
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** Package name -> `file:` spec of its tarball at `version`; @switchboard/media-worker must be there. */
export async function localTarballs(dir: string, version: string): Promise<Record<string, string>> {
  const abs = resolve(dir);
  const names = await readdir(abs).catch((err: NodeJS.ErrnoException) => {
    throw new Error(`--from ${dir}: ${err.code === 'ENOENT' ? 'no such directory' : err.message}`);
  });
  const suffix = `-${version}.tgz`;
  const specs: Record<string, string> = {};
  for (const file of names) {
    if (!file.startsWith('switchboard-') || !file.endsWith(suffix)) continue;
    specs[`@switchboard/${file.slice('switchboard-'.length, -suffix.length)}`] = `file:${join(abs, file)}`;
  }
  if (!specs['@switchboard/media-worker']) {
    const found = names.filter((n) => n.endsWith('.tgz'));
    throw new Error(
      `--from ${dir}: no switchboard-media-worker${suffix} (this create-switchboard is ${version}; tarballs there: ${found.join(', ') || 'none'})`,
    );
  }
  return specs;
}
