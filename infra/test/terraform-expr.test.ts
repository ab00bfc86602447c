import { describe, expect, it } from 'vitest';
import { evaluateExpression, type EvalContext } from './terraform-expr.ts';

const vars: Record<string, unknown> = { tag: 'v1.2', n: 5, list: ['a', 'b'] };
const ctx: EvalContext = {
  variable: (name) => vars[name],
  local: () => {
    throw new Error('no locals');
  },
  attribute: () => {
    throw new Error('no attributes');
  },
};
const ev = (src: string) => evaluateExpression(src, ctx);

describe('Terraform expression evaluator', () => {
  it('evaluates validation-style conditions: can(regex()), boolean and comparison operators', () => {
    expect(ev('can(regex("^v[0-9]+\\\\.[0-9]+$", var.tag))')).toBe(true);
    expect(ev('can(regex("^sha256:", var.tag))')).toBe(false);
    expect(ev('var.tag != "latest" && !endswith(var.tag, ":latest")')).toBe(true);
    expect(ev('var.n >= 1 && var.n * 1000 > 4000 && floor(var.n) == var.n')).toBe(true);
    expect(ev('var.n - 1 < 4 || contains(["x", "y"], var.tag)')).toBe(false);
    expect(ev('contains(var.list, "b") ? "yes" : "no"')).toBe('yes');
  });

  it('unescapes quoted strings inside expressions as Terraform does', () => {
    expect(ev('"a\\\\.b"')).toBe('a\\.b');
    expect(ev('"say \\"hi\\" ${var.tag}"')).toBe('say "hi" v1.2');
  });

  it('lets can() swallow only runtime errors, never an expression it cannot evaluate', () => {
    expect(() => ev('can(lookup(var.list, 1))')).toThrow(/unsupported function lookup/);
    expect(() => ev('can(local.x)')).toThrow(/no locals/);
    expect(ev('can(regex("z", var.tag)) || can(regex("v", var.tag))')).toBe(true);
  });
});
