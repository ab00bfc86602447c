/**
 * A small Dockerfile parser, for testing an image's install and start commands outside Docker
 * (dockerfile-replay.ts replays what it parses).
 *
 * It covers what our Dockerfiles use: comments, blank lines and `\` continuations (comment
 * lines inside a continuation are dropped, as Docker does), `FROM [--platform=..] image [AS name]`,
 * `WORKDIR`, `COPY [--from=stage] [--chown=..] src... dest` (also the JSON form), `ENV k=v ...` and
 * `ENV k v`, `ARG name[=default]` (before the first FROM: usable in FROM), `RUN` (shell or exec form,
 * with `--mount=..`-style flags recorded), `USER`, `EXPOSE`, `HEALTHCHECK [--opt=..] CMD ..` / `NONE`,
 * `CMD`; anything else is kept as `other`. Heredocs and a non-default `# escape=` are refused.
 */
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
