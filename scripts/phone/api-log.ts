/**
 * The request log of a local fake of a provider's REST API (scripts/stack/*-api-fake.ts):
 * `GET {apiUrl}/__requests` answers every request it received, in order, as
 * `{ method, path, authorization, form: [name, value][] }` (Twilio) or `{ ..., body: {...} }`
 * (Telnyx, Plivo). The simulator reads it to learn what the edge asked the provider to do.
 */
export interface ApiRequest {
  method: string;
  /** The path as sent (percent-encoding kept). */
  path: string;
  /** The form or JSON body's fields as strings (the last value of a repeated form field). */
  fields: Record<string, string>;
  /** The log entry as the fake wrote it. */
  entry: Record<string, unknown>;
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const str = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v));

function normalize(entry: unknown): ApiRequest | null {
  if (!isObject(entry) || typeof entry.method !== 'string' || typeof entry.path !== 'string') return null;
  const fields: Record<string, string> = {};
  if (Array.isArray(entry.form)) {
    for (const pair of entry.form) if (Array.isArray(pair) && typeof pair[0] === 'string') fields[pair[0]] = str(pair[1]);
  }
  if (isObject(entry.body)) for (const [k, v] of Object.entries(entry.body)) if (v !== undefined && v !== null) fields[k] = str(v);
  return { method: entry.method.toUpperCase(), path: entry.path, fields, entry };
}

/** The whole log; rejects with a clear message when `apiUrl` is not such a fake. */
export async function readApiLog(apiUrl: string, signal?: AbortSignal): Promise<Array<ApiRequest | null>> {
  const url = `${apiUrl.replace(/\/+$/, '')}/__requests`;
  let res: Response;
  try {
    res = await fetch(url, { signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(5000)]) : AbortSignal.timeout(5000) });
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw new Error(`GET ${url} failed: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`);
  }
  const text = await res.text();
  let log: unknown;
  try {
    log = JSON.parse(text);
  } catch {
    log = undefined;
  }
  if (!res.ok || !Array.isArray(log)) throw new Error(`GET ${url} answered ${res.status} without a request log: ${apiUrl} is not a local fake provider API (scripts/stack/*-api-fake.ts)`);
  return log.map(normalize);
}

/**
 * Polls the log every `intervalMs` and hands each new entry (from index `cursor` on) to `onRequest`
 * once. A log that shrank (the fake restarted) is read again from its start.
 */
export class ApiLogPoller {
  #cursor: number;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #warned = false;
  readonly #abort = new AbortController();

  readonly #apiUrl: string;
  readonly #onRequest: (r: ApiRequest, index: number) => void;
  readonly #log: (line: string) => void;
  readonly #intervalMs: number;

  constructor(o: { apiUrl: string; cursor: number; onRequest: (r: ApiRequest, index: number) => void; log?: (line: string) => void; intervalMs?: number }) {
    this.#apiUrl = o.apiUrl;
    this.#cursor = o.cursor;
    this.#onRequest = o.onRequest;
    this.#log = o.log ?? (() => {});
    this.#intervalMs = o.intervalMs ?? 100;
  }

  get cursor(): number {
    return this.#cursor;
  }

  start(): this {
    const tick = async () => {
      await this.poll();
      if (!this.#stopped) this.#timer = setTimeout(tick, this.#intervalMs);
    };
    this.#timer = setTimeout(tick, 0);
    return this;
  }

  async poll(): Promise<void> {
    let entries;
    try {
      entries = await readApiLog(this.#apiUrl, this.#abort.signal);
    } catch (err) {
      if (!this.#stopped && !this.#warned) this.#log(`provider API log: ${(err as Error).message} (still polling)`);
      this.#warned = true;
      return;
    }
    if (this.#stopped) return;
    if (entries.length < this.#cursor) this.#cursor = 0;
    for (; this.#cursor < entries.length && !this.#stopped; this.#cursor++) {
      const r = entries[this.#cursor];
      if (r) this.#onRequest(r, this.#cursor);
    }
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#abort.abort(new Error('stopped'));
  }
}
