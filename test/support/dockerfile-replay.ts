/**
 * A replay of a parsed Dockerfile's build outside Docker (`replayBuild`): each stage gets a
 * directory standing for its filesystem root. `FROM` an earlier stage copies that directory, `FROM`
 * an image starts empty (the host stands for the base image: its Node, npm and tools run the RUN
 * commands); `COPY` reads the build context (honouring .dockerignore) or an earlier stage's
 * directory; `RUN` runs under `sh -c` in the stage's WORKDIR with the stage's ENV over the host
 * environment. RUN commands must therefore use paths relative to WORKDIR. The returned stages carry
 * what a container of each would start with.
 */
import { spawn } from 'node:child_process';
import { cp, mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, posix, relative, sep } from 'node:path';
import { DockerfileError, expand, type Command, type Dockerfile } from './dockerfile-parse.ts';
import { isIgnored, parseDockerignore, type IgnoreRule } from './dockerignore.ts';

export interface ReplayedStage {
  index: number;
  name?: string;
  /** The image or stage it starts from (ARGs substituted). */
  from: string;
  /** Directory standing for the stage's `/`. */
  root: string;
  /** WORKDIR inside the image (posix, absolute). */
  workdir: string;
  env: Record<string, string>;
  user?: string;
  expose: string[];
  cmd?: Command;
  healthcheck?: { options: Record<string, string>; command: Command | 'NONE' };
}

export interface ReplayStep {
  stage: string;
  line: number;
  instruction: string;
  ms: number;
}

export interface ReplayOptions {
  /** The build context (the directory `docker build` is given). */
  context: string;
  /** Empty directory to hold the stages' roots. */
  dir: string;
  /** Build ARGs (`--build-arg`). */
  buildArgs?: Record<string, string>;
  /** Limit of each RUN (ms). */
  runTimeoutMs?: number;
  /**
   * Environment every RUN gets on top of the host's, standing for what the builder machine has
   * (e.g. `npm_config_prefer_offline` where the packages are already in the machine's npm cache).
   */
  runEnv?: Record<string, string>;
}

export interface Replay {
  stages: ReplayedStage[];
  steps: ReplayStep[];
  /** The last stage: the image `docker build` would produce. */
  final: ReplayedStage;
}

/** Host path of `imagePath` inside a replayed stage. */
export function hostPath(stage: ReplayedStage, imagePath: string): string {
  return join(stage.root, posix.resolve(stage.workdir, imagePath));
}

/**
 * The host environment a replayed command starts from, cleared of what would not be in a container
 * and would change npm's or Node's behaviour (npm_* from `npm run`, NODE_ENV set by vitest,
 * NODE_PATH/NODE_OPTIONS, and the ONNXRUNTIME_* our scripts set, which the Dockerfile must set itself).
 */
export function hostEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue;
    if (/^(npm_|NPM_CONFIG_|VITEST|ONNXRUNTIME_)/i.test(k)) continue;
    if (['NODE_ENV', 'NODE_PATH', 'NODE_OPTIONS', 'INIT_CWD', 'TEST'].includes(k)) continue;
    env[k] = v;
  }
  return env;
}

/** The stage's ENV over the host environment; the running Node's directory stays first on PATH. */
export function commandEnv(stage: ReplayedStage, extra: Record<string, string> = {}): Record<string, string> {
  const env = { ...hostEnv(), ...stage.env, ...extra };
  env['PATH'] = [dirname(process.execPath), env['PATH'] ?? ''].filter(Boolean).join(':');
  return env;
}

/** `argv` for a command of the stage (`sh -c` for the shell form, as Docker's default SHELL). */
export function commandArgv(command: Command): [string, string[]] {
  if (command.form === 'shell') return ['sh', ['-c', command.script]];
  const [cmd, ...args] = command.argv;
  if (!cmd) throw new DockerfileError('empty exec-form command');
  return [cmd, args];
}

function run(argv: [string, string[]], cwd: string, env: Record<string, string>, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv[1], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (b: Buffer) => {
      output += b.toString();
      if (output.length > 200_000) output = output.slice(-100_000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => (clearTimeout(timer), reject(err)));
    child.once('close', (code) => (clearTimeout(timer), resolve({ code, output })));
  });
}

const exists = (p: string) => stat(p).then(() => true, () => false);

/**
 * Docker COPY: a directory source copies its contents into `dest`; a file goes to `dest/` + its
 * name when `dest` ends with `/` (or several sources are given), to `dest` otherwise. Symlinks are
 * copied as they are. `ignore` is the context's .dockerignore (none when copying from a stage).
 */
async function copy(srcs: { host: string; rel: string }[], dest: string, destIsDir: boolean, ignore: { rules: IgnoreRule[]; context: string } | undefined) {
  for (const src of srcs) {
    if (!(await exists(src.host))) throw new DockerfileError(`COPY source ${src.rel} not found`);
    if (ignore && isIgnored(ignore.rules, src.rel)) throw new DockerfileError(`COPY source ${src.rel} is excluded by .dockerignore`);
    const info = await stat(src.host);
    const target = info.isDirectory() || !destIsDir ? dest : join(dest, posix.basename(src.rel));
    await mkdir(info.isDirectory() ? target : dirname(target), { recursive: true });
    const negations = ignore?.rules.some((r) => r.negate) ?? false;
    await cp(src.host, target, {
      recursive: true,
      verbatimSymlinks: true,
      force: true,
      filter: ignore
        ? async (from) => {
            const rel = relative(ignore.context, from).split(sep).join('/');
            if (!isIgnored(ignore.rules, rel)) return true;
            // An excluded directory is still walked when a `!` rule may bring something back.
            return negations && (await stat(from)).isDirectory();
          }
        : undefined,
    });
  }
}

/** Replays `df` stage by stage (see the module comment); throws on the first failing step with its output. */
export async function replayBuild(df: Dockerfile, opts: ReplayOptions): Promise<Replay> {
  const rules = (await exists(join(opts.context, '.dockerignore'))) ? parseDockerignore(await readFile(join(opts.context, '.dockerignore'), 'utf8')) : [];
  const globalArgs: Record<string, string | undefined> = Object.fromEntries(df.globalArgs);
  for (const [k, v] of Object.entries(opts.buildArgs ?? {})) if (k in globalArgs) globalArgs[k] = v;
  const stages: ReplayedStage[] = [];
  const steps: ReplayStep[] = [];
  const byName = (ref: string) => stages.find((s) => s.name === ref.toLowerCase()) ?? (/^\d+$/.test(ref) ? stages[Number(ref)] : undefined);

  for (const stage of df.stages) {
    const from = expand(stage.from, globalArgs);
    const root = join(opts.dir, `${stage.index}-${stage.name ?? 'stage'}`);
    const base = byName(from);
    const s: ReplayedStage = base
      ? { ...base, index: stage.index, from, root, env: { ...base.env }, expose: [...base.expose] }
      : { index: stage.index, from, root, workdir: '/', env: {}, expose: [] };
    if (stage.name) s.name = stage.name;
    else delete s.name;
    await mkdir(root, { recursive: true });
    if (base) await cp(base.root, root, { recursive: true, verbatimSymlinks: true });
    const args: Record<string, string | undefined> = {};
    const vars = () => ({ ...args, ...s.env });

    for (const ins of stage.instructions) {
      const t0 = performance.now();
      switch (ins.kind) {
        case 'WORKDIR':
          s.workdir = posix.resolve(s.workdir, expand(ins.path, vars()));
          await mkdir(join(root, s.workdir), { recursive: true });
          break;
        case 'ENV':
          for (const [k, v] of ins.vars) s.env[k] = expand(v, vars());
          break;
        case 'ARG':
          for (const [k, v] of ins.args) {
            // A global ARG re-declared without a value takes the global value.
            const value = opts.buildArgs?.[k] ?? (v === undefined ? globalArgs[k] : expand(v, vars()));
            args[k] = value;
          }
          break;
        case 'COPY': {
          const dest = expand(ins.dest, vars());
          const destHost = join(root, posix.resolve(s.workdir, dest));
          const destIsDir = dest.endsWith('/') || ins.sources.length > 1 || (await stat(destHost).then((i) => i.isDirectory(), () => false));
          const sources = ins.sources.map((x) => expand(x, vars()));
          if (sources.some((x) => /[*?[]/.test(x))) throw new DockerfileError(`line ${ins.line}: COPY wildcards are not supported by the replay`);
          if (ins.from !== undefined) {
            const fromStage = byName(expand(ins.from, vars()));
            if (!fromStage) throw new DockerfileError(`line ${ins.line}: COPY --from=${ins.from}: no such earlier stage (images are not supported)`);
            await copy(sources.map((x) => ({ host: join(fromStage.root, posix.resolve('/', x)), rel: x })), destHost, destIsDir, undefined);
          } else {
            const srcs = sources.map((x) => {
              const rel = posix.normalize(x).replace(/^(\.\/|\/)+/, '').replace(/\/+$/, '');
              if (rel.startsWith('..')) throw new DockerfileError(`line ${ins.line}: COPY source ${x} is outside the context`);
              return { host: join(opts.context, rel), rel };
            });
            await copy(srcs, destHost, destIsDir, { rules, context: opts.context });
          }
          break;
        }
        case 'RUN': {
          const cwd = join(root, s.workdir);
          const { code, output } = await run(commandArgv(ins.command), cwd, commandEnv(s, { ...opts.runEnv, ...Object.fromEntries(Object.entries(args).filter((e): e is [string, string] => e[1] !== undefined)) }), opts.runTimeoutMs ?? 300_000);
          if (code !== 0) throw new DockerfileError(`line ${ins.line}: RUN exited ${code}\n${output.slice(-4000)}`);
          break;
        }
        case 'USER':
          s.user = expand(ins.user, vars());
          break;
        case 'EXPOSE':
          s.expose.push(...ins.ports.map((p) => expand(p, vars())));
          break;
        case 'HEALTHCHECK':
          s.healthcheck = { options: ins.options, command: ins.command };
          break;
        case 'CMD':
          s.cmd = ins.command;
          break;
        case 'other':
          break;
      }
      steps.push({ stage: s.name ?? String(s.index), line: ins.line, instruction: ins.kind === 'other' ? ins.keyword : ins.kind, ms: performance.now() - t0 });
    }
    stages.push(s);
  }
  const final = stages.at(-1);
  if (!final) throw new DockerfileError('no stages');
  return { stages, steps, final };
}
