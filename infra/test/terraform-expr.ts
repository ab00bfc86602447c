/**
 * A small evaluator for the subset of Terraform expressions the tests need to compute concrete
 * values offline (what the worker's environment will be, whether a variable's validation accepts
 * a value): string templates with `${...}`, string/number/bool/list literals, `var.x`, `local.x`,
 * resource attributes (from a resolver; also `type.name[0].attr`), `+ - * /`,
 * `==`/`!=`/`<`/`<=`/`>`/`>=`, `&&`/`||`/`!`, `cond ? a : b`, parentheses and the functions in
 * FUNCTIONS (`can()` is special: see below).
 * Anything else throws, naming it.
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

/**
 * A Terraform runtime error (a `regex()` without a match, say): what `can()` turns into false.
 * Anything the evaluator does not support throws a plain Error, which `can()` passes on, so an
 * unsupported expression fails the test instead of reading as "invalid".
 */
export class TerraformEvalError extends Error {}

/** Terraform's quoted-string escapes (the expression text keeps them as written). */
function unescape(text: string): string {
  return text.replace(/\\(["\\nrt])/g, (_, c: string) => ({ n: '\n', r: '\r', t: '\t' })[c] ?? c).replace(/\$\$\{/g, '${');
}

const FUNCTIONS: Record<string, (...args: unknown[]) => unknown> = {
  tostring: (v) => String(v),
  coalesce: (...vs) => vs.find((v) => v !== null && v !== undefined && v !== '') ?? null,
  startswith: (s, p) => String(s).startsWith(String(p)),
  endswith: (s, p) => String(s).endsWith(String(p)),
  contains: (list, v) => (list as unknown[]).includes(v),
  length: (v) => (typeof v === 'string' || Array.isArray(v) ? v.length : Object.keys(v as object).length),
  floor: (v) => Math.floor(Number(v)),
  split: (sep, s) => String(s).split(String(sep)),
  concat: (...lists) => (lists as unknown[][]).flat(1),
  regex: (pattern, s) => {
    // RE2 and JavaScript agree on the character classes, anchors and counts used here.
    const m = new RegExp(String(pattern)).exec(String(s));
    if (!m) throw new TerraformEvalError(`regex ${String(pattern)} does not match ${JSON.stringify(s)}`);
    return m.length > 1 ? m.slice(1) : m[0];
  },
};

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

  #bool(v: unknown, op: string): boolean {
    if (typeof v !== 'boolean') throw new Error(`operand of ${op} is not a bool in ${this.#s}`);
    return v;
  }

  ternary(): unknown {
    const cond = this.#or();
    if (!this.#eat('?')) return cond;
    const a = this.ternary();
    this.#expect(':');
    const b = this.ternary();
    return this.#bool(cond, '?') ? a : b;
  }

  // Terraform evaluates both operands of || and && (no short-circuit), so both are parsed and
  // evaluated here too: an error in either is an error of the whole expression.
  #or(): unknown {
    let left = this.#and();
    while (this.#eat('||')) {
      const right = this.#and();
      left = this.#bool(left, '||') || this.#bool(right, '||');
    }
    return left;
  }

  #and(): unknown {
    let left = this.#comparison();
    while (this.#eat('&&')) {
      const right = this.#comparison();
      left = this.#bool(left, '&&') && this.#bool(right, '&&');
    }
    return left;
  }

  #comparison(): unknown {
    const left = this.#additive();
    if (this.#eat('==')) return left === this.#additive();
    if (this.#eat('!=')) return left !== this.#additive();
    for (const op of ['<=', '>=', '<', '>'] as const) {
      if (!this.#eat(op)) continue;
      const [a, b] = [this.#number(left, op), this.#number(this.#additive(), op)];
      return op === '<=' ? a <= b : op === '>=' ? a >= b : op === '<' ? a < b : a > b;
    }
    return left;
  }

  #number(v: unknown, op: string): number {
    if (typeof v !== 'number') throw new Error(`operand of ${op} is not a number in ${this.#s}`);
    return v;
  }

  #additive(): unknown {
    let left = this.#multiplicative();
    for (;;) {
      if (this.#eat('+')) left = this.#number(left, '+') + this.#number(this.#multiplicative(), '+');
      else if (this.#eat('-')) left = this.#number(left, '-') - this.#number(this.#multiplicative(), '-');
      else return left;
    }
  }

  #multiplicative(): unknown {
    let left = this.#unary();
    for (;;) {
      if (this.#eat('*')) left = this.#number(left, '*') * this.#number(this.#unary(), '*');
      else if (this.#eat('/')) left = this.#number(left, '/') / this.#number(this.#unary(), '/');
      else return left;
    }
  }

  #unary(): unknown {
    this.skipSpace();
    if (this.#s[this.#i] === '!' && this.#s[this.#i + 1] !== '=') {
      this.#i++;
      return !this.#bool(this.#unary(), '!');
    }
    return this.#primary();
  }

  #call(name: string): unknown {
    if (name === 'can') return this.#can();
    const args: unknown[] = [];
    // Arguments may end with a comma (HCL allows it), as concat(...)'s do across lines.
    while (!this.#eat(')')) {
      args.push(this.ternary());
      if (!this.#eat(',')) {
        this.#expect(')');
        break;
      }
    }
    const fn = FUNCTIONS[name];
    if (!fn) throw new Error(`unsupported function ${name}() in ${this.#s}`);
    return fn(...args);
  }

  /** `can(expr)`: false when expr raises a Terraform runtime error, true otherwise. */
  #can(): boolean {
    const start = this.#i;
    let ok = true;
    try {
      this.ternary();
    } catch (err) {
      if (!(err instanceof TerraformEvalError)) throw err;
      ok = false;
      this.#i = start;
      this.#skipToClose();
    }
    this.#expect(')');
    return ok;
  }

  /** Moves to the `)` that closes the argument list starting here (skipping strings and nesting). */
  #skipToClose(): void {
    let depth = 0;
    for (; this.#i < this.#s.length; this.#i++) {
      const c = this.#s[this.#i];
      if (c === '"') this.#i = closingQuote(this.#s, this.#i);
      else if (c === '(' || c === '[' || c === '{') depth++;
      else if (c === ')' && depth === 0) return;
      else if (c === ')' || c === ']' || c === '}') depth--;
    }
    throw new Error(`unbalanced parentheses in ${this.#s}`);
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
    if (rest.startsWith('[')) {
      this.#i++;
      const items: unknown[] = [];
      if (!this.#eat(']')) {
        do {
          if (this.#eat(']')) return items; // trailing comma
          items.push(this.ternary());
        } while (this.#eat(','));
        this.#expect(']');
      }
      return items;
    }
    if (rest.startsWith('"')) {
      const end = closingQuote(this.#s, this.#i);
      const body = this.#s.slice(this.#i + 1, end);
      this.#i = end + 1;
      return splitTemplate(body)
        .map((p) => (p.expr ? String(evaluateExpression(p.text, this.#ctx)) : unescape(p.text)))
        .join('');
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
    if (name === 'null') return null;
    if (this.#eat('(')) return this.#call(name);
    const path = [name];
    while (this.#s[this.#i] === '.') {
      this.#i++;
      const seg = /^[A-Za-z_][\w-]*/.exec(this.#s.slice(this.#i));
      if (!seg) throw new Error(`bad traversal in ${this.#s}`);
      path.push(seg[0]);
      this.#i += seg[0].length;
    }
    // One instance of a counted resource: `type.name[0].attr`.
    const index = path.length === 2 ? /^\[(\d+)\]\.([A-Za-z_][\w-]*)/.exec(this.#s.slice(this.#i)) : null;
    if (index) {
      this.#i += index[0].length;
      return this.#ctx.attribute(`${path[0]}.${path[1]}[${index[1]}]`, index[2] ?? '');
    }
    const [head, a, b] = path;
    if (head === 'var' && a && path.length === 2) return this.#ctx.variable(a);
    if (head === 'local' && a && path.length === 2) return this.#ctx.local(a);
    if (head && a && b && path.length === 3) return this.#ctx.attribute(`${head}.${a}`, b);
    throw new Error(`unsupported reference ${path.join('.')} in ${this.#s}`);
  }
}
