/**
 * A small Dockerfile parser and a replay of the build outside Docker, for testing an image's install
 * and start commands on the machine running the tests.
 *
 * Parsing covers what our Dockerfiles use: comments, blank lines and `\` continuations (comment
 * lines inside a continuation are dropped, as Docker does), `FROM [--platform=..] image [AS name]`,
 * `WORKDIR`, `COPY [--from=stage] [--chown=..] src... dest` (also the JSON form), `ENV k=v ...` and
 * `ENV k v`, `ARG name[=default]` (before the first FROM: usable in FROM), `RUN` (shell or exec form,
 * with `--mount=..`-style flags recorded), `USER`, `EXPOSE`, `HEALTHCHECK [--opt=..] CMD ..` / `NONE`,
 * `CMD`; anything else is kept as `other`. Heredocs and a non-default `# escape=` are refused.
 *
 * The replay (`replayBuild`) gives each stage a directory standing for its filesystem root:
 * `FROM` an earlier stage copies that directory, `FROM` an image starts empty (the host stands for
 * the base image: its Node, npm and tools run the RUN commands); `COPY` reads the build context
 * (honouring .dockerignore) or an earlier stage's directory; `RUN` runs under `sh -c` in the stage's
 * WORKDIR with the stage's ENV over the host environment. RUN commands must therefore use paths
 * relative to WORKDIR. The returned stages carry what a container of each would start with.
 */
import { spawn } from 'node:child_process';
import { cp, mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, posix, relative, sep } from 'node:path';

export type Command = { form: 'exec'; argv: string[] } | { form: 'shell'; script: string };

export type Instruction =
  | { kind: 'WORKDIR'; line: number; path: string }
  | { kind: 'COPY'; line: number; from?: string; chown?: string; flags: Record<string, string>; sources: string[]; dest: string }
  | { kind: 'ENV'; line: number; vars: [string, string][] }
  | { kind: 'ARG'; line: number; args: [string, string | undefined][] }
  | { kind: 'RUN'; line: number; flags: string[]; command: Command }
  | { kind: 'USER'; line: number; user: string }
  | { kind: 'EXPOSE'; line: number; ports: string[] }
  | { kind: 'HEALTHCHECK'; line: number; options: Record<string, string>; command: Command | 'NONE' }
  | { kind: 'CMD'; line: number; command: Command }
  | { kind: 'other'; line: number; keyword: string; args: string };

export interface Stage {
  index: number;
  /** The `AS` name, lower-cased as Docker does. */
  name?: string;
  /** The image or earlier stage, before ARG substitution. */
  from: string;
  platform?: string;
  line: number;
  instructions: Instruction[];
}

export interface Dockerfile {
  /** ARGs declared before the first FROM: the only variables FROM can use. */
  globalArgs: [string, string | undefined][];
  stages: Stage[];
}

export class DockerfileError extends Error {
  override name = 'DockerfileError';
}

/** Logical lines (continuations joined) with the number of their first physical line. */
function logicalLines(text: string): { line: number; text: string }[] {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const out: { line: number; text: string }[] = [];
  let current: { line: number; text: string } | undefined;
  let directives = true;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    const trimmed = raw.trim();
    if (directives) {
      const d = /^#\s*([a-zA-Z]+)\s*=\s*(.*)$/.exec(trimmed);
      if (d && ['escape', 'syntax', 'check'].includes((d[1] ?? '').toLowerCase())) {
        if (d[1]?.toLowerCase() === 'escape' && d[2]?.trim() !== '\\') throw new DockerfileError(`line ${i + 1}: only the default escape character \\ is supported`);
        continue;
      }
      directives = false;
    }
    if (current) {
      // Inside a continuation Docker drops comment lines and empty lines.
      if (trimmed === '' || trimmed.startsWith('#')) continue;
    } else if (trimmed === '' || trimmed.startsWith('#')) {
      continue;
    }
    const continued = /\\\s*$/.test(raw);
    const piece = continued ? raw.replace(/\\\s*$/, '') : raw;
    if (current) current.text += piece;
    else current = { line: i + 1, text: piece.replace(/^\s+/, '') };
    if (!continued) {
      out.push(current);
      current = undefined;
    }
  }
  if (current) out.push(current);
  return out;
}

/** Splits on whitespace outside quotes; quotes and backslash escapes are removed (ENV/ARG words). */
export function splitWords(s: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] ?? '';
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < s.length) word += s[++i] ?? '';
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < s.length) {
      word += s[++i] ?? '';
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new DockerfileError(`unterminated ${quote} in: ${s}`);
  if (inWord) words.push(word);
  return words;
}

/** `--name=value` flags at the start of `args`; the rest is returned untouched. */
function leadingFlags(args: string): { flags: [string, string][]; rest: string } {
  const flags: [string, string][] = [];
  let rest = args.trim();
  for (let m = /^--([a-zA-Z-]+)(?:=(\S*))?(?:\s+|$)/.exec(rest); m; m = /^--([a-zA-Z-]+)(?:=(\S*))?(?:\s+|$)/.exec(rest)) {
    flags.push([m[1] ?? '', m[2] ?? '']);
    rest = rest.slice(m[0].length);
  }
  return { flags, rest };
}

/** Exec form when `args` is a JSON array of strings, shell form otherwise (as Docker falls back). */
function command(args: string): Command {
  const t = args.trim();
  if (t.startsWith('[')) {
    try {
      const v: unknown = JSON.parse(t);
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return { form: 'exec', argv: v };
    } catch {
      // not JSON: shell form
    }
  }
  return { form: 'shell', script: t };
}

function parseInstruction(keyword: string, args: string, line: number): Instruction {
  switch (keyword) {
    case 'WORKDIR':
      return { kind: 'WORKDIR', line, path: args.trim() };
    case 'COPY': {
      const { flags, rest } = leadingFlags(args);
      const paths = command(rest);
      const words = paths.form === 'exec' ? paths.argv : rest.trim().split(/\s+/).filter(Boolean);
      if (words.length < 2) throw new DockerfileError(`line ${line}: COPY needs a source and a destination`);
      const f = Object.fromEntries(flags);
      return { kind: 'COPY', line, from: f['from'], chown: f['chown'], flags: f, sources: words.slice(0, -1), dest: words.at(-1) ?? '' };
    }
    case 'ENV': {
      const t = args.trim();
      const first = /^\S+/.exec(t)?.[0] ?? '';
      if (!first.includes('=')) {
        // Legacy `ENV key value with spaces`.
        const value = t.slice(first.length).trim();
        if (!first || !value) throw new DockerfileError(`line ${line}: ENV needs a name and a value`);
        return { kind: 'ENV', line, vars: [[first, splitWords(value).join(' ')]] };
      }
      const vars = splitWords(t).map((w): [string, string] => {
        const eq = w.indexOf('=');
        if (eq <= 0) throw new DockerfileError(`line ${line}: ENV expects key=value pairs, got ${JSON.stringify(w)}`);
        return [w.slice(0, eq), w.slice(eq + 1)];
      });
      return { kind: 'ENV', line, vars };
    }
    case 'ARG':
      return {
        kind: 'ARG',
        line,
        args: splitWords(args).map((w): [string, string | undefined] => {
          const eq = w.indexOf('=');
          return eq < 0 ? [w, undefined] : [w.slice(0, eq), w.slice(eq + 1)];
        }),
      };
    case 'RUN': {
      const { flags, rest } = leadingFlags(args);
      if (/^<</.test(rest)) throw new DockerfileError(`line ${line}: RUN heredocs are not supported`);
      return { kind: 'RUN', line, flags: flags.map(([k, v]) => (v ? `--${k}=${v}` : `--${k}`)), command: command(rest) };
    }
    case 'USER':
      return { kind: 'USER', line, user: args.trim() };
    case 'EXPOSE':
      return { kind: 'EXPOSE', line, ports: args.trim().split(/\s+/).filter(Boolean) };
    case 'HEALTHCHECK': {
      const { flags, rest } = leadingFlags(args);
      if (/^NONE$/i.test(rest.trim())) return { kind: 'HEALTHCHECK', line, options: Object.fromEntries(flags), command: 'NONE' };
      const m = /^CMD\s+([\s\S]*)$/i.exec(rest.trim());
      if (!m) throw new DockerfileError(`line ${line}: HEALTHCHECK expects CMD or NONE`);
      return { kind: 'HEALTHCHECK', line, options: Object.fromEntries(flags), command: command(m[1] ?? '') };
    }
    case 'CMD':
      return { kind: 'CMD', line, command: command(args) };
    default:
      return { kind: 'other', line, keyword, args: args.trim() };
  }
}

export function parseDockerfile(text: string): Dockerfile {
  const df: Dockerfile = { globalArgs: [], stages: [] };
  for (const { line, text: l } of logicalLines(text)) {
    const m = /^(\S+)\s*([\s\S]*)$/.exec(l);
    const keyword = (m?.[1] ?? '').toUpperCase();
    const args = m?.[2] ?? '';
    if (keyword === 'FROM') {
      const { flags, rest } = leadingFlags(args);
      const words = rest.trim().split(/\s+/).filter(Boolean);
      if (words.length !== 1 && !(words.length === 3 && words[1]?.toUpperCase() === 'AS')) {
        throw new DockerfileError(`line ${line}: FROM expects an image and an optional AS name`);
      }
      const platform = Object.fromEntries(flags)['platform'];
      df.stages.push({
        index: df.stages.length,
        from: words[0] ?? '',
        line,
        instructions: [],
        ...(words[2] ? { name: words[2].toLowerCase() } : {}),
        ...(platform ? { platform } : {}),
      });
      continue;
    }
    const instruction = parseInstruction(keyword, args, line);
    const stage = df.stages.at(-1);
    if (stage) stage.instructions.push(instruction);
    else if (instruction.kind === 'ARG') df.globalArgs.push(...instruction.args);
    else throw new DockerfileError(`line ${line}: ${keyword} before the first FROM (only ARG may come first)`);
  }
  if (df.stages.length === 0) throw new DockerfileError('no FROM');
  return df;
}

/** Docker's variable substitution: `$v`, `${v}`, `${v:-default}`, `${v:+alt}`, `\$` for a literal `$`. */
export function expand(s: string, vars: Record<string, string | undefined>): string {
  return s.replace(/\\\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (all, braced?: string, op?: string, word?: string, bare?: string) => {
    if (all === '\\$') return '$';
    const value = vars[braced ?? bare ?? ''];
    if (op === '-') return value ? value : (word ?? '');
    if (op === '+') return value ? (word ?? '') : '';
    return value ?? '';
  });
}

/** The stage's base with the global ARGs (their defaults) substituted. */
export function stageImage(df: Dockerfile, stage: Stage): string {
  return expand(stage.from, Object.fromEntries(df.globalArgs));
}

/** Major version of an official `node:` image tag (`node:24.21.0-bookworm-slim` → 24), if it is one. */
export function nodeImageMajor(image: string): number | undefined {
  const m = /^(?:docker\.io\/)?(?:library\/)?node:(\d+)(?:[.-]|$)/.exec(image);
  return m ? Number(m[1]) : undefined;
}

// ---------------------------------------------------------------------------------------------
// .dockerignore

export interface IgnoreRule {
  negate: boolean;
  re: RegExp;
}

/** .dockerignore rules in order (comments and blank lines dropped, leading `/` and `./` ignored). */
export function parseDockerignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const raw of text.replace(/\r\n/g, '\n').split('\n')) {
    let p = raw.trim();
    if (!p || p.startsWith('#')) continue;
    const negate = p.startsWith('!');
    if (negate) p = p.slice(1).trim();
    p = posix.normalize(p).replace(/^(\.\/|\/)+/, '').replace(/\/+$/, '');
    if (!p || p === '.') continue;
    rules.push({ negate, re: globToRegExp(p) });
  }
  return rules;
}

/** Go filepath.Match syntax plus `**` (any number of directories), anchored at the context root. */
function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? '';
    if (c === '*' && pattern[i + 1] === '*') {
      i++;
      if (pattern[i + 1] === '/') {
        i++;
        re += '(?:.*/)?';
      } else {
        re += '.*';
      }
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        re += '[' + pattern.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\') + ']';
        i = end;
      }
    } else if (c === '\\' && i + 1 < pattern.length) re += '\\' + (pattern[++i] ?? '');
    else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Whether `path` (relative to the context, `/`-separated) is left out: the last rule matching it or a parent wins. */
export function isIgnored(rules: readonly IgnoreRule[], path: string): boolean {
  const parts = path.split('/').filter(Boolean);
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const rule of rules) {
    if (prefixes.some((p) => rule.re.test(p))) ignored = !rule.negate;
  }
  return ignored;
}

// ---------------------------------------------------------------------------------------------
// Replay

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
          const { code, output } = await run(commandArgv(ins.command), cwd, commandEnv(s, Object.fromEntries(Object.entries(args).filter((e): e is [string, string] => e[1] !== undefined))), opts.runTimeoutMs ?? 300_000);
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
