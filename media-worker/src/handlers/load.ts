/**
 * `loadHandler(spec)`: the worker's `HANDLER` setting. `echo` (the default), `tone`, `assistant` (offline:
 * Flite and pocketsphinx) and `openai` (the OpenAI Realtime API, with OPENAI_API_KEY) name the
 * shipped demos; anything else is a path (resolved from the current directory) to the user's
 * module, whose default export, or named export `handler`, is a Handler (made with
 * `replyOnPause(...)` or `stream(...)`). `.ts` modules load directly on Node 24 (type stripping),
 * as do `.js` and `.mjs`. Failures say which file and what to change, since this runs at start-up
 * where a vague error costs the most.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Handler } from './types.ts';

export const DEMO_HANDLERS = ['echo', 'tone', 'assistant', 'openai'] as const;

export class HandlerLoadError extends Error {
  override name = 'HandlerLoadError';
}

export async function loadHandler(spec = 'echo'): Promise<Handler> {
  const name = spec.trim() || 'echo';
  if (name === 'echo') return (await import('./echo.ts')).default;
  if (name === 'tone') return (await import('./tone.ts')).default;
  if (name === 'assistant') return loadDemo('assistant', () => import('./assistant/index.ts'));
  if (name === 'openai') return loadDemo('openai', () => import('./openai.ts'));

  const path = resolve(process.cwd(), name);
  const info = await stat(path).catch(() => undefined);
  if (!info) {
    throw new HandlerLoadError(
      `handler module not found: ${path} (HANDLER=${JSON.stringify(spec)}; use ${DEMO_HANDLERS.map((d) => `"${d}"`).join(' or ')} for a demo, or a path to your module)`,
    );
  }
  if (!info.isFile()) throw new HandlerLoadError(`handler module ${path} is not a file`);

  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new HandlerLoadError(`handler module ${path} failed to load: ${message}`, { cause: err });
  }

  const [exportName, value] = mod['default'] !== undefined ? ['default', mod['default']] : ['handler', mod['handler']];
  if (value === undefined) {
    throw new HandlerLoadError(
      `handler module ${path} exports no handler: add \`export default replyOnPause(...)\` (or \`export const handler = ...\`)`,
    );
  }
  if (!isHandler(value)) {
    const hint =
      typeof value === 'function'
        ? 'it is a plain function: wrap it, e.g. `export default replyOnPause(yourFunction)` or `stream(yourFunction)`'
        : `got ${value === null ? 'null' : typeof value}; build it with replyOnPause(...) or stream(...)`;
    throw new HandlerLoadError(`handler module ${path}: export "${exportName}" is not a handler (${hint})`);
  }
  return value;
}

/** A shipped demo whose set-up can fail (a missing API key): the error says which demo and what to set. */
async function loadDemo(name: string, load: () => Promise<{ default: Handler }>): Promise<Handler> {
  try {
    return (await load()).default;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new HandlerLoadError(`HANDLER=${name}: ${message}`, { cause: err });
  }
}

/** A Handler as built by replyOnPause() or stream(). */
export function isHandler(x: unknown): x is Handler {
  if (typeof x !== 'object' || x === null) return false;
  const h = x as { kind?: unknown; fn?: unknown; options?: unknown };
  return (h.kind === 'reply-on-pause' || h.kind === 'stream') && typeof h.fn === 'function' && typeof h.options === 'object' && h.options !== null;
}
