/** .dockerignore rules and matching, as Docker applies them to a build context. */
import { posix } from 'node:path';

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
