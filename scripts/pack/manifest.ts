/**
 * The package.json published for a workspace package: exports and bin point at dist (JavaScript
 * with its .d.ts) instead of src, dependencies keep the workspace's exact versions (the
 * @switchboard packages' own at the one version they are all released at), and development-only
 * fields are dropped.
 */
import type { PackageSpec } from './packages.ts';

export interface WorkspaceManifest {
  name: string;
  version: string;
  description?: string;
  exports?: Record<string, string>;
  bin?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

export interface PublishManifest {
  name: string;
  version: string;
  description?: string;
  license: 'MIT';
  type: 'module';
  engines: { node: string };
  exports?: Record<string, { types: string; default: string }>;
  bin?: Record<string, string>;
  files: string[];
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional: boolean }>;
}

const EXACT = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;

/** `./src/a/b.ts` -> `./dist/a/b.js`; anything not under src is refused. */
export function distPath(srcPath: string, ext: '.js' | '.d.ts' = '.js'): string {
  const m = /^\.\/src\/(.+)\.ts$/.exec(srcPath);
  if (!m) throw new Error(`expected a path like ./src/<file>.ts, got ${JSON.stringify(srcPath)}`);
  return `./dist/${m[1]}${ext}`;
}

export function publishManifest(ws: WorkspaceManifest, spec: PackageSpec, extraFiles: string[]): PublishManifest {
  const where = `${spec.dir}/package.json`;
  if (!EXACT.test(ws.version)) throw new Error(`${where}: version ${ws.version} is not semver`);
  const dependencies: Record<string, string> = {};
  const add = (name: string, version: string | undefined, from: string): void => {
    if (version === undefined) throw new Error(`${where}: ${name} is listed as a type dependency but not in devDependencies`);
    const v = name.startsWith('@switchboard/') ? ws.version : version;
    if (name.startsWith('@switchboard/') && version !== ws.version) {
      throw new Error(`${where}: ${from} ${name}@${version}, but every @switchboard package is released at ${ws.version}`);
    }
    if (!EXACT.test(v)) throw new Error(`${where}: ${from} ${name}@${version} is not an exact version`);
    dependencies[name] = v;
  };
  for (const [name, version] of Object.entries(ws.dependencies ?? {})) add(name, version, 'dependency');
  for (const name of spec.typeDependencies ?? []) add(name, ws.devDependencies?.[name], 'devDependency');

  const peers = { ...ws.peerDependencies, ...spec.optionalPeers };
  const peerMeta: Record<string, { optional: boolean }> = {};
  for (const name of Object.keys(peers)) {
    peerMeta[name] = { optional: Boolean(ws.peerDependenciesMeta?.[name]?.optional || spec.optionalPeers?.[name]) };
  }

  const out: PublishManifest = {
    name: ws.name,
    version: ws.version,
    ...(ws.description ? { description: ws.description } : {}),
    license: 'MIT',
    type: 'module',
    engines: { node: '>=22' },
    files: ['dist', ...(spec.copyDirs ?? []), ...extraFiles],
  };
  if (ws.exports) {
    out.exports = Object.fromEntries(
      Object.entries(ws.exports).map(([sub, path]) => [sub, { types: distPath(path, '.d.ts'), default: distPath(path) }]),
    );
  }
  const bin = { ...ws.bin, ...spec.bin };
  if (Object.keys(bin).length > 0) out.bin = Object.fromEntries(Object.entries(bin).map(([cmd, path]) => [cmd, distPath(path)]));
  if (Object.keys(dependencies).length > 0) out.dependencies = dependencies;
  if (Object.keys(peers).length > 0) {
    out.peerDependencies = peers;
    out.peerDependenciesMeta = peerMeta;
  }
  return out;
}
