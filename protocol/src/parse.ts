import { z } from 'zod';

/** The outcome of parsing untrusted text: the typed value, or an error that says what was wrong. */
export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

export function parseJson<T>(schema: z.ZodType<T>, text: string, what: string): ParseResult<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, error: `${what}: not JSON` };
  }
  const r = schema.safeParse(raw);
  return r.success ? { ok: true, value: r.data } : { ok: false, error: `${what}: ${z.prettifyError(r.error)}` };
}

