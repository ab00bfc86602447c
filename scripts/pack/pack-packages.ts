/**
 * Builds the npm packages: `node scripts/pack/pack-packages.ts [--out <dir>]`.
 *
 * The workspace stays as it is (exports point at src/*.ts, no build step for development). For
 * each package in packages.ts this compiles src to JavaScript + .d.ts in a staging directory
 * (`.pack/<dir>/`, gitignored), writes the package.json to publish there, copies README.md (and
 * LICENSE when there is one), and runs `npm pack` on it: the tarballs land in `.pack/tarballs/`
 * (or --out). To publish, after checking the tarballs, from the repository root:
 *
 *   node scripts/pack/pack-packages.ts
 *   for d in protocol client media-worker create-switchboard; do (cd .pack/$d && npm publish --access public); done
 *
 * (protocol first: the others depend on it at the same version.)
 */
import { execFile } from 'node:child_process';
import { chmod, copyFile, cp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { compilePackage } from './compile.ts';
import { publishManifest, type PublishManifest, type WorkspaceManifest } from './manifest.ts';
import { PACKAGES } from './packages.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const exists = (p: string) => stat(p).then(() => true, () => false);

export interface PackedPackage {
  name: string;
  version: string;
  /** The staging directory (`npm publish` runs here). */
  stage: string;
  tarball: string;
  /** Bytes of the tarball, and of its files unpacked (npm's count). */
  size: number;
  unpackedSize: number;
  manifest: PublishManifest;
}

export interface PackOptions {
  /** Staging root; default `.pack/` in the repository. */
  stagingDir?: string;
  /** Where the tarballs go; default `<stagingDir>/tarballs`. */
  outDir?: string;
  /** Repository root (for tests); default this checkout. */
  root?: string;
}

export async function packPackages(options: PackOptions = {}): Promise<PackedPackage[]> {
  const root = options.root ?? ROOT;
  const staging = resolve(options.stagingDir ?? join(root, '.pack'));
  const outDir = resolve(options.outDir ?? join(staging, 'tarballs'));
  await mkdir(outDir, { recursive: true });
  const stagedTypes: Record<string, string> = {};
  const packed: PackedPackage[] = [];
  let releaseVersion: string | undefined;

  for (const [name, spec] of Object.entries(PACKAGES)) {
    const dir = join(root, spec.dir);
    const ws = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as WorkspaceManifest;
    if (ws.name !== name) throw new Error(`${spec.dir}/package.json is named ${ws.name}, expected ${name}`);
    releaseVersion ??= ws.version;
    if (ws.version !== releaseVersion) {
      throw new Error(`${spec.dir}/package.json is at ${ws.version}, the others at ${releaseVersion}: release them at one version`);
    }
    const stage = join(staging, spec.dir);
    await rm(stage, { recursive: true, force: true });
    await compilePackage({ root, spec, stage, stagedTypes });

    const extraFiles = ['README.md'];
    if (!(await exists(join(dir, 'README.md')))) throw new Error(`${spec.dir}/README.md is missing: every published package needs one`);
    await copyFile(join(dir, 'README.md'), join(stage, 'README.md'));
    for (const license of [join(dir, 'LICENSE'), join(root, 'LICENSE')]) {
      if (!(await exists(license))) continue;
      await copyFile(license, join(stage, 'LICENSE'));
      extraFiles.push('LICENSE');
      break;
    }
    for (const d of spec.copyDirs ?? []) await cp(join(dir, d), join(stage, d), { recursive: true });

    const manifest = publishManifest(ws, spec, extraFiles);
    await writeFile(join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    for (const target of Object.values(manifest.bin ?? {})) await addShebang(join(stage, target));
    const types = manifest.exports?.['.']?.types;
    if (types) stagedTypes[name] = join(stage, types);

    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', outDir], { cwd: stage, maxBuffer: 64 * 1024 * 1024 });
    const [info] = JSON.parse(stdout) as Array<{ filename: string; size: number; unpackedSize: number }>;
    if (!info) throw new Error(`npm pack printed no result for ${name}`);
    const tarball = join(outDir, info.filename);
    packed.push({ name, version: ws.version, stage, tarball, size: info.size, unpackedSize: info.unpackedSize, manifest });
  }
  return packed;
}

/** A bin must start with `#!/usr/bin/env node` to run as a command. */
async function addShebang(file: string): Promise<void> {
  const text = await readFile(file, 'utf8');
  if (!text.startsWith('#!')) await writeFile(file, `#!/usr/bin/env node\n${text}`);
  await chmod(file, 0o755);
}

if (import.meta.main) {
  const i = process.argv.indexOf('--out');
  const outDir = i > 0 ? process.argv[i + 1] : undefined;
  const started = performance.now();
  const packed = await packPackages(outDir ? { outDir } : {});
  for (const p of packed) {
    const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
    console.log(`${p.name}@${p.version}: ${p.tarball} (${kib(p.size)}, ${kib(p.unpackedSize)} unpacked); publish: cd ${p.stage} && npm publish --access public`);
  }
  console.log(`packed ${packed.length} packages in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
