/**
 * What a published tarball may hold: package.json, README.md, LICENSE, dist (JavaScript, .d.ts and
 * the assets the code loads) and the directories a package copies verbatim (create-switchboard's
 * template); never tests, their helpers and fixtures, fakes, or TypeScript sources.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';

const TEST_ONLY = [/\.test\./, /test-helper/, /fixture/, /(^|\/)fakes?\//, /(^|\/)fake-/, /\.child\./];

/** Problems with a tarball's file list (paths as `tar -t` prints them, `package/...`). */
export function tarballProblems(files: readonly string[], verbatimDirs: readonly string[] = []): string[] {
  const problems: string[] = [];
  for (const path of files) {
    if (!path.startsWith('package/')) {
      problems.push(`${path}: outside package/`);
      continue;
    }
    const rel = path.slice('package/'.length);
    if (verbatimDirs.some((d) => rel.startsWith(`${d}/`))) continue;
    if (['package.json', 'README.md', 'LICENSE'].includes(rel)) continue;
    if (!rel.startsWith('dist/')) problems.push(`${rel}: not dist/, README.md, LICENSE or package.json`);
    if (rel.endsWith('.ts') && !rel.endsWith('.d.ts')) problems.push(`${rel}: a TypeScript source`);
    for (const p of TEST_ONLY) if (p.test(rel)) problems.push(`${rel}: test-only (${p.source})`);
  }
  return problems;
}

/** Bare specifiers (packages) a module imports, following its relative imports through `root`. */
export async function bareImports(entry: string): Promise<string[]> {
  const seen = new Set<string>();
  const bare = new Set<string>();
  const queue = [normalize(entry)];
  const pattern = /(?:\bfrom\s*|\bimport\s*\(?\s*)(['"])([^'"]+)\1/g;
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const m of (await readFile(file, 'utf8')).matchAll(pattern)) {
      const spec = m[2]!;
      if (spec.startsWith('.')) queue.push(join(dirname(file), spec));
      else bare.add(spec);
    }
  }
  return [...bare].sort();
}
