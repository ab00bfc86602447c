/**
 * Compiles one workspace package's src to dist (JavaScript + .d.ts) in its staging directory:
 * Node refuses to strip types under node_modules, so what is published must be JavaScript.
 * `rewriteRelativeImportExtensions` turns `./x.ts` specifiers into `./x.js`; the few module URLs
 * tsc does not see as imports (`new URL('./worker.ts', import.meta.url)` for worker threads) are
 * rewritten after it, as are the specifiers of the .d.ts files (tsc keeps `.ts` there), and any
 * relative `.ts` specifier left over fails the build.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { EXCLUDED_SOURCES, type PackageSpec } from './packages.ts';

const run = promisify(execFile);

export interface CompileInput {
  root: string;
  spec: PackageSpec;
  /** Where dist goes (the package's staging directory). */
  stage: string;
  /** Bare specifier -> .d.ts of an already staged @switchboard package (types resolve against what is published). */
  stagedTypes: Record<string, string>;
}

export async function compilePackage({ root, spec, stage, stagedTypes }: CompileInput): Promise<void> {
  const src = join(root, spec.dir, 'src');
  const tsconfig = join(stage, '..', `.tsconfig.${spec.dir}.json`);
  const config = {
    extends: join(root, 'tsconfig.json'),
    compilerOptions: {
      noEmit: false,
      allowImportingTsExtensions: false,
      rewriteRelativeImportExtensions: true,
      declaration: true,
      noEmitOnError: true,
      rootDir: src,
      outDir: join(stage, 'dist'),
      lib: spec.lib,
      types: ['node'],
      typeRoots: [join(root, 'node_modules/@types')],
      paths: Object.fromEntries(Object.entries(stagedTypes).map(([name, dts]) => [name, [dts]])),
    },
    include: [join(src, '**/*.ts')],
    exclude: EXCLUDED_SOURCES.map((g) => join(src, g)),
  };
  await mkdir(stage, { recursive: true });
  await writeFile(tsconfig, JSON.stringify(config, null, 2));
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  try {
    await run(process.execPath, [tsc, '-p', tsconfig], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`tsc failed for ${spec.dir}/src:\n${e.stdout || ''}${e.stderr || ''}`.trimEnd() || e.message);
  }
  await fixSpecifiers(join(stage, 'dist'));
  await copyAssets(src, join(stage, 'dist'));
}

/**
 * Files the code loads next to itself (`new URL('./model.onnx', import.meta.url)`) are copied from
 * src to the same place in dist; one that is missing fails the build. (Assets loaded from
 * dependencies, as the Silero model and the wasm files are, ship with those packages.)
 */
async function copyAssets(src: string, dist: string): Promise<void> {
  const pattern = /new URL\((['"])(\.{1,2}\/[^'"]+)\1,\s*import\.meta\.url\)/g;
  for (const file of await filesUnder(dist)) {
    if (!file.endsWith('.js')) continue;
    for (const m of (await readFile(file, 'utf8')).matchAll(pattern)) {
      const rel = m[2]!;
      if (rel.endsWith('.js') || rel.endsWith('/')) continue;
      const to = resolve(dirname(file), rel);
      const from = join(src, relative(dist, to));
      await mkdir(dirname(to), { recursive: true });
      await copyFile(from, to).catch((err: NodeJS.ErrnoException) => {
        throw new Error(`${relative(dist, file)} loads ${rel}, which is not in src (${from}): ${err.code ?? err.message}`);
      });
    }
  }
}

/** `.ts` -> `.js` in worker URLs and .d.ts specifiers, then refuses any relative `.ts` specifier left in dist. */
async function fixSpecifiers(dist: string): Promise<void> {
  const urlPattern = /new URL\((['"])(\.{1,2}\/[^'"]+)\.ts\1,\s*import\.meta\.url\)/g;
  // tsc keeps `.ts` in declaration files' specifiers (`from './x.ts'`, `import("./x.ts")`).
  const dtsImport = /(from\s+|import\()(['"])(\.{1,2}\/[^'"]+?)(?<!\.d)\.ts\2/g;
  const leftover = /(['"`])\.{1,2}\/[^'"`\n]*(?<!\.d)\.ts\1/g;
  const problems: string[] = [];
  for (const file of await filesUnder(dist)) {
    if (!file.endsWith('.js') && !file.endsWith('.d.ts')) continue;
    const text = await readFile(file, 'utf8');
    const fixed = file.endsWith('.js')
      ? text.replace(urlPattern, (_m, q: string, path: string) => `new URL(${q}${path}.js${q}, import.meta.url)`)
      : text.replace(dtsImport, (_m, lead: string, q: string, path: string) => `${lead}${q}${path}.js${q}`);
    if (fixed !== text) await writeFile(file, fixed);
    for (const m of fixed.matchAll(leftover)) problems.push(`${relative(dist, file)}: ${m[0]}`);
  }
  if (problems.length > 0) {
    throw new Error(`relative .ts specifiers left in the compiled output (Node cannot load them from node_modules):\n  ${problems.join('\n  ')}`);
  }
}

export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}
