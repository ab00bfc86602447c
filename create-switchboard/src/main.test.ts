import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from './main.ts';

let tmp: string;
let out: string[];
let err: string[];
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'create-switchboard-main-'));
  out = [];
  err = [];
  vi.spyOn(console, 'log').mockImplementation((m: string) => void out.push(m));
  vi.spyOn(console, 'error').mockImplementation((m: string) => void err.push(m));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(tmp, { recursive: true, force: true });
});

describe('create-switchboard', () => {
  it('scaffolds and prints the next steps', async () => {
    expect(await main([join(tmp, 'my-agent')], {})).toBe(0);
    expect(await readdir(join(tmp, 'my-agent'))).toContain('Dockerfile');
    expect(out.join('\n')).toMatch(/Next steps:\n  cd .*my-agent\n  npm install\n  npm test/);
  });

  it('refuses a directory whose name is no package name, unless --name gives one', async () => {
    expect(await main([join(tmp, 'My Agent')], {})).toBe(1);
    expect(err.join('\n')).toMatch(/"My Agent" cannot be an npm package name: it has capital letters.*--name/);
    expect(await main([join(tmp, 'My Agent'), '--name', 'my-agent'], {})).toBe(0);
  });

  it('refuses a non-empty directory with exit 1, and usage errors with exit 2', async () => {
    await mkdir(join(tmp, 'taken'));
    await writeFile(join(tmp, 'taken', 'x'), '');
    expect(await main([join(tmp, 'taken')], {})).toBe(1);
    expect(err.join('\n')).toMatch(/exists and is not empty/);
    expect(await main([], {})).toBe(2);
    expect(err.join('\n')).toMatch(/Usage: npm create switchboard@latest/);
  });

  it('fails clearly when --from has no worker tarball', async () => {
    expect(await main([join(tmp, 'a'), '--from', tmp], {})).toBe(1);
    expect(err.join('\n')).toMatch(/--from .*: no switchboard-media-worker-0\.1\.0\.tgz/);
  });
});
