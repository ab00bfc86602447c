/**
 * A small evaluator for the subset of Terraform expressions the tests need to compute concrete
 * values offline (what the worker's environment will be): string templates with `${...}`,
 * string/number/bool literals, `var.x`, `local.x`, resource attributes (from a resolver),
 * `tostring()`, `==`/`!=`, `cond ? a : b` and parentheses. Anything else throws, naming it.
 */
export interface EvalContext {
  variable(name: string): unknown;
  local(name: string): unknown;
  /** A resource attribute, e.g. ('aws_sqs_queue.jobs', 'url'). */
  attribute(address: string, attr: string): unknown;
}

/** Evaluates a value as hcl2json renders it: a template whose `${...}` parts are expressions. */
export function evaluateTemplate(text: string, ctx: EvalContext): unknown {
  const parts = splitTemplate(text);
  // A template that is exactly one interpolation yields the expression's own type.
  if (parts.length === 1 && parts[0]?.expr) return evaluateExpression(parts[0].text, ctx);
  return parts.map((p) => (p.expr ? String(evaluateExpression(p.text, ctx)) : p.text)).join('');
}

function splitTemplate(text: string): { expr: boolean; text: string }[] {
  const out: { expr: boolean; text: string }[] = [];
  let i = 0;
  let lit = '';
  while (i < text.length) {
    if (text.startsWith('${', i)) {
      if (lit) out.push({ expr: false, text: lit });
      lit = '';
      const end = matchingBrace(text, i + 1);
      out.push({ expr: true, text: text.slice(i + 2, end) });
      i = end + 1;
    } else {
      lit += text[i];
      i++;
    }
  }
  if (lit) out.push({ expr: false, text: lit });
  return out;
}

/** Index of the `}` closing the `{` at `open`, skipping string literals. */
function matchingBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === '"') i = closingQuote(text, i);
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
  }
  throw new Error(`unbalanced braces in ${text}`);
}

function closingQuote(text: string, open: number): number {
  for (let i = open + 1; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') i++;
    else if (text.startsWith('${', i)) {
      i = matchingBrace(text, i + 1);
    } else if (c === '"') return i;
  }
  throw new Error(`unterminated string in ${text}`);
}

export function evaluateExpression(source: string, ctx: EvalContext): unknown {
  const p = new Parser(source, ctx);
  const v = p.ternary();
  p.skipSpace();
  if (!p.done()) throw new Error(`unsupported expression: ${source}`);
  return v;
}

class Parser {
  #s: string;
  #i = 0;
  #ctx: EvalContext;

  constructor(s: string, ctx: EvalContext) {
    this.#s = s;
    this.#ctx = ctx;
  }

  done(): boolean {
    return this.#i >= this.#s.length;
  }

  skipSpace(): void {
    while (/\s/.test(this.#s[this.#i] ?? '')) this.#i++;
  }

  #eat(tok: string): boolean {
    this.skipSpace();
    if (this.#s.startsWith(tok, this.#i)) {
      this.#i += tok.length;
      return true;
    }
    return false;
  }

  #expect(tok: string): void {
    if (!this.#eat(tok)) throw new Error(`expected '${tok}' at ${this.#i} in ${this.#s}`);
  }

  ternary(): unknown {
    const cond = this.#equality();
    if (!this.#eat('?')) return cond;
    const a = this.ternary();
    this.#expect(':');
    const b = this.ternary();
    if (typeof cond !== 'boolean') throw new Error(`condition is not a bool in ${this.#s}`);
    return cond ? a : b;
  }

  #equality(): unknown {
    const left = this.#primary();
    if (this.#eat('==')) return left === this.#primary();
    if (this.#eat('!=')) return left !== this.#primary();
    return left;
  }

  #primary(): unknown {
    this.skipSpace();
    const rest = this.#s.slice(this.#i);
    if (rest.startsWith('(')) {
      this.#i++;
      const v = this.ternary();
      this.#expect(')');
      return v;
    }
    if (rest.startsWith('"')) {
      const end = closingQuote(this.#s, this.#i);
      const body = this.#s.slice(this.#i + 1, end);
      this.#i = end + 1;
      return String(evaluateTemplate(body, this.#ctx));
    }
    const num = /^-?\d+(\.\d+)?/.exec(rest);
    if (num) {
      this.#i += num[0].length;
      return Number(num[0]);
    }
    const ident = /^[A-Za-z_][\w-]*/.exec(rest);
    if (!ident) throw new Error(`unsupported expression at ${this.#i}: ${this.#s}`);
    this.#i += ident[0].length;
    const name = ident[0];
    if (name === 'true' || name === 'false') return name === 'true';
    if (this.#eat('(')) {
      const arg = this.ternary();
      this.#expect(')');
      if (name === 'tostring') return String(arg);
      throw new Error(`unsupported function ${name}() in ${this.#s}`);
    }
    const path = [name];
    while (this.#s[this.#i] === '.') {
      this.#i++;
      const seg = /^[A-Za-z_][\w-]*/.exec(this.#s.slice(this.#i));
      if (!seg) throw new Error(`bad traversal in ${this.#s}`);
      path.push(seg[0]);
      this.#i += seg[0].length;
    }
    const [head, a, b] = path;
    if (head === 'var' && a && path.length === 2) return this.#ctx.variable(a);
    if (head === 'local' && a && path.length === 2) return this.#ctx.local(a);
    if (head && a && b && path.length === 3) return this.#ctx.attribute(`${head}.${a}`, b);
    throw new Error(`unsupported reference ${path.join('.')} in ${this.#s}`);
  }
}
