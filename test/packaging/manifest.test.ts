import { describe, expect, it } from 'vitest';
import { distPath, publishManifest } from '../../scripts/pack/manifest.ts';
import { TOOL_VERSIONS } from '../../create-switchboard/src/scaffold.ts';
import { tarballProblems } from './tarball-checks.ts';
import rootPkg from '../../package.json' with { type: 'json' };
import mediaWorkerPkg from '../../media-worker/package.json' with { type: 'json' };

const spec = { dir: 'x', lib: ['ES2023'] };

describe('publishManifest', () => {
  it('points exports and bin at dist with types, keeps exact dependencies, drops dev ones', () => {
    const m = publishManifest(
      {
        name: '@switchboard/x',
        version: '1.2.3',
        exports: { '.': './src/index.ts', './sub': './src/sub/index.ts' },
        dependencies: { zod: '4.6.7', '@switchboard/protocol': '1.2.3' },
        devDependencies: { vitest: '5.1.1' },
      },
      { ...spec, bin: { tool: './src/main.ts' } },
      ['README.md'],
    );
    expect(m.exports).toEqual({
      '.': { types: './dist/index.d.ts', default: './dist/index.js' },
      './sub': { types: './dist/sub/index.d.ts', default: './dist/sub/index.js' },
    });
    expect(m.bin).toEqual({ tool: './dist/main.js' });
    expect(m.dependencies).toEqual({ zod: '4.6.7', '@switchboard/protocol': '1.2.3' });
    expect(m).toMatchObject({ license: 'MIT', type: 'module', engines: { node: '>=22' }, files: ['dist', 'README.md'] });
    expect(m).not.toHaveProperty('devDependencies');
    expect(m).not.toHaveProperty('private');
  });

  it('promotes type dependencies and adds optional peers', () => {
    const m = publishManifest(
      { name: 'c', version: '1.0.0', devDependencies: { '@switchboard/protocol': '1.0.0' }, peerDependencies: { react: '>=18' }, peerDependenciesMeta: { react: { optional: true } } },
      { ...spec, typeDependencies: ['@switchboard/protocol'], optionalPeers: { ws: '^8.0.0' } },
      [],
    );
    expect(m.dependencies).toEqual({ '@switchboard/protocol': '1.0.0' });
    expect(m.peerDependencies).toEqual({ react: '>=18', ws: '^8.0.0' });
    expect(m.peerDependenciesMeta).toEqual({ react: { optional: true }, ws: { optional: true } });
  });

  it.each([
    [{ dependencies: { zod: '^4.6.7' } }, /zod@\^4\.6\.7 is not an exact version/],
    [{ dependencies: { '@switchboard/protocol': '0.9.0' } }, /released at 1\.0\.0/],
    [{ version: 'next' }, /not semver/],
  ])('refuses %j', (patch, why) => {
    expect(() => publishManifest({ name: 'x', version: '1.0.0', ...patch }, spec, [])).toThrow(why);
  });

  it('maps only ./src/*.ts paths', () => {
    expect(distPath('./src/a/b.ts', '.d.ts')).toBe('./dist/a/b.d.ts');
    expect(() => distPath('./lib/a.js')).toThrow(/expected a path like \.\/src/);
  });
});

describe('tarballProblems', () => {
  it('accepts dist, README, LICENSE, package.json and verbatim directories', () => {
    const ok = ['package/package.json', 'package/README.md', 'package/LICENSE', 'package/dist/a.js', 'package/dist/a.d.ts', 'package/dist/model.onnx', 'package/template/src/handler.test.ts'];
    expect(tarballProblems(ok, ['template'])).toEqual([]);
  });

  it.each([
    'package/dist/a.test.js',
    'package/dist/pipeline/memory-transport.test-helper.js',
    'package/dist/adapters/fakes/server.js',
    'package/dist/fake-stream-server.js',
    'package/dist/x.fixture-handler.js',
    'package/dist/a.ts',
    'package/src/a.ts',
    'package/template/x.ts',
  ])('refuses %s', (path) => {
    expect(tarballProblems([path])).not.toEqual([]);
  });
});

describe('versions', () => {
  it("the scaffold's tools are the workspace's versions", () => {
    const workspace = { ...rootPkg.devDependencies, ...mediaWorkerPkg.devDependencies } as Record<string, string>;
    for (const [name, version] of Object.entries(TOOL_VERSIONS)) expect(`${name}@${workspace[name]}`).toBe(`${name}@${version}`);
  });
});
