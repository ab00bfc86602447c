/**
 * The release path end to end: scripts/pack builds the tarballs; `create-switchboard`, installed
 * from its tarball the way `npm create` runs it, scaffolds a project pointed at the others; the
 * project installs (our packages from the tarballs, third-party ones from the machine's npm
 * cache), passes its own `npm test` and type check, and runs the worker's bin on its handler
 * against a local queue. A second project installs the browser SDK, to import what it exports.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packPackages, type PackedPackage } from '../../scripts/pack/pack-packages.ts';
import { PACKAGES } from '../../scripts/pack/packages.ts';
import { startLocalSqs } from '../../scripts/stack/local-sqs.ts';
import { parseDockerfile } from '../support/dockerfile-parse.ts';
import { run, runOk } from './run.ts';
import { bareImports, tarballProblems } from './tarball-checks.ts';

const ROOT = join(import.meta.dirname, '../..');
// npm's install scripts stay off the network: onnxruntime-node's CPU build ships in its package.
const ENV = { NO_COLOR: '1', FORCE_COLOR: '0', ONNXRUNTIME_NODE_INSTALL: 'skip', npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
const INSTALL = ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];

let tmp: string;
let tarballs: string;
let project: string;
let packed: PackedPackage[];
const timings: Record<string, number> = {};
const byName = (name: string): PackedPackage => packed.find((p) => p.name === name) ?? expect.fail(`${name} was not packed`);

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'sb-packaging-'));
  tarballs = join(tmp, 'tarballs');
  let t = performance.now();
  packed = await packPackages({ stagingDir: join(tmp, 'stage'), outDir: tarballs });
  timings['pack'] = performance.now() - t;

  const cli = byName('create-switchboard').tarball;
  const created = await runOk('npm', ['exec', '--yes', `--package=file:${cli}`, '--', 'create-switchboard', 'my-agent', '--from', tarballs], {
    cwd: tmp,
    env: ENV,
    timeoutMs: 60_000,
  });
  expect(created.output).toMatch(/Next steps:/);
  project = join(tmp, 'my-agent');
  t = performance.now();
  await runOk('npm', INSTALL, { cwd: project, env: ENV, timeoutMs: 150_000 });
  timings['install'] = performance.now() - t;
});

afterAll(async () => {
  const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  for (const p of packed ?? []) console.log(`[packaging] ${p.name}@${p.version}: ${kib(p.size)} (${kib(p.unpackedSize)} unpacked)`);
  console.log(`[packaging] ${Object.entries(timings).map(([k, ms]) => `${k} ${(ms / 1000).toFixed(1)} s`).join(', ')}`);
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function tarList(tarball: string): Promise<string[]> {
  const r = await runOk('tar', ['-tzf', tarball], { cwd: tmp, timeoutMs: 30_000 });
  return r.output.split('\n').filter(Boolean);
}

describe('the tarballs', () => {
  it.each(Object.keys(PACKAGES))('%s holds dist, its README and nothing of the tests', async (name) => {
    const p = byName(name);
    const verbatim = PACKAGES[name]?.copyDirs ?? [];
    const files = await tarList(p.tarball);
    expect(tarballProblems(files, verbatim)).toEqual([]);
    expect(files).toContain('package/README.md');
    expect(files).toContain('package/LICENSE');
    const targets = [
      ...Object.values(p.manifest.exports ?? {}).flatMap((e) => [e.types, e.default]),
      ...Object.values(p.manifest.bin ?? {}),
    ];
    expect(targets.length).toBeGreaterThan(0);
    for (const target of targets) expect(files).toContain(`package/${target.replace(/^\.\//, '')}`);
    for (const d of verbatim) {
      const want = (await readdir(join(ROOT, PACKAGES[name]!.dir, d), { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
      expect(files.filter((f) => f.startsWith(`package/${d}/`))).toHaveLength(want.length);
    }
    const readme = await readFile(join(p.stage, 'README.md'), 'utf8');
    expect(readme).not.toMatch(/\]\(\.\.\//); // no links outside the package
  });

  it('@switchboard/client: the browser entries import no package but react (an optional peer)', async () => {
    const stage = byName('@switchboard/client').stage;
    expect(await bareImports(join(stage, 'dist/web/index.js'))).toEqual([]);
    expect(await bareImports(join(stage, 'dist/react/index.js'))).toEqual(['react']);
  });

  it('every cross-dependency is at the one release version', () => {
    const version = byName('@switchboard/protocol').version;
    for (const p of packed) {
      expect(p.version).toBe(version);
      for (const [dep, v] of Object.entries(p.manifest.dependencies ?? {})) if (dep.startsWith('@switchboard/')) expect(`${dep}@${v}`).toBe(`${dep}@${version}`);
    }
  });
});

describe('the scaffolded project', () => {
  it('passes its own npm test (the handler through the real pipeline)', async () => {
    const r = await runOk('npm', ['test'], { cwd: project, env: ENV, timeoutMs: 120_000 });
    timings['npm test'] = r.ms;
    expect(r.output).toMatch(/Tests\s+\S*1 passed/);
  });

  it('type-checks against the published .d.ts files (nodenext, without skipLibCheck)', async () => {
    const r = await runOk('npx', ['tsc', '--skipLibCheck', 'false'], { cwd: project, env: ENV, timeoutMs: 120_000 });
    timings['tsc'] = r.ms;
  });

  it('imports every subpath of the installed worker package', async () => {
    const subpaths = Object.keys(byName('@switchboard/media-worker').manifest.exports ?? {});
    const code = `const out = {};
for (const s of ${JSON.stringify(subpaths)}) out[s] = Object.keys(await import('@switchboard/media-worker' + s.slice(1))).sort();
console.log(JSON.stringify(out));`;
    const r = await runOk(process.execPath, ['--input-type=module', '-e', code], { cwd: project, timeoutMs: 60_000 });
    const exported = JSON.parse(r.output.trim().split('\n').at(-1)!) as Record<string, string[]>;
    expect(exported['.']).toEqual(expect.arrayContaining(['replyOnPause', 'stream', 'say', 'audioFrame']));
    expect(exported['./testing']).toEqual(expect.arrayContaining(['runTurn', 'speech']));
    for (const s of subpaths) expect(exported[s]?.length, s).toBeGreaterThan(0);
  });

  it("runs the worker's bin on the project's .ts handler: up, healthy, drains on SIGTERM", async () => {
    const sqs = await startLocalSqs();
    try {
      const child = spawn(join(project, 'node_modules/.bin/switchboard-worker'), [], {
        cwd: project,
        env: { ...process.env, HANDLER: 'src/handler.ts', SQS_QUEUE_URL: sqs.queueUrl, SQS_ENDPOINT: sqs.endpoint, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', SQS_WAIT_S: '1', WORKER_HTTP_PORT: '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (b: Buffer) => (output += b.toString()));
      child.stderr.on('data', (b: Buffer) => (output += b.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
      const deadline = Date.now() + 30_000;
      let healthz: string | undefined;
      while (!healthz && Date.now() < deadline && child.exitCode === null) {
        healthz = /up: handler src\/handler\.ts, .*(http:\/\/\S+\/healthz)/.exec(output)?.[1];
        await new Promise((r) => setTimeout(r, 50));
      }
      if (!healthz) {
        child.kill('SIGKILL');
        expect.fail(`the worker did not come up:\n${output}`);
      }
      expect((await fetch(healthz)).status).toBe(200);
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      expect(await exited, output).toBe(0);
      clearTimeout(timer);
    } finally {
      await sqs.stop();
    }
  });

  it("has a Dockerfile that adds the handler to the worker image, HANDLER pointing at it", async () => {
    const df = parseDockerfile(await readFile(join(project, 'Dockerfile'), 'utf8'));
    const final = df.stages.at(-1)!;
    expect(final.from).toBe('${WORKER_IMAGE}');
    const env = Object.fromEntries(final.instructions.flatMap((i) => (i.kind === 'ENV' ? i.vars : [])));
    const copies = final.instructions.flatMap((i) => (i.kind === 'COPY' && !i.from ? [[i.sources.join(' '), i.dest]] : []));
    expect(copies).toContainEqual(['src', 'handler/src']);
    expect(env['HANDLER']).toBe('handler/src/handler.ts');
    // The worker image runs from /app, where its node_modules holds @switchboard/media-worker.
    const worker = parseDockerfile(await readFile(join(ROOT, 'media-worker/Dockerfile'), 'utf8')).stages.at(-1)!;
    expect(worker.instructions.filter((i) => i.kind === 'WORKDIR').map((i) => i.path)).toEqual(['/app']);
  });
});

describe('the browser SDK, installed', () => {
  it('imports its entries (., ./react, ./stream) and the protocol in Node', async () => {
    const consumer = join(tmp, 'consumer');
    await mkdir(consumer);
    const tgz = (name: string) => `file:${byName(name).tarball}`;
    await writeFile(
      join(consumer, 'package.json'),
      JSON.stringify({
        name: 'consumer',
        private: true,
        type: 'module',
        dependencies: { '@switchboard/client': tgz('@switchboard/client'), react: '19.3.1', ws: '8.23.0' },
        overrides: { '@switchboard/protocol': tgz('@switchboard/protocol') },
      }),
    );
    const t = performance.now();
    await runOk('npm', INSTALL, { cwd: consumer, env: ENV, timeoutMs: 120_000 });
    timings['client install'] = performance.now() - t;
    const code = `const web = await import('@switchboard/client');
const react = await import('@switchboard/client/react');
const stream = await import('@switchboard/client/stream');
const protocol = await import('@switchboard/protocol');
console.log(JSON.stringify([typeof web.connect, typeof web.SwitchboardError, typeof react.useCall, typeof stream.StreamClient.connect, protocol.parseChannelMessage('{"type":"x"}').ok]));`;
    const r = await run(process.execPath, ['--input-type=module', '-e', code], { cwd: consumer, timeoutMs: 30_000 });
    expect(r.output.trim().split('\n').at(-1)).toBe('["function","function","function","function",true]');
  });
});
