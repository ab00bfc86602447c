import type { z } from 'zod';
import { badGateway } from '../errors.ts';

/**
 * How long one TURN provider may take to answer, headers and body, before the edge gives up on it
 * and asks the next one in TURN_PROVIDER. Providers answer in well under 500 ms when healthy; a
 * browser waits for this before it can even start ICE, so the bound is tight.
 */
export const UPSTREAM_TIMEOUT_MS = 2_000;

/** How much of an upstream error body goes into the 502 message. */
const SNIPPET_CHARS = 200;

export type ProviderName = 'cloudflare' | 'twilio';

export interface ProviderCall<S extends z.ZodType> {
  provider: ProviderName;
  url: string;
  init: RequestInit;
  /** Schema of the 2xx body; anything else is a 502. */
  schema: S;
  /** Values that must never appear in an error message (API tokens, auth tokens). */
  secrets: readonly string[];
  fetchFn: typeof fetch;
  timeoutMs: number;
}

/**
 * Calls a TURN provider and returns its validated 2xx JSON body. Every failure becomes a 502
 * `upstream_failed` that names the provider and what went wrong: non-2xx status (with a short,
 * secret-redacted excerpt of the body), network error, timeout (the whole exchange, body
 * included, is bounded by `AbortSignal.timeout`), a body that is not JSON, or JSON of the wrong shape.
 */
export async function callProvider<S extends z.ZodType>(call: ProviderCall<S>): Promise<z.output<S>> {
  // Called as a plain function, never as `call.fetchFn(...)`: workerd's fetch throws
  // "Illegal invocation" when invoked with a foreign `this`.
  const { provider, timeoutMs, fetchFn } = call;
  const redact = (text: string) => redactSecrets(text, call.secrets);
  let status: number;
  let text: string;
  try {
    const res = await fetchFn(call.url, { ...call.init, signal: AbortSignal.timeout(timeoutMs) });
    status = res.status;
    text = await res.text();
  } catch (err) {
    if (isTimeout(err)) throw badGateway(`TURN provider ${provider} did not answer within ${timeoutMs} ms`);
    throw badGateway(`TURN provider ${provider} unreachable: ${redact(errorMessage(err))}`);
  }
  if (status < 200 || status > 299) {
    const snippet = redact(text.replace(/\s+/g, ' ').trim()).slice(0, SNIPPET_CHARS);
    throw badGateway(`TURN provider ${provider} answered ${status}: ${snippet || '(empty body)'}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw badGateway(`TURN provider ${provider} answered ${status} with a body that is not JSON`);
  }
  const parsed = call.schema.safeParse(json);
  if (!parsed.success) {
    // Zod issue messages name paths and expected types only, never the values (which may be credentials).
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : 'body';
    throw badGateway(`TURN provider ${provider} answered ${status} with an unexpected body: ${where}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/**
 * AbortSignal.timeout rejects fetch (and a pending body read) with a DOMException named
 * TimeoutError; some runtimes surface it as AbortError or wrap it in `cause`. The only abort
 * signal here is the timeout, so any abort means it fired.
 */
function isTimeout(err: unknown, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > 3) return false;
  const { name, cause } = err as { name?: unknown; cause?: unknown };
  return name === 'TimeoutError' || name === 'AbortError' || isTimeout(cause, depth + 1);
}

function errorMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // undici wraps the real reason ("ECONNREFUSED ...") in `cause` under a bare "fetch failed".
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}

/** Replaces every occurrence of each secret with `[redacted]`. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (!s) continue;
    out = out.split(s).join('[redacted]');
  }
  return out;
}
