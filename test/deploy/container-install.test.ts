import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { lstat, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKER_NODE_FLAGS } from '../../media-worker/src/node-flags.ts';
import { startLocalSqs, type LocalSqs } from '../../scripts/stack/local-sqs.ts';
import { freePort } from '../../scripts/stack/ports.ts';
import { expand, nodeImageMajor, parseDockerfile, stageImage, type Command, type Dockerfile } from '../support/dockerfile-parse.ts';
import { commandArgv, commandEnv, hostPath, replayBuild, type Replay, type ReplayedStage } from '../support/dockerfile-replay.ts';
import { isIgnored, parseDockerignore } from '../support/dockerignore.ts';

/**
 * media-worker/Dockerfile, without Docker: its instructions are parsed, its stages replayed in
 * directories standing for their roots (the production `npm ci` really runs), and the runtime
 * stage's CMD started with its WORKDIR and ENV: the worker must answer /healthz, pass the image's
 * HEALTHCHECK, and exit 0 on SIGTERM. What the host cannot stand for: the base image's own files
 * (the host's Node and npm run the commands), file ownership and USER (checked statically).
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DOCKERFILE = join(ROOT, 'media-worker/Dockerfile');
const DRAIN_TIMEOUT_MS = 10_000;

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const exists = (p: string) => lstat(p).then(() => true, () => false);

/** Installed package locations under `nm` (`node_modules/a`, `node_modules/@s/b/node_modules/c`), as in a lock file. */
async function installedPackages(nm: string, key = 'node_modules'): Promise<string[]> {
  const out: string[] = [];
  const names: string[] = [];
  for (const e of await readdir(nm, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue;
    if (e.name.startsWith('@') && e.isDirectory()) for (const sub of await readdir(join(nm, e.name))) names.push(`${e.name}/${sub}`);
    else names.push(e.name);
  }
  for (const name of names) {
    out.push(`${key}/${name}`);
    const nested = join(nm, name, 'node_modules');
    if (!(await lstat(join(nm, name))).isSymbolicLink() && (await exists(nested))) out.push(...(await installedPackages(nested, `${key}/${name}/node_modules`)));
  }
  return out;
}

/** `node_modules` directories below `dir` that are not inside another node_modules (a workspace's own). */
async function topNodeModules(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.name === 'node_modules') out.push(r);
    else out.push(...(await topNodeModules(join(dir, e.name), r)));
  }
  return out;
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(join(e.parentPath, e.name));
  return out;
}

/** Runs a stage's command (CMD, HEALTHCHECK) in its WORKDIR with its ENV; resolves with the exit code and output. */
function runIn(stage: ReplayedStage, command: Command, env: Record<string, string>, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  const [cmd, args] = commandArgv(command);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: hostPath(stage, '.'), env: commandEnv(stage, env), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => (clearTimeout(timer), reject(err)));
    child.once('close', (code) => (clearTimeout(timer), resolve({ code, output })));
  });
}

/** Milliseconds of a Docker duration (`5s`, `1m30s`, `500ms`). */
function durationMs(d: string | undefined, fallback: number): number {
  if (!d) return fallback;
  let ms = 0;
  for (const [, n, unit] of d.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) ms += Number(n) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as 'ms' | 's' | 'm' | 'h'];
  return ms || fallback;
}

describe('the Dockerfile parser (test/support/dockerfile-parse.ts, dockerignore.ts)', () => {
  it('reads continuations, comments, both ENV forms, global ARGs, flags and exec/shell forms', () => {
    const df = parseDockerfile(
      [
        '# syntax=docker/dockerfile:1',
        '# A comment',
        'ARG BASE=node:22.18.0-slim',
        '',
        'FROM --platform=linux/arm64 ${BASE} AS Build',
        'workdir /src',
        'ENV A=1 B="two words" \\',
        '    C=3',
        'ENV LEGACY some value',
        'ARG X Y=2',
        'COPY --from=x --chown=node:node a b /dst/',
        'COPY ["with space", "./"]',
        'RUN echo one \\',
        '  # dropped inside the continuation',
        '  && echo two',
        'RUN --mount=type=cache,target=/root/.npm ["echo", "exec"]',
        'HEALTHCHECK --interval=5s --retries=3 CMD curl -f http://x/ || exit 1',
        'FROM build',
        'USER node:node',
        'EXPOSE 9090 40000-40199/udp',
        'STOPSIGNAL SIGTERM',
        'CMD node main.ts',
      ].join('\n'),
    );
    expect(df.globalArgs).toEqual([['BASE', 'node:22.18.0-slim']]);
    expect(df.stages.map((s) => [s.name, s.from, s.platform, s.line])).toEqual([
      ['build', '${BASE}', 'linux/arm64', 5],
      [undefined, 'build', undefined, 18],
    ]);
    const [build, final] = df.stages;
    expect(stageImage(df, build!)).toBe('node:22.18.0-slim');
    expect(build!.instructions).toEqual([
      { kind: 'WORKDIR', line: 6, path: '/src' },
      { kind: 'ENV', line: 7, vars: [['A', '1'], ['B', 'two words'], ['C', '3']] },
      { kind: 'ENV', line: 9, vars: [['LEGACY', 'some value']] },
      { kind: 'ARG', line: 10, args: [['X', undefined], ['Y', '2']] },
      { kind: 'COPY', line: 11, from: 'x', chown: 'node:node', flags: { from: 'x', chown: 'node:node' }, sources: ['a', 'b'], dest: '/dst/' },
      { kind: 'COPY', line: 12, from: undefined, chown: undefined, flags: {}, sources: ['with space'], dest: './' },
      { kind: 'RUN', line: 13, flags: [], command: { form: 'shell', script: 'echo one   && echo two' } },
      { kind: 'RUN', line: 16, flags: ['--mount=type=cache,target=/root/.npm'], command: { form: 'exec', argv: ['echo', 'exec'] } },
      { kind: 'HEALTHCHECK', line: 17, options: { interval: '5s', retries: '3' }, command: { form: 'shell', script: 'curl -f http://x/ || exit 1' } },
    ]);
    expect(final!.instructions).toEqual([
      { kind: 'USER', line: 19, user: 'node:node' },
      { kind: 'EXPOSE', line: 20, ports: ['9090', '40000-40199/udp'] },
      { kind: 'other', line: 21, keyword: 'STOPSIGNAL', args: 'SIGTERM' },
      { kind: 'CMD', line: 22, command: { form: 'shell', script: 'node main.ts' } },
    ]);
    expect(() => parseDockerfile('RUN true')).toThrow(/before the first FROM/);
    expect(() => parseDockerfile('FROM a\nRUN <<EOF\ntrue\nEOF')).toThrow(/heredocs/);
    expect(expand('${A}-$B-${C:-dflt}-${A:+alt}-\\$A', { A: 'a', B: 'b' })).toBe('a-b-dflt-alt-$A');
    expect([nodeImageMajor('node:24.21.0-bookworm-slim'), nodeImageMajor('docker.io/library/node:22-slim'), nodeImageMajor('node:lts'), nodeImageMajor('debian:12')]).toEqual([
      24,
      22,
      undefined,
      undefined,
    ]);
  });

  it('matches .dockerignore rules like Docker: globs, **, parents, exceptions', () => {
    const rules = parseDockerignore('# c\n**/node_modules\n/test\n**/*.test.ts\n!keep.test.ts\nbench/\n*.log\n');
    const ignored = (p: string) => isIgnored(rules, p);
    expect(['node_modules', 'node_modules/x/index.js', 'protocol/node_modules/y', 'test/e2e/a.ts', 'media-worker/src/a.test.ts', 'a.test.ts', 'bench/x.ts', 'x.log'].filter((p) => !ignored(p))).toEqual([]);
    expect(['media-worker/src/a.ts', 'keep.test.ts', 'testing/x.ts', 'sub/x.log', 'package.json'].filter(ignored)).toEqual([]);
  });
});

describe('media-worker/Dockerfile', () => {
  let df: Dockerfile;
  beforeAll(async () => {
    df = parseDockerfile(await readFile(DOCKERFILE, 'utf8'));
  });

  it('builds from Node >= 22 images, installs with --omit=dev, runs as a non-root user with an exec-form CMD and a HEALTHCHECK', async () => {
    const names = new Set<string>();
    for (const stage of df.stages) {
      const image = stageImage(df, stage);
      if (!names.has(image.toLowerCase())) {
        expect(nodeImageMajor(image), `stage ${stage.name ?? stage.index}: FROM ${image}`).toBeGreaterThanOrEqual(22);
        // A pinned tag, not a moving one (`node:24-slim`, `node:lts`).
        expect(image, `FROM ${image}`).toMatch(/^node:\d+\.\d+\.\d+-/);
      }
      if (stage.name) names.add(stage.name);
    }
    const runs = df.stages.flatMap((s) => s.instructions.flatMap((i) => (i.kind === 'RUN' && i.command.form === 'shell' ? [i.command.script] : [])));
    const installs = runs.filter((r) => /\bnpm\s+(ci|install|i)\b/.test(r));
    expect(installs.length).toBe(1);
    expect(installs[0]).toMatch(/\bnpm ci\b/);
    expect(installs[0]).toMatch(/--omit=dev\b/);
    const envOf = (i: number) => Object.fromEntries(df.stages[i]!.instructions.flatMap((x) => (x.kind === 'ENV' ? x.vars : [])));
    const installStage = df.stages.findIndex((s) => s.instructions.some((i) => i.kind === 'RUN' && i.command.form === 'shell' && i.command.script === installs[0]));
    expect(envOf(installStage)).toMatchObject({ ONNXRUNTIME_NODE_INSTALL: 'skip', ONNXRUNTIME_NODE_INSTALL_CUDA: 'skip' });

    const final = df.stages.at(-1)!;
    const user = final.instructions.findLast((i) => i.kind === 'USER');
    expect(user?.kind === 'USER' && user.user.split(':')[0]).toMatch(/^(?!root$|0$)\S+$/);
    expect(envOf(df.stages.length - 1)['NODE_ENV']).toBe('production');
    const cmd = final.instructions.findLast((i) => i.kind === 'CMD');
    expect(cmd?.kind === 'CMD' && cmd.command).toEqual({ form: 'exec', argv: ['node', ...WORKER_NODE_FLAGS, 'media-worker/src/main.ts'] });
    // `npm start` in media-worker/ runs the worker with the same flags.
    const pkg = JSON.parse(await readFile(join(ROOT, 'media-worker/package.json'), 'utf8')) as { scripts?: Record<string, string> };
    expect(pkg.scripts?.['start']).toBe(['node', ...WORKER_NODE_FLAGS, 'src/main.ts'].join(' '));
    const hc = final.instructions.findLast((i) => i.kind === 'HEALTHCHECK');
    expect(hc?.kind === 'HEALTHCHECK' && hc.command !== 'NONE' && hc.command.form).toBe('exec');
    expect(final.instructions.some((i) => i.kind === 'EXPOSE' && i.ports.includes('9090'))).toBe(true);
  });

  describe('replayed outside Docker', () => {
    let dir = '';
    let replay: Replay;
    let sqs: LocalSqs | undefined;
    let worker: ChildProcess | undefined;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'sb-dockerfile-'));
      // The replayed worker must resolve packages from its own root only: no node_modules above it.
      for (let d = dir; d !== dirname(d); d = dirname(d)) {
        if (await exists(join(dirname(d), 'node_modules'))) throw new Error(`${join(dirname(d), 'node_modules')} would leak into the replayed image's module resolution`);
      }
      const t0 = performance.now();
      // The packages are in this machine's npm cache (the workspace's own `npm ci` put them there):
      // reading them from it keeps the replay off the network, where a registry behind a proxy
      // cost 2.5 minutes of retries in CI (npm there runs without the shell's CA settings).
      replay = await replayBuild(df, { context: ROOT, dir, runEnv: { npm_config_prefer_offline: 'true' } });
      const total = performance.now() - t0;
      const du = async (p: string) => (await run('du', ['-sh', p])).stdout.split('\t')[0];
      const lines = replay.steps.filter((s) => s.ms > 200).map((s) => `  ${s.stage}:${s.line} ${s.instruction} ${(s.ms / 1000).toFixed(1)} s`);
      const deps = replay.stages.find((s) => s.name === 'deps');
      console.log(
        [
          `Dockerfile replayed in ${(total / 1000).toFixed(1)} s under ${dir}`,
          ...lines,
          ...(deps ? [`  deps node_modules ${await du(hostPath(deps, 'node_modules'))}`] : []),
          `  runtime node_modules ${await du(hostPath(replay.final, 'node_modules'))}, runtime root ${await du(replay.final.root)}`,
        ].join('\n'),
      );
    }, 300_000);

    afterAll(async () => {
      if (worker && worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
      await sqs?.stop();
      if (dir && !process.env['SB_KEEP_REPLAY']) await rm(dir, { recursive: true, force: true });
    });

    it('leaves devDependencies, tests and other workspaces out of the runtime stage, and loses no node_modules', async () => {
      const final = replay.final;
      const nm = hostPath(final, 'node_modules');
      for (const dev of ['vitest', 'typescript', 'wrangler', 'turbo', '@types/ws', 'fauxqs', 'twilio', 'playwright-core', '@switchboard/test', '@switchboard/workers']) {
        expect(await exists(join(nm, dev)), `node_modules/${dev} in the runtime stage`).toBe(false);
      }
      // Nothing the lock marks dev-only (needed only by some workspace's devDependencies).
      const lock = JSON.parse(await readFile(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
      const installed = await installedPackages(nm);
      expect(installed.length).toBeGreaterThan(20);
      expect(installed.filter((p) => lock.packages[p]?.dev === true)).toEqual([]);
      for (const pkg of ['@switchboard/protocol', 'onnxruntime-node', 'werift', '@aws-sdk/client-sqs', '@evan/opus', '@ricky0123/vad-web', 'zod']) {
        expect(await exists(join(nm, pkg)), `node_modules/${pkg}`).toBe(true);
      }
      // The workspace links stay relative symlinks into the image.
      expect((await lstat(join(nm, '@switchboard/protocol'))).isSymbolicLink()).toBe(true);
      expect(await stat(join(nm, '@switchboard/protocol/src/index.ts')).then((s) => s.isFile())).toBe(true);

      const files = (await filesUnder(final.root)).map((f) => f.slice(final.root.length));
      const sources = files.filter((f) => !f.includes('/node_modules/'));
      expect(sources.filter((f) => /\.test(-helper)?\.ts$/.test(f))).toEqual([]);
      expect(sources.filter((f) => /^\/app\/(test|workers|bench|infra|scripts)\//.test(f))).toEqual([]);
      expect(sources).toContain('/app/media-worker/src/main.ts');

      // Every node_modules the install made (a workspace's own, e.g. media-worker/node_modules) reaches the runtime stage.
      const deps = replay.stages.find((s) => s.name === 'deps');
      if (deps) {
        for (const m of await topNodeModules(hostPath(deps, '.'))) expect(await exists(hostPath(final, m)), `${m} of the deps stage`).toBe(true);
      }
    });

    it("starts with the image's CMD, answers /healthz and /readyz, passes the HEALTHCHECK, and exits 0 on SIGTERM", async () => {
      const final = replay.final;
      const cmd = final.cmd;
      const healthcheck = final.healthcheck;
      if (!cmd || !healthcheck || healthcheck.command === 'NONE') throw new Error('the runtime stage has no CMD or no HEALTHCHECK');
      sqs = await startLocalSqs();
      const port = await freePort();
      const env = {
        SQS_QUEUE_URL: sqs.queueUrl,
        SQS_ENDPOINT: sqs.endpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        WORKER_HTTP_PORT: String(port),
        PUBLIC_BASE_URL: 'http://127.0.0.1:1',
        PUBLIC_IP: '127.0.0.1',
        SQS_WAIT_S: '1',
        DRAIN_TIMEOUT_MS: String(DRAIN_TIMEOUT_MS),
      };
      const [bin, args] = commandArgv(cmd);
      const t0 = performance.now();
      const child = spawn(bin, args, { cwd: hostPath(final, '.'), env: commandEnv(final, env), stdio: ['ignore', 'pipe', 'pipe'] });
      worker = child;
      let output = '';
      child.stdout.on('data', (b: Buffer) => (output += b.toString()));
      child.stderr.on('data', (b: Buffer) => (output += b.toString()));
      // 'close': exited and its output read to the end.
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('close', (code, signal) => r({ code, signal })));

      const base = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 60_000;
      let healthy = false;
      let last = '';
      while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
        try {
          const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1000) });
          if (res.status === 200) {
            healthy = true;
            break;
          }
          last = `HTTP ${res.status}`;
        } catch (err) {
          last = (err as Error).message;
        }
        await sleep(100);
      }
      if (!healthy) throw new Error(`the worker never answered /healthz (${last}; exit ${child.exitCode ?? child.signalCode ?? 'none'})\nworker output:\n${output.slice(-4000)}`);
      console.log(`replayed worker healthy ${((performance.now() - t0) / 1000).toFixed(1)} s after start`);
      await expect.poll(() => output, { timeout: 2000 }).toMatch(/media worker \S+ up: handler echo/);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);

      const hcTimeout = durationMs(healthcheck.options['timeout'], 30_000);
      const hc = await runIn(final, healthcheck.command, env, hcTimeout);
      expect(hc.code, `HEALTHCHECK while running:\n${hc.output}`).toBe(0);

      const t1 = performance.now();
      child.kill('SIGTERM');
      const exit = await Promise.race([exited, sleep(DRAIN_TIMEOUT_MS + 5000).then(() => undefined)]);
      expect(exit, `no exit within ${DRAIN_TIMEOUT_MS + 5000} ms of SIGTERM\nworker output:\n${output.slice(-4000)}`).toEqual({ code: 0, signal: null });
      console.log(`replayed worker drained and exited ${((performance.now() - t1) / 1000).toFixed(1)} s after SIGTERM`);
      expect(output).toContain('SIGTERM: draining 0 session(s)');

      const after = await runIn(final, healthcheck.command, env, hcTimeout);
      expect(after.code, `HEALTHCHECK after the worker stopped:\n${after.output}`).not.toBe(0);
    });
  });
});
