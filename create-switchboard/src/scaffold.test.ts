import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { localTarballs } from './local-tarballs.ts';
import { scaffold, TargetNotEmptyError } from './scaffold.ts';

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'create-switchboard-'));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const readJson = async (p: string) => JSON.parse(await readFile(p, 'utf8')) as Record<string, Record<string, string>>;

describe('scaffold', () => {
  it('writes the template with the name filled in, dotfiles renamed, and a package.json on the registry version', async () => {
    const dir = join(tmp, 'my-agent');
    const files = await scaffold({ directory: dir, name: 'my-agent', version: '1.2.3' });
    expect(files).toEqual(['.dockerignore', '.gitignore', 'Dockerfile', 'README.md', 'package.json', 'src/handler.test.ts', 'src/handler.ts', 'tsconfig.json']);
    const readme = await readFile(join(dir, 'README.md'), 'utf8');
    expect(readme).toMatch(/^# my-agent\n/);
    expect(readme).not.toContain('{{');
    const pkg = await readJson(join(dir, 'package.json'));
    expect(pkg['name']).toBe('my-agent');
    expect(pkg['devDependencies']?.['@switchboard/media-worker']).toBe('1.2.3');
    expect(pkg['scripts']?.['test']).toBe('vitest run');
    expect(pkg['overrides']).toBeUndefined();
  });

  it('points the dependencies at local tarballs: the worker directly, the rest through overrides', async () => {
    const tarballs = join(tmp, 'tarballs');
    await mkdir(tarballs);
    for (const f of ['switchboard-media-worker-1.2.3.tgz', 'switchboard-protocol-1.2.3.tgz', 'switchboard-protocol-1.0.0.tgz', 'other-1.2.3.tgz']) {
      await writeFile(join(tarballs, f), '');
    }
    const local = await localTarballs(tarballs, '1.2.3');
    expect(local).toEqual({
      '@switchboard/media-worker': `file:${join(tarballs, 'switchboard-media-worker-1.2.3.tgz')}`,
      '@switchboard/protocol': `file:${join(tarballs, 'switchboard-protocol-1.2.3.tgz')}`,
    });
    await scaffold({ directory: join(tmp, 'p'), name: 'p', version: '1.2.3', local });
    const pkg = await readJson(join(tmp, 'p', 'package.json'));
    expect(pkg['devDependencies']?.['@switchboard/media-worker']).toBe(local['@switchboard/media-worker']);
    expect(pkg['overrides']).toEqual({ '@switchboard/protocol': local['@switchboard/protocol'] });
  });

  it('refuses local tarballs without the worker at this version, saying what is there', async () => {
    await writeFile(join(tmp, 'switchboard-media-worker-1.0.0.tgz'), '');
    await expect(localTarballs(tmp, '1.2.3')).rejects.toThrow(/no switchboard-media-worker-1\.2\.3\.tgz .*switchboard-media-worker-1\.0\.0\.tgz/);
    await expect(localTarballs(join(tmp, 'nope'), '1.2.3')).rejects.toThrow(/no such directory/);
  });

  it('uses an existing empty directory, refuses a non-empty one or a file, and writes nothing then', async () => {
    await mkdir(join(tmp, 'empty'));
    await expect(scaffold({ directory: join(tmp, 'empty'), name: 'empty', version: '1.2.3' })).resolves.toContain('package.json');
    await mkdir(join(tmp, 'full'));
    await writeFile(join(tmp, 'full', 'keep.txt'), 'mine');
    await expect(scaffold({ directory: join(tmp, 'full'), name: 'full', version: '1.2.3' })).rejects.toThrow(TargetNotEmptyError);
    await expect(readFile(join(tmp, 'full', 'package.json'))).rejects.toThrow(/ENOENT/);
    await writeFile(join(tmp, 'file'), '');
    await expect(scaffold({ directory: join(tmp, 'file'), name: 'file', version: '1.2.3' })).rejects.toThrow(/not a directory/);
  });
});
