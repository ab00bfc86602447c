/**
 * Parses an `application/x-www-form-urlencoded` body (Twilio's webhooks) with the WHATWG rules
 * (`+` is a space, percent-escapes decode as UTF-8). A name seen once maps to its string; a repeated
 * name maps to all its values in order, since the signature covers every value.
 * The result has no prototype, so names such as `__proto__` or `constructor` are ordinary keys.
 */
export function parseForm(body: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null);
  // URLSearchParams drops one leading `?` (it is meant for query strings); a form body keeps it as
  // part of the first name, so a leading `&` (an empty, ignored pair) protects it.
  const fields = new URLSearchParams(body.startsWith('?') ? `&${body}` : body);
  for (const [name, value] of fields) {
    const seen = out[name];
    if (seen === undefined) out[name] = value;
    else if (Array.isArray(seen)) seen.push(value);
    else out[name] = [seen, value];
  }
  return out;
}

/** The string fields of a parsed webhook (a loose schema keeps unknown fields as unknown): what a markup's dialOutcome reads. */
export function stringFields(params: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) if (typeof v === 'string') out[k] = v;
  return out;
}
