/**
 * The packages published to npm, in build order (a package's @switchboard dependencies first),
 * and what each needs beyond its workspace package.json: the extra files it ships, its compiler
 * libraries, and dependencies that differ from the workspace's.
 */

export interface PackageSpec {
  /** Workspace directory, relative to the repository root. */
  dir: string;
  /** TypeScript `lib` for compiling src (DOM for the browser SDK). */
  lib: string[];
  /** Commands installed with the package, as `./src/<file>.ts` (published as the compiled file, with a shebang). */
  bin?: Record<string, string>;
  /** Directories copied verbatim next to dist (templates). */
  copyDirs?: string[];
  /** Workspace devDependencies the published .d.ts files import types from: promoted to dependencies. */
  typeDependencies?: string[];
  /** Peer dependencies added to the workspace's, all optional (a subpath that needs them documents it). */
  optionalPeers?: Record<string, string>;
}

/**
 * Compiled from src minus these (tsc still emits any of them a shipped module imports, which the
 * checks then refuse): tests, their helpers and fixtures, fakes of third-party services, child
 * processes of tests.
 */
export const EXCLUDED_SOURCES = [
  '**/*.test.ts',
  '**/*.test-helper.ts',
  '**/*.fixture*.ts',
  '**/*.child.ts',
  '**/fakes/**',
  '**/fake-*.ts',
  '**/__fixtures__/**',
];

export const PACKAGES: Record<string, PackageSpec> = {
  '@switchboard/protocol': { dir: 'protocol', lib: ['ES2023', 'DOM'] },
  '@switchboard/client': {
    dir: 'client',
    lib: ['ES2023', 'DOM', 'DOM.Iterable'],
    // The browser entry imports only types from the protocol; its .d.ts files need them resolved.
    typeDependencies: ['@switchboard/protocol'],
    // `./stream` (Node) runs on the `ws` package; browser users need not install it.
    optionalPeers: { ws: '^8.23.0' },
  },
  // The worker itself ships too, so a user's image or machine can run it on their handler.
  '@switchboard/media-worker': { dir: 'media-worker', lib: ['ES2023'], bin: { 'switchboard-worker': './src/main.ts' } },
  'create-switchboard': { dir: 'create-switchboard', lib: ['ES2023'], bin: { 'create-switchboard': './src/cli.ts' }, copyDirs: ['template'] },
};
